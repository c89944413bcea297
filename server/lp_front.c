/* The long-poll front; see lp_front.h. A connection here is IDLE between
 * requests, PARKED while its poll waits and WRITING while the socket holds
 * back part of an answer. Sockets are edge-triggered, so each event
 * re-reads what is there; a connection is only ever touched by this
 * thread, but for `wake`, which only queues it. The connections' own
 * bookkeeping is front_conn.c's. */
#include "lp_front.h"
#include "front_conn.h"
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "clock.h"
#include "log.h"
#include "page.h"
#include "poll_head.h"
#include "server.h"
#include "wire.h"

#define EVENTS 64
/* A server stopping gives parked polls this long to be answered. */
#define QUIT_GRACE_US 3000000

static void next_request(pl_fc *c);

/* The answer is out. A connection with nothing more announced waits for
 * its next event, idle: no read to find what an event would tell. */
static void answered(pl_fc *c)
{
    if (c->more || c->peer_left) {
        next_request(c);
        return;
    }
    c->state = FC_IDLE;
    pl_fc_timer_set(c, PL_FC_IDLE_TIMER, pl_clock_mono_us() + c->f->idle_us);
}

/* Writes what is left of the answer; then the connection is idle again. */
static void flush(pl_fc *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN)
            return; /* EPOLLOUT brings us back */
        if (n <= 0) {
            pl_fc_close(c);
            return;
        }
        pl_stat_add(&c->ts->bytes_out, (uint64_t)n);
        c->sent += (uint64_t)n;
        c->out_off += (size_t)n;
    }
    free(c->out);
    c->out = NULL;
    answered(c);
}

/* Answers the poll with the page after its cursor, in one write when the
 * socket takes it. */
static void answer(pl_fc *c)
{
    pl_front *f = c->f;
    pl_transport_stats *ts = c->ts;
    size_t blen = 0;
    char *body = pl_page_json(c->room, c->room_name, c->since, c->limit, ts, &blen);
    char h[256];
    size_t hlen = body ? pl_fc_head(f, h, sizeof h, blen) : 0;
    if (!hlen) {
        free(body);
        pl_fc_close(c); /* out of memory: the client retries */
        return;
    }
    struct iovec iov[2] = {{h, hlen}, {body, blen}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
        free(body);
        pl_fc_close(c);
        return;
    }
    size_t sent = n > 0 ? (size_t)n : 0;
    pl_stat_add(&ts->bytes_out, sent);
    c->sent += sent;
    if (sent == hlen + blen) {
        free(body);
        answered(c);
        return;
    }
    /* The rest waits in one buffer for EPOLLOUT. */
    c->out_len = hlen + blen - sent;
    c->out_off = 0;
    c->out = malloc(c->out_len);
    if (!c->out) {
        free(body);
        pl_fc_close(c);
        return;
    }
    size_t from_h = sent < hlen ? hlen - sent : 0;
    memcpy(c->out, h + (hlen - from_h), from_h);
    memcpy(c->out + from_h, body + (blen - (c->out_len - from_h)), c->out_len - from_h);
    free(body);
    c->state = FC_WRITING;
    pl_fc_timer_set(c, PL_FC_IDLE_TIMER, pl_clock_mono_us() + f->idle_us); /* never reads */
}

static bool front_park(pl_waiter *w)
{
    pl_fc *c = (pl_fc *)(void *)((char *)w - offsetof(pl_fc, waiter));
    return !atomic_load(&c->f->srv->stopping);
}

/* A publish (or the shutdown) woke it: queue it for the front thread, and
 * wake that once per batch. Runs under the room's lock, on any thread. */
static void front_wake(pl_waiter *w)
{
    pl_fc *c = (pl_fc *)(void *)((char *)w - offsetof(pl_fc, waiter));
    pl_front *f = c->f;
    uint64_t one = 1;
    pthread_mutex_lock(&f->lock);
    pl_list_push(&f->ready, &c->ready);
    if (!f->kicked) {
        f->kicked = true;
        if (write(f->kick, &one, sizeof one) != sizeof one)
            pl_warn("front: wake-up write failed: %s", strerror(errno));
    }
    pthread_mutex_unlock(&f->lock);
}

/* No longer waiting; whoever woke it left it on the ready list. */
static void unpark(pl_fc *c)
{
    pl_front *f = c->f;
    if (c->state != FC_PARKED)
        return;
    if (!pl_waiter_cancel(c->room, &c->waiter)) {
        pthread_mutex_lock(&f->lock);
        pl_list_remove(&c->ready);
        pthread_mutex_unlock(&f->lock);
    }
    atomic_fetch_sub(&f->srv->stats.long_poll.waiting, 1);
    c->state = FC_IDLE;
}

