/* One SSE stream's bytes and its direct path; see sse_stream.h. The direct
 * path saves what MHD pays per delivery to a parked stream: the resume
 * (an eventfd write), its epoll add and remove, and the state machine
 * around one send. The response is close-delimited, so bytes written here
 * need no framing that MHD would have to continue. */
#include "sse_stream.h"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"
#include "server.h"

/* One send's worth: a batch of events due at once (a backlog, a burst). */
#define DIRECT_MAX 16384
/* Streams taken off the ready queue at once: one lock per batch. */
#define BATCH 32
/* Queued streams that make a publish wake the helper: below, the walk is
 * short and a wake-up would cost more than it saves. */
#define HELPER_MIN 256

static const char preamble[] = "retry: 2000\n\n";
static const char ping[] = ": ping\n\n";

void pl_sse_ready_init(pl_sse_ready *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_cond_init(&r->idle, NULL);
}

void pl_sse_ready_push(pl_sse_ready *r, pl_req *q)
{
    q->u.sse.ready_next = NULL;
    pthread_mutex_lock(&r->lock);
    if (r->tail)
        r->tail->u.sse.ready_next = q;
    else
        r->head = q;
    r->tail = q;
    r->len++;
    pthread_mutex_unlock(&r->lock);
}

/* Up to BATCH streams off the queue, as a list; lock held. */
static pl_req *take_batch(pl_sse_ready *r)
{
    pl_req *first = r->head, *last = first;
    size_t n = 1;
    if (!first)
        return NULL;
    for (; n < BATCH && last->u.sse.ready_next; n++)
        last = last->u.sse.ready_next;
    if (!(r->head = last->u.sse.ready_next))
        r->tail = NULL;
    last->u.sse.ready_next = NULL;
    r->len -= n;
    r->busy++;
    return first;
}

/* Writes a batch with the lock let go; the writes may queue more. */
static void write_batch(pl_sse_ready *r, pl_req *q)
{
    pthread_mutex_unlock(&r->lock);
    while (q) {
        pl_req *next = q->u.sse.ready_next; /* q may be queued again */
        pl_sse_direct_write(q);
        q = next;
    }
    pthread_mutex_lock(&r->lock);
    if (--r->busy == 0 && !r->head)
        pthread_cond_broadcast(&r->idle);
}

