/* Peers the server cuts on its own: one that is silent (pinged after its
 * heartbeat, dropped after 2 x heartbeat + 5 s, checked by one sweep for
 * all of them) and one that does not read (more than --max-lag behind its
 * room). See transport_ws_internal.h; service thread. */
#include <sys/socket.h>
#include "clock.h"
#include "wire.h"
#include "transport_ws_internal.h"

/* Closes `c` at once, with a reset: what it has not read is dropped. */
static void drop(struct conn *c)
{
    struct linger now = {.l_onoff = 1, .l_linger = 0};
    int fd = lws_get_socket_fd(c->wsi);
    c->self_closed = true;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_REASON_BASE, LWS_TO_KILL_ASYNC);
}

/* A client that does not read stops taking frames (lws keeps the unsent
 * part of one, the socket buffers are full), so its cursor falls behind
 * its room's newest id; past max_lag it is cut and counted. A peer whose
 * room is still opening has no cursor yet. */
bool pl_ws_too_slow(pl_ws_svc *ws, struct conn *c, uint64_t last_id)
{
    if (!ws->max_lag || c->self_closed || c->opening || last_id <= c->cursor ||
        last_id - c->cursor <= ws->max_lag)
        return false;
    pl_stat_add(&ws->st->ws.slow_consumers_dropped, 1);
    drop(c);
    return true;
}

/* One timer for all connections, instead of lws's validity timer per
 * connection: lws keeps those in a sorted list (an insert per received
 * frame walks it), and each one wakes the poll() loop on its own, which
 * scans every socket. Each peer is checked on the grid of its heartbeat
 * (pl_clock_next_tick), so peers of one heartbeat share a sweep and a
 * server whose peers all use the default sweeps once per heartbeat. A
 * check pings a peer silent for its heartbeat and drops one silent for
 * 2 x heartbeat + 5 s. */
void pl_ws_sweep_plan(pl_ws_svc *ws, int64_t at)
{
    if (at >= ws->sweep_at)
        return;
    ws->sweep_at = at;
    int64_t wait = at - pl_clock_mono_us();
    ev_timer_stop(ws->loop, &ws->sweep_timer);
    ev_timer_set(&ws->sweep_timer, wait > 0 ? (double)wait / 1e6 : 0., 0.);
    ev_timer_start(ws->loop, &ws->sweep_timer);
}

/* lws 4.1 hands the protocol callback no RECEIVE_PONG, so a peer that only
 * answers our pings (a listen-only client: npm ws, websocat) looked silent
 * and was cut every 2 x heartbeat + 5 s. Before a cut, bytes the kernel
 * received since the last check count as the peer's frames, pongs
 * included. The ping still follows the frames we saw, so such a peer is
 * pinged every heartbeat, as a client's own watchdog expects. */
static bool answered(struct conn *c, int64_t now)
{
    pl_wire w;
    if (pl_wire_read(lws_get_socket_fd(c->wsi), &w) == 0 && w.in > c->rx_wire) {
        c->rx_wire = w.in;
        c->rx_wire_us = now;
    }
    return now - c->rx_wire_us < 2 * c->beat_us + 5000000;
}

/* Returns true when it cut the peer. */
static bool check_idle(struct conn *c, int64_t now)
{
    int64_t silent = now - c->last_rx_us;
    if (silent >= 2 * c->beat_us + 5000000 && !answered(c, now)) {
        c->self_closed = true;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_REASON_BASE, LWS_TO_KILL_ASYNC);
        return true;
    } else if (silent >= c->beat_us - 100000 && !c->ping_due) {
        c->ping_due = true;
        lws_callback_on_writable(c->wsi);
    }
    return false;
}

typedef struct sweep_pass {
    pl_ws_svc *ws;
    int64_t epoch_us, now, next;
    bool killed; /* a peer was cut */
} sweep_pass;

static void sweep_one(pl_ws_fanout_member *m, void *ud)
{
    struct conn *c = CONN(m);
    sweep_pass *p = ud;
    if (c->check_us <= p->now) {
        /* too_slow: a backstop for wake-ups that skipped the check */
        if (pl_ws_too_slow(p->ws, c, pl_room_last_id(c->room)) || check_idle(c, p->now))
            p->killed = true;
        c->check_us = pl_clock_next_tick(p->epoch_us, c->beat_us, p->now);
    }
    if (c->check_us < p->next)
        p->next = c->check_us;
}

void pl_ws_sweep(struct ev_loop *loop, ev_timer *t, int revents)
{
    pl_ws_svc *ws = (pl_ws_svc *)(void *)((char *)t - offsetof(pl_ws_svc, sweep_timer));
    sweep_pass p = {
        .ws = ws, .epoch_us = ws->epoch_us, .now = pl_clock_mono_us(), .next = INT64_MAX};
    (void)loop, (void)revents;
    ws->sweep_at = INT64_MAX;
    pl_ws_fanout_each(ws->fanout, sweep_one, &p);
    if (p.next != INT64_MAX)
        pl_ws_sweep_plan(ws, p.next);
    /* lws runs the kills (LWS_TO_KILL_ASYNC) it was asked for only after
     * an event of its own: give it one. */
    if (p.killed)
        lws_cancel_service(ws->ctx);
}
