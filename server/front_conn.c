/* The long-poll front's connections (see front_conn.h): accepting them,
 * their timers, closing one, handing one to MHD, and the head of every
 * answer. Calls nothing in lp_front.c. */
#include "front_conn.h"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"
#include "server.h"
#include "wire.h"

/* Out of descriptors, accepting pauses this long. */
#define ACCEPT_PAUSE_US 100000

void pl_fc_timer_set(pl_fc *c, int which, int64_t due)
{
    pl_list *head = &c->f->timers[which], *at = head->prev;
    pl_list_remove(&c->timer);
    c->due_us = due;
    /* Mostly appended: deadlines are mostly now plus the same timeout. */
    while (at != head && pl_list_entry(at, pl_fc, timer)->due_us > due)
        at = at->prev;
    pl_list_push_front(at, &c->timer);
}

/* Freed after the current batch of events, which may still name it: a
 * connection answered (and closed) by one event can have the next. */
static void conn_free(pl_fc *c)
{
    pl_list_remove(&c->timer);
    free(c->out);
    c->out = NULL;
    c->f->owned--;
    c->state = FC_GONE;
    pl_list_push(&c->f->gone, &c->timer);
}

void pl_fc_free_gone(pl_front *f)
{
    pl_list_each(it, &f->gone)
    {
        pl_list_remove(it);
        free(pl_list_entry(it, pl_fc, timer));
    }
}

void pl_fc_close(pl_fc *c)
{
    close(c->fd);
    conn_free(c);
}

/* Off our epoll and to MHD, with nothing read: MHD serves it from its
 * first byte (and closes it when it cannot take it). */
void pl_fc_hand_over(pl_fc *c)
{
    pl_front *f = c->f;
    epoll_ctl(f->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (atomic_load(&f->quit)) {
        close(c->fd);
    } else { /* MHD closes it when it cannot take it */
        pl_conn_handed(&f->srv->conns, c->fd, c->sent, c->in);
        MHD_add_connection(f->srv->mhd, c->fd, (struct sockaddr *)&c->addr, c->addrlen);
    }
    conn_free(c);
}

/* What MHD puts first in its answers, so a client sees one server. */
size_t pl_fc_head(pl_front *f, char *buf, size_t cap, size_t body_len)
{
    time_t now = time(NULL);
    if (now != f->date_s) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(f->date, sizeof f->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        f->date_s = now;
    }
    int n = snprintf(buf, cap,
                     "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: application/json\r\n"
                     "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
                     f->date, body_len);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The client left (or reset) between requests: bytes it sent after its
 * last request count as a bad head, as conn.c counts them for MHD's. */
void pl_fc_closed_between_requests(pl_fc *c)
{
    pl_wire w;
    if (pl_wire_read(c->fd, &w) == 0 && w.in > c->in)
        pl_stat_add(&c->f->srv->stats.errors[PL_ERR_HTTP_BAD_HEAD], 1);
    pl_fc_close(c);
}

/* Connections one MHD would refuse are not kept either. */
static bool at_limit(pl_front *f)
{
    int mhd = atomic_load(&f->srv->http_open);
    return (size_t)f->owned + (size_t)mhd >= f->srv->cfg.max_connections;
}

/* Out of descriptors: the listening socket (level-triggered) would wake
 * us at once again, so it leaves the epoll set for ACCEPT_PAUSE_US. */
static void pause_accepting(pl_front *f)
{
    pl_warn("front: accept: %s; pausing %d ms", strerror(errno), ACCEPT_PAUSE_US / 1000);
    epoll_ctl(f->ep, EPOLL_CTL_DEL, f->lfd, NULL);
    f->paused_until_us = pl_clock_mono_us() + ACCEPT_PAUSE_US;
}

/* Back in the epoll set once the pause is over; the epoll timeout then. */
int pl_fc_resume_accepting(pl_front *f, int timeout)
{
    if (!f->paused_until_us)
        return timeout;
    int64_t left = f->paused_until_us - pl_clock_mono_us();
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &f->listen_tag};
    if (left > 0)
        return timeout >= 0 && timeout < left / 1000 + 1 ? timeout : (int)(left / 1000 + 1);
    f->paused_until_us = 0;
    epoll_ctl(f->ep, EPOLL_CTL_ADD, f->lfd, &lev);
    return timeout;
}

void pl_fc_accept_all(pl_front *f)
{
    for (;;) {
        struct sockaddr_storage a;
        socklen_t alen = sizeof a;
        int fd = accept4(f->lfd, (struct sockaddr *)&a, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(f);
            else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                pl_debug("front: accept: %s", strerror(errno));
            return;
        }
        pl_fc *c = atomic_load(&f->quit) || atomic_load(&f->srv->stopping) || at_limit(f)
                       ? NULL
                       : calloc(1, sizeof *c);
        if (c)
            *c = (pl_fc){.f = f, .fd = fd, .addr = a, .addrlen = alen};
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.ptr = c};
        if (!c || epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free(c);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        f->owned++;
        pl_fc_timer_set(c, PL_FC_IDLE_TIMER, pl_clock_mono_us() + f->idle_us);
    }
}