/* The poll in `ph`, read off the socket: answer it now or park it. */
static void serve(pl_fc *c, const pl_poll_head *ph)
{
    pl_server *srv = c->f->srv;
    int64_t now = pl_clock_mono_us();
    c->ts = ph->longp ? &srv->stats.long_poll : &srv->stats.short_poll;
    pl_stat_add(&c->ts->requests, 1);
    memcpy(c->room_name, ph->room, sizeof c->room_name);
    c->since = ph->since;
    c->limit = (size_t)ph->limit;
    pl_list_remove(&c->timer);
    if (!ph->longp || ph->timeout == 0 || pl_room_last_id(c->room) > c->since ||
        atomic_load(&srv->stopping)) {
        answer(c);
        return;
    }
    if (c->peer_left) {
        pl_fc_close(c); /* nobody to wait for */
        return;
    }
    c->waiter.park = front_park;
    c->waiter.wake = front_wake;
    if (!pl_room_wait(c->room, c->since, &c->waiter)) {
        answer(c); /* a message came in between */
        return;
    }
    c->state = FC_PARKED;
    atomic_fetch_add(&srv->stats.long_poll.waiting, 1);
    pl_fc_timer_set(c, PL_FC_DEADLINE, now + (int64_t)ph->timeout * 1000000);
}

static int open_room(pl_fc *c, const pl_poll_head *ph)
{
    int rc = pl_store_room(c->f->srv->store, ph->room, ph->longp, &c->room);
    if (rc == -ENOENT && !ph->longp) {
        c->room = NULL;
        return 0;
    }
    return rc;
}

/* The next request on the connection, if its bytes are in: ours when it
 * is a plain poll of a room the store has, else MHD's. */
static void next_request(pl_fc *c)
{
    char buf[PL_POLL_HEAD_MAX];
    pl_poll_head ph;
    c->state = FC_IDLE;
    c->more = false;
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_PEEK);
    if (n < 0 && errno == EAGAIN) {
        pl_fc_timer_set(c, PL_FC_IDLE_TIMER, pl_clock_mono_us() + c->f->idle_us);
        return;
    }
    if (n <= 0) {
        pl_fc_closed_between_requests(c);
        return;
    }
    /* The room is found (or, for a long poll, made) before anything is
     * read: a room the store refuses is MHD's to answer. A short poll never
     * makes one; a room nobody used has an empty page. */
    if (!pl_poll_head_parse(buf, (size_t)n, &ph) || open_room(c, &ph) != 0) {
        pl_fc_hand_over(c);
        return;
    }
    if (recv(c->fd, buf, ph.len, 0) != (ssize_t)ph.len) {
        pl_fc_close(c);
        return;
    }
    c->in += ph.len;
    c->more = (size_t)n > ph.len || (size_t)n == sizeof buf;
    serve(c, &ph);
}

/* A parked poll's socket stirred: its client left, or sent more. */
static void parked_event(pl_fc *c)
{
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        unpark(c);
        pl_fc_close(c);
    }
    /* Pipelined bytes wait for the answer; next_request reads them. */
}

static void conn_event(pl_fc *c, uint32_t ev)
{
    if (c->state == FC_GONE)
        return; /* closed by an earlier event of this batch */
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->peer_left = true;
    if (ev & EPOLLIN)
        c->more = true; /* for a busy one; an idle one reads now */
    if (c->state == FC_PARKED) {
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
            parked_event(c);
    } else if (c->state == FC_WRITING) {
        if (ev & (EPOLLERR | EPOLLHUP))
            pl_fc_close(c);
        else if (ev & EPOLLOUT)
            flush(c);
    } else if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
        next_request(c); /* which also tells a reset from a request */
    }
}

/* The polls publishers woke: each is answered with what is there now. */
static void answer_ready(pl_front *f)
{
    uint64_t v;
    pl_list batch;
    if (read(f->kick, &v, sizeof v) < 0 && errno != EAGAIN)
        pl_warn("front: wake-up read failed: %s", strerror(errno));
    pl_list_init(&batch);
    pthread_mutex_lock(&f->lock);
    f->kicked = false;
    pl_list_each(it, &f->ready)
    {
        pl_list_remove(it);
        pl_list_push(&batch, it);
    }
    pthread_mutex_unlock(&f->lock);
    pl_list_each(it, &batch)
    {
        pl_fc *c = pl_list_entry(it, pl_fc, ready);
        pl_list_remove(it);
        atomic_fetch_sub(&f->srv->stats.long_poll.waiting, 1);
        c->state = FC_IDLE;
        answer(c);
    }
}

