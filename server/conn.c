/* The HTTP listener's connections; see conn.h. Heads are timed from the
 * sweep that first saw new bytes on a connection between requests, so an
 * idle keep-alive connection (no bytes) is left to MHD's idle timeout and
 * one that starts a request just before a sweep is not cut. */
#include "conn.h"
#include <linux/sockios.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"
#include "server.h"
#include "wire.h"

enum conn_state {
    WAIT_HEAD, /* between requests: a head may be arriving */
    IN_BODY,   /* a publish's head is in, its body is arriving */
    BUSY,      /* the request is being answered (or waits, or streams) */
};

struct pl_conn {
    pl_list link; /* in srv->conns, under its lock */
    int fd;
    _Atomic int state;
    /* IN_BODY: when the head came in; WAIT_HEAD: when a sweep saw bytes */
    _Atomic int64_t since_us;
    atomic_bool cut;               /* the sweep cut it (counted as a timeout) */
    uint64_t sent;                 /* socket bytes sent when the last request ended */
    atomic_uint_fast64_t received; /* and received */
};

void pl_conn_list_init(pl_conn_list *l, int timeout_s)
{
    struct rlimit rl;
    pthread_mutex_init(&l->lock, NULL);
    pl_list_init(&l->head);
    atomic_init(&l->watched, 0);
    l->timeout_us = (int64_t)timeout_s * 1000000;
    /* One slot per descriptor the process may have (NULL: no baselines). */
    l->base_n =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 22) ? (size_t)rl.rlim_cur : 0;
    l->base = l->base_n ? calloc(l->base_n, sizeof *l->base) : NULL;
}

void pl_conn_list_destroy(pl_conn_list *l)
{
    free(l->base);
    pthread_mutex_destroy(&l->lock);
}

void pl_conn_handed(pl_conn_list *l, int fd, uint64_t sent, uint64_t received)
{
    if (l->base && fd >= 0 && (size_t)fd < l->base_n)
        l->base[fd] = (pl_wire){.out = sent, .in = received};
}

/* What the front handed over with `fd` (zero for a new one), once. */
static pl_wire take_base(pl_conn_list *l, int fd)
{
    pl_wire w = {0};
    if (l->base && fd >= 0 && (size_t)fd < l->base_n) {
        w = l->base[fd];
        l->base[fd] = (pl_wire){0};
    }
    return w;
}

int64_t pl_conn_sweep_period_us(const pl_conn_list *l)
{
    int64_t p = l->timeout_us / 5;
    return p < 1000000 ? 1000000 : p;
}

static int fd_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

static uint64_t received(int fd)
{
    pl_wire w;
    pl_wire_read(fd, &w);
    return w.in;
}

/* Moves `c` to `state`, keeping the count of swept connections; the first
 * one to need sweeps wakes the job. */
static void set_state(pl_server *srv, pl_conn *c, int state)
{
    int old = atomic_exchange(&c->state, state);
    bool was = old != BUSY, is = state != BUSY;
    if (was == is)
        return;
    if (atomic_fetch_add(&srv->conns.watched, is ? 1 : -1) == 0 && is && srv->conns.job)
        pl_ticker_note(srv->conns.job, pl_clock_mono_us() + pl_conn_sweep_period_us(&srv->conns));
}

pl_conn *pl_conn_open(pl_server *srv, struct MHD_Connection *mc)
{
    pl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd_of(mc);
    pl_wire base = take_base(&srv->conns, c->fd);
    c->sent = base.out;
    atomic_init(&c->received, base.in);
    atomic_init(&c->state, BUSY);
    pthread_mutex_lock(&srv->conns.lock);
    pl_list_push_front(&srv->conns.head, &c->link);
    pthread_mutex_unlock(&srv->conns.lock);
    set_state(srv, c, WAIT_HEAD);
    return c;
}

void pl_conn_close(pl_server *srv, pl_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&srv->conns.lock);
    pl_list_remove(&c->link);
    pthread_mutex_unlock(&srv->conns.lock);
    /* Bytes after the last request that never reached the router: a head
     * MHD refused or closed on, or one the client abandoned. */
    if (!atomic_load(&c->cut) && atomic_load(&c->state) == WAIT_HEAD &&
        received(c->fd) > atomic_load(&c->received))
        pl_stat_add(&srv->stats.errors[PL_ERR_HTTP_BAD_HEAD], 1);
    set_state(srv, c, BUSY);
    free(c);
}

void pl_conn_head(pl_server *srv, pl_conn *c, bool body_follows)
{
    if (!c)
        return;
    atomic_store(&c->since_us, pl_clock_mono_us());
    set_state(srv, c, body_follows ? IN_BODY : BUSY);
}

void pl_conn_body_done(pl_server *srv, pl_conn *c)
{
    if (c)
        set_state(srv, c, BUSY);
}

void pl_conn_request_done(pl_server *srv, pl_conn *c, uint64_t sent, uint64_t recvd,
                          uint64_t request)
{
    int unread = 0;
    if (!c)
        return;
    uint64_t upto = atomic_load(&c->received) + request;
    if (request) {
        if (upto < recvd)
            recvd = upto; /* the rest came with it: the next head's */
    } else if (ioctl(c->fd, SIOCINQ, &unread) == 0 && unread > 0 && (uint64_t)unread <= recvd) {
        recvd -= (uint64_t)unread; /* not read by MHD yet: not this request's */
    }
    c->sent = sent;
    atomic_store(&c->received, recvd);
    atomic_store(&c->since_us, 0);
    set_state(srv, c, WAIT_HEAD);
}

uint64_t pl_conn_sent(const pl_conn *c) { return c ? c->sent : 0; }

void pl_conn_cut_fd(int fd)
{
    struct linger now = {.l_onoff = 1, .l_linger = 0};
    if (fd < 0)
        return;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    shutdown(fd, SHUT_RDWR);
}

/* One connection's turn in the sweep; list lock held, so its fd is open. */
static void sweep_one(pl_server *srv, pl_conn *c, int64_t now)
{
    int state = atomic_load(&c->state);
    int64_t since = atomic_load(&c->since_us);
    if (state == BUSY || atomic_load(&c->cut))
        return;
    if (state == WAIT_HEAD && since == 0) {
        /* The state may change meanwhile; the next request resets since. */
        if (received(c->fd) > atomic_load(&c->received))
            atomic_store(&c->since_us, now);
        return;
    }
    if (now - since < srv->conns.timeout_us)
        return;
    atomic_store(&c->cut, true);
    pl_conn_cut_fd(c->fd);
    pl_stat_add(&srv->stats.errors[PL_ERR_HTTP_TIMEOUT], 1);
}

int64_t pl_conn_sweep(void *ud, int64_t now_us)
{
    pl_server *srv = ud;
    if (atomic_load(&srv->conns.watched) == 0)
        return INT64_MAX; /* a connection that needs sweeps notes the job */
    pthread_mutex_lock(&srv->conns.lock);
    pl_list_each(it, &srv->conns.head) sweep_one(srv, pl_list_entry(it, pl_conn, link), now_us);
    pthread_mutex_unlock(&srv->conns.lock);
    return now_us + pl_conn_sweep_period_us(&srv->conns);
}