static void *helper_main(void *ud)
{
    pl_sse_ready *r = ud;
    pthread_mutex_lock(&r->lock);
    while (!r->quit) {
        pl_req *q = take_batch(r);
        if (q)
            write_batch(r, q);
        else
            pthread_cond_wait(&r->work, &r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int pl_sse_ready_start(pl_sse_ready *r)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return 0;
    int rc = pthread_create(&r->helper, NULL, helper_main, r);
    if (rc != 0)
        return -rc;
    r->helper_on = true;
    return 0;
}

void pl_sse_ready_stop(pl_sse_ready *r)
{
    pthread_mutex_lock(&r->lock);
    bool on = r->helper_on;
    r->quit = true;
    r->helper_on = false;
    pthread_cond_signal(&r->work);
    pthread_mutex_unlock(&r->lock);
    if (on)
        pthread_join(r->helper, NULL);
}

void pl_sse_ready_drain(pl_sse_ready *r)
{
    pl_req *q;
    pthread_mutex_lock(&r->lock);
    if (r->helper_on && r->len >= HELPER_MIN)
        pthread_cond_signal(&r->work);
    while ((q = take_batch(r)))
        write_batch(r, q);
    /* What the helper took is part of this publish: done when we return. */
    while (r->busy)
        pthread_cond_wait(&r->idle, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

/* Copies as much of the current message as fits; true when it is done. */
static bool copy_current(pl_req *q, char *buf, size_t max, size_t *n)
{
    pl_msg *m = q->u.sse.cur;
    size_t left = m->sse_len - q->u.sse.cur_off, take = max - *n;
    if (take > left)
        take = left;
    memcpy(buf + *n, m->sse + q->u.sse.cur_off, take);
    *n += take;
    q->u.sse.cur_off += take;
    if (q->u.sse.cur_off < m->sse_len)
        return false;
    atomic_store(&q->u.sse.cursor, m->id);
    pl_stats_delivered(q->ts, m->ts, pl_clock_real_us());
    pl_msg_unref(m);
    q->u.sse.cur = NULL;
    q->u.sse.cur_off = 0;
    pl_stat_add(&q->ts->messages_out, 1);
    return true;
}

size_t pl_sse_fill(pl_req *q, char *buf, size_t max)
{
    size_t n = 0;
    bool gap;
    if (!q->u.sse.started && max >= sizeof preamble) {
        memcpy(buf, preamble, sizeof preamble - 1);
        n = sizeof preamble - 1;
        q->u.sse.started = true;
    }
    if (atomic_exchange(&q->u.sse.ping_due, false) && max - n >= sizeof ping) {
        memcpy(buf + n, ping, sizeof ping - 1);
        n += sizeof ping - 1;
    }
    while (n < max) {
        if (!q->u.sse.cur) {
            if (!(q->u.sse.cur = pl_room_next(q->room, atomic_load(&q->u.sse.cursor), &gap)))
                break;
            if (gap)
                pl_stat_add(&q->ts->gaps, 1);
        }
        if (!copy_current(q, buf, max, &n))
            break;
    }
    return n;
}

void pl_sse_count_head(pl_req *q)
{
    if (q->u.sse.head_counted)
        return;
    uint64_t sent = pl_req_wire_out(q);
    sent = sent > q->tcp_out_start ? sent - q->tcp_out_start : 0;
    if (sent > q->bytes_counted) {
        pl_stat_add(&q->ts->bytes_out, sent - q->bytes_counted);
        q->bytes_counted = sent;
    }
    q->u.sse.head_counted = true;
}

size_t pl_sse_pend_take(pl_req *q, char *buf, size_t max)
{
    size_t n = q->u.sse.pend_len - q->u.sse.pend_off;
    if (n > max)
        n = max;
    memcpy(buf, q->u.sse.pend + q->u.sse.pend_off, n);
    q->u.sse.pend_off += n;
    if (q->u.sse.pend_off == q->u.sse.pend_len)
        pl_sse_pend_free(q);
    return n;
}

void pl_sse_pend_free(pl_req *q)
{
    free(q->u.sse.pend);
    q->u.sse.pend = NULL;
    q->u.sse.pend_len = q->u.sse.pend_off = 0;
}

/* Keeps what the socket did not take for MHD to send. Without memory the
 * stream cannot go on in order: it ends (the client resumes from its
 * last id). */
static void keep_tail(pl_req *q, const char *p, size_t n)
{
    if (!(q->u.sse.pend = malloc(n))) {
        atomic_store(&q->gone, true);
        return;
    }
    memcpy(q->u.sse.pend, p, n);
    q->u.sse.pend_len = n;
    q->u.sse.pend_off = 0;
}

/* Parking again from the direct path: the connection is still suspended. */
static bool park_direct(pl_waiter *w)
{
    pl_req *q = pl_req_of_waiter(w);
    return !atomic_load(&q->srv->stopping) && !atomic_load(&q->gone);
}

/* Sends `n` bytes at once; false when the stream must go back to MHD
 * (the rest is kept, or the client is gone). */
static bool send_due(pl_req *q, const char *buf, size_t n)
{
    if (!q->u.sse.direct) {
        /* Small events must not wait for the client's delayed ACK. */
        int one = 1;
        setsockopt(q->u.sse.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        q->u.sse.direct = true;
        pl_sse_count_head(q);
    }
    if (!q->srv->cfg.no_coalesce && pl_coalesce_before_write(q->u.sse.fd, &q->u.sse.coalesce) == 1)
        pl_stat_add(&q->ts->coalesced, 1);
    ssize_t w = send(q->u.sse.fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        atomic_store(&q->gone, true);
        return false;
    }
    size_t sent = w > 0 ? (size_t)w : 0;
    q->bytes_counted += sent;
    pl_stat_add(&q->ts->bytes_out, sent);
    if (sent == n)
        return true;
    keep_tail(q, buf + sent, n - sent);
    return false;
}

void pl_sse_direct_write(pl_req *q)
{
    char buf[DIRECT_MAX];
    for (;;) {
        /* sse_read ends the stream in each of these cases. */
        if (atomic_load(&q->gone) || atomic_load(&q->srv->stopping) ||
            pl_room_generation(q->room) != q->u.sse.generation)
            break;
        size_t n = pl_sse_fill(q, buf, sizeof buf);
        if (n == 0) {
            q->waiter.park = park_direct;
            if (pl_room_wait(q->room, atomic_load(&q->u.sse.cursor), &q->waiter))
                return; /* parked again: the next owner writes */
            continue;
        }
        if (!send_due(q, buf, n))
            break;
    }
    MHD_resume_connection(q->conn);
}