/* Deadlines: a parked poll answers (an empty page, mostly); an idle
 * connection is closed. Returns the epoll timeout until the next one. */
static int64_t expire_list(pl_list *head, int64_t now)
{
    pl_list *it;
    while ((it = pl_list_first(head))) {
        pl_fc *c = pl_list_entry(it, pl_fc, timer);
        if (c->due_us > now)
            return c->due_us;
        pl_list_remove(it);
        if (c->state == FC_PARKED) {
            unpark(c);
            answer(c);
        } else {
            pl_fc_close(c);
        }
    }
    return INT64_MAX;
}

static int expire(pl_front *f)
{
    int64_t now = pl_clock_mono_us();
    int64_t a = expire_list(&f->timers[PL_FC_DEADLINE], now);
    int64_t b = expire_list(&f->timers[PL_FC_IDLE_TIMER], now);
    int64_t next = a < b ? a : b;
    return next == INT64_MAX ? -1 : (int)((next - now + 999) / 1000);
}

static void *run(void *arg)
{
    pl_front *f = arg;
    struct epoll_event ev[EVENTS];
    for (;;) {
        int timeout = pl_fc_resume_accepting(f, expire(f));
        if (atomic_load(&f->quit)) {
            bool waiting = atomic_load(&f->srv->stats.long_poll.waiting) > 0;
            if (!waiting || pl_clock_mono_us() > f->quit_us)
                break;
            timeout = 10;
        }
        int n = epoll_wait(f->ep, ev, EVENTS, timeout);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == &f->listen_tag)
                pl_fc_accept_all(f);
            else if (ev[i].data.ptr == &f->kick_tag)
                answer_ready(f);
            else
                conn_event(ev[i].data.ptr, ev[i].events);
        }
        pl_fc_free_gone(f);
    }
    return NULL;
}

int pl_front_listen(pl_server *srv, pl_front **out)
{
    pl_addr a;
    int one = 1, rc = -ENOMEM;
    pl_front *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    *f = (pl_front){.srv = srv, .lfd = -1, .ep = -1, .kick = -1};
    pthread_mutex_init(&f->lock, NULL);
    pl_list_init(&f->ready);
    pl_list_init(&f->gone);
    pl_list_init(&f->timers[0]);
    pl_list_init(&f->timers[1]);
    /* MHD's idle timeout (http.c), for the connections held here. */
    int idle = srv->cfg.heartbeat_s * 2 + 5;
    f->idle_us = (int64_t)(idle < 60 ? 60 : idle) * 1000000;
    rc = -EINVAL;
    if (pl_addr_parse(&a, srv->cfg.bind, srv->cfg.http_port) != 0)
        goto fail;
    /* SO_REUSEADDR alone, as MHD would: no second server on this port. */
    f->lfd = socket(pl_addr_family(&a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->lfd < 0 || setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(f->lfd, (struct sockaddr *)&a.ss, a.len) != 0 || listen(f->lfd, 4096) != 0 ||
        getsockname(f->lfd, (struct sockaddr *)&a.ss, &a.len) != 0)
        goto fail_errno;
    srv->http_port = pl_addr_port(&a);
    *out = f;
    return 0;
fail_errno:
    rc = -errno;
fail:
    pl_front_stop(f);
    return rc;
}

int pl_front_run(pl_front *f)
{
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &f->listen_tag};
    struct epoll_event kev = {.events = EPOLLIN, .data.ptr = &f->kick_tag};
    if ((f->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (f->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
        epoll_ctl(f->ep, EPOLL_CTL_ADD, f->lfd, &lev) != 0 ||
        epoll_ctl(f->ep, EPOLL_CTL_ADD, f->kick, &kev) != 0)
        return -errno;
    int rc = pthread_create(&f->thread, NULL, run, f);
    if (rc != 0)
        return -rc;
    f->running = true;
    return 0;
}

void pl_front_stop(pl_front *f)
{
    uint64_t one = 1;
    if (!f)
        return;
    if (f->running) {
        f->quit_us = pl_clock_mono_us() + QUIT_GRACE_US;
        atomic_store(&f->quit, true);
        if (write(f->kick, &one, sizeof one) != sizeof one)
            pl_warn("front: stop write failed: %s", strerror(errno));
        pthread_join(f->thread, NULL);
    }
    for (int i = 0; i < 2; i++) {
        pl_list_each(it, &f->timers[i])
        {
            pl_fc *c = pl_list_entry(it, pl_fc, timer);
            unpark(c);
            pl_fc_close(c);
        }
    }
    pl_fc_free_gone(f);
    if (f->lfd >= 0)
        close(f->lfd);
    if (f->ep >= 0)
        close(f->ep);
    if (f->kick >= 0)
        close(f->kick);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
