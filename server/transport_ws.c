/* The WebSocket protocol: ws://HOST:PORT/ws/{room}?since=ID&heartbeat=S,
 * one cursor per peer into the store's history. A publish only marks its
 * room (ws_fanout.c) and wakes the service thread, which makes that
 * room's peers writable; each writable peer sends what is after its
 * cursor. Client frames are read by ws_message.c; a publish and the
 * opening of the peer's room go to the store backend, whose answers come
 * back through ws_calls.c; the upgrade is decided by ws_handshake.c, idle
 * and slow peers are cut by ws_sweep.c; the listener is ws_listener.c's.
 * Service thread, except pl_ws_on_publish (any publishing thread). */
#include "transport_ws_internal.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "clock.h"
#include "message.h"
#include "wire.h"

/* RFC 6455 registry codes lws 4.1 has no names for */
#define CLOSE_SERVICE_RESTART ((enum lws_close_status)1012)
#define CLOSE_TRY_AGAIN_LATER ((enum lws_close_status)1013)

/* ---- fan-out: the only state shared with publishing threads ---- */

/* Store hook, on the publishing thread: mark the room and wake lws only
 * when nothing was marked (a wake-up is already pending otherwise). */
void pl_ws_on_publish(void *ud, pl_room *room, const pl_msg *m)
{
    (void)m;
    pl_ws_svc *ws = ud;
    if (pl_ws_fanout_mark(ws->fanout, room))
        lws_cancel_service(ws->ctx);
}

/* A drain's walk: members of one room come together, so the room's
 * newest id is read once per room. */
typedef struct wake_pass {
    pl_ws_svc *ws;
    pl_room *room;
    uint64_t last_id;
} wake_pass;

/* Nothing but messages to send, and the socket took all lws gave it: the
 * frame can go now instead of after a POLLOUT round (one poll() pass over
 * every socket, and each socket's POLLOUT set and cleared). */
static bool only_messages_due(const struct conn *c)
{
    return !c->opening && !c->closing && !c->going_away && !c->store_down && !c->self_closed &&
           !c->peer_closed && !c->ping_due && !c->rq_len &&
           pl_room_generation(c->room) == c->generation && !lws_partial_buffered(c->wsi);
}

/* One write of what is due; the rest after a writable callback, so one
 * peer's backlog does not hold up the others' wake-up. */
static void write_now(pl_ws_svc *ws, struct conn *c, uint64_t last_id)
{
    if (pl_ws_write_messages(ws, c, last_id) != 0) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_REASON_BASE, LWS_TO_KILL_ASYNC);
        return;
    }
    if (c->cursor < last_id)
        lws_callback_on_writable(c->wsi);
}

static void wake_member(pl_ws_fanout_member *m, void *ud)
{
    wake_pass *p = ud;
    struct conn *c = CONN(m);
    if (c->room != p->room) {
        p->room = c->room;
        p->last_id = pl_room_last_id(c->room);
    }
    if (pl_ws_too_slow(p->ws, c, p->last_id))
        return;
    if (only_messages_due(c))
        write_now(p->ws, c, p->last_id);
    else
        lws_callback_on_writable(c->wsi);
}

/* The service thread's side: the peers of rooms with news are writable. */
static void wake_dirty_rooms(pl_ws_svc *ws)
{
    wake_pass p = {.ws = ws};
    if (!pl_ws_fanout_drain(ws->fanout, wake_member, &p))
        lws_callback_on_writable_all_protocol(ws->ctx, &ws->protocols[0]);
}

void pl_ws_delayed_wake(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop, (void)revents;
    wake_dirty_rooms((pl_ws_svc *)(void *)((char *)t - offsetof(pl_ws_svc, delay_timer)));
}

/* With --ws-write-delay, what is published within the delay reaches each
 * peer in one write: CPU for latency, the trade that Nagle's algorithm
 * makes on nginx's sockets without a bound (Centrifugo PRO's
 * client.write_delay). Without it, at once. */
static void wake_soon(pl_ws_svc *ws)
{
    if (!ws->write_delay_us) {
        wake_dirty_rooms(ws);
    } else if (!ev_is_active(&ws->delay_timer)) {
        ev_timer_set(&ws->delay_timer, (double)ws->write_delay_us / 1e6, 0.);
        ev_timer_start(ws->loop, &ws->delay_timer);
    }
}

/* Refuses an upgrade with a real HTTP status, so browsers' devtools, curl
 * and websocat show why. Returns what the lws callback must return. */
static int refuse(pl_ws_svc *ws, struct lws *wsi, int status)
{
    pl_ws_handshake_answered(ws, wsi);
    pl_stats_count_status_at(ws->st, PL_SEP_WS, status);
    if (lws_return_http_status(wsi, (unsigned)status, NULL))
        return -1;
    return 1;
}

/* One write per writable callback: a reply first, else what is due. */
static int on_writable(pl_ws_svc *ws, struct conn *c)
{
    if (c->closing) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                         (unsigned char *)"too many pending replies", 24);
        return -1;
    }
    if (c->going_away) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)"server stopping",
                         15);
        return -1;
    }
    if (c->store_down) {
        c->self_closed = true;
        lws_close_reason(c->wsi, CLOSE_TRY_AGAIN_LATER, (unsigned char *)"store unavailable", 17);
        return -1;
    }
    /* The room began again (a shared store lost it): close as a
     * restarting server would; the client resumes and sees it. */
    if (!c->opening && pl_room_generation(c->room) != c->generation) {
        c->self_closed = true;
        lws_close_reason(c->wsi, CLOSE_SERVICE_RESTART, (unsigned char *)"room restarted", 14);
        return -1;
    }
    int rc;
    if (c->ping_due) {
        unsigned char ping[LWS_PRE];
        c->ping_due = false;
        rc = lws_write(c->wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0 ? -1 : 0;
        pl_ws_count_bytes(ws, c, 2);
    } else {
        rc = c->rq_len    ? pl_ws_write_reply(ws, c)
             : c->opening ? 0
                          : pl_ws_write_messages(ws, c, UINT64_MAX);
    }
    if (rc != 0)
        return rc;
    if (c->rq_len || (!c->opening && pl_room_last_id(c->room) > c->cursor))
        lws_callback_on_writable(c->wsi);
    return 0;
}

/* ---- replies to client frames ---- */

/* Queues one reply frame; a full queue means the peer floods: close 1008.
 * Returns 0, or -1 to close the connection. */
static int queue_text(struct conn *c, const char *text, size_t len)
{
    if (c->rq_len == REPLY_QUEUE_MAX) {
        /* Closing from the writable callback lets lws send the close frame. */
        c->closing = true;
        lws_rx_flow_control(c->wsi, 0);
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    struct reply *r = len <= REPLY_MAX ? malloc(sizeof *r + LWS_PRE + len) : NULL;
    if (!r)
        return -1;
    memcpy(r->buf + LWS_PRE, text, len);
    r->len = len;
    c->replies[(c->rq_head + c->rq_len) % REPLY_QUEUE_MAX] = r;
    c->rq_len++;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static pl_ws_svc *ws_of(const struct conn *c) { return lws_context_user(lws_get_context(c->wsi)); }

/* The store answered a publish (service thread): ack it, or say why not. */
static void publish_answered(void *owner, const pl_ws_call *call)
{
    struct conn *c = owner;
    char text[PL_WS_ANSWER_MAX];
    if (c->inflight-- == INFLIGHT_MAX && !c->closing)
        lws_rx_flow_control(c->wsi, 1);
    int n = pl_ws_message_stored(ws_of(c)->st, call->rc, call->m, call->dup, text);
    if (n < 0 || queue_text(c, text, (size_t)n) != 0) /* no memory: not from inside this answer */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_REASON_BASE, LWS_TO_KILL_ASYNC);
}

/* Hands a publish to the store; the ack goes out once it answers. A peer
 * with INFLIGHT_MAX unanswered is not read until one is answered. */
static int publish(pl_ws_svc *ws, struct conn *c, const pl_publish *pub)
{
    char text[PL_WS_ANSWER_MAX];
    pl_ws_call *call = pl_ws_call_new(ws->calls, c, &c->calls, publish_answered);
    if (!call) {
        int n = pl_ws_message_stored(ws->st, -ENOMEM, NULL, false, text);
        return n < 0 ? -1 : queue_text(c, text, (size_t)n);
    }
    if (++c->inflight == INFLIGHT_MAX)
        lws_rx_flow_control(c->wsi, 0);
    pl_backend_publish(ws->backend, pl_room_name(c->room), pub, pl_ws_call_published, call);
    return 0;
}

/* One complete client message (ws_message.c): answered now, or a publish
 * handed to the store. Returns 0, or -1 to close. */
static int handle_message(pl_ws_svc *ws, struct conn *c, const char *in, size_t len)
{
    char text[PL_WS_ANSWER_MAX];
    pl_publish pub;
    json_t *hold;
    int n = pl_ws_message_read(ws->st, in, len, text, &pub, &hold);
    if (n == 0) {
        int rc = publish(ws, c, &pub);
        json_decref(hold); /* the backend copied what it keeps */
        return rc;
    }
    return n < 0 ? -1 : queue_text(c, text, (size_t)n);
}

static int refuse_message(pl_ws_svc *ws, struct conn *c, const pl_err *err)
{
    char text[PL_WS_ANSWER_MAX];
    int n = pl_ws_message_error(ws->st, err, text);
    return n < 0 ? -1 : queue_text(c, text, (size_t)n);
}

/* Reassembles fragments up to PL_BODY_MAX; past it the rest is counted but
 * dropped and the message answered with payload_too_large. */
static int on_receive(pl_ws_svc *ws, struct conn *c, const char *in, size_t len)
{
    bool first = lws_is_first_fragment(c->wsi), final = lws_is_final_fragment(c->wsi);
    pl_err err;
    if (c->closing)
        return 0;
    if (first) {
        pl_buf_clear(&c->rx);
        c->rx_len = 0;
        c->rx_binary = lws_frame_is_binary(c->wsi);
    }
    if (first && final && !c->rx_binary && len <= PL_BODY_MAX)
        return handle_message(ws, c, in, len); /* the common case: no copy */
    if (!c->rx_binary && c->rx_len + len <= PL_BODY_MAX && pl_buf_append(&c->rx, in, len) != 0)
        return -1;
    c->rx_len += len;
    if (!final)
        return 0;
    int rc;
    if (c->rx_binary || c->rx_len > PL_BODY_MAX) {
        if (c->rx_binary)
            pl_err_set(&err, 400, "binary frames are not supported");
        else
            pl_err_set(&err, 413, "message over %d bytes", PL_BODY_MAX);
        rc = refuse_message(ws, c, &err);
    } else {
        rc = handle_message(ws, c, c->rx.p, c->rx.len);
    }
    /* Fragmented messages are rare: hand the memory back until the next. */
    pl_buf_free(&c->rx);
    return rc;
}

/* ---- connection life ---- */

/* The room is open (or the store failed): the cursor is decided now. */
static void room_ready(struct conn *c, int rc)
{
    if (rc != 0) {
        c->store_down = true;
        lws_callback_on_writable(c->wsi);
        return;
    }
    c->opening = false;
    if (c->new_only)
        c->cursor = pl_room_last_id(c->room);
    c->generation = pl_room_generation(c->room);
    /* A since= behind the room's head has messages to send right away. */
    if (pl_room_last_id(c->room) > c->cursor)
        lws_callback_on_writable(c->wsi);
}

static void room_opened(void *owner, const pl_ws_call *call) { room_ready(owner, call->rc); }

/* Makes the room hold what the store had when the peer came (a shared
 * store may need a round trip), before anything is sent. */
static int open_room(pl_ws_svc *ws, struct conn *c)
{
    pl_room *room;
    pl_ws_call *call = pl_ws_call_new(ws->calls, c, &c->calls, room_opened);
    if (!call)
        return -1;
    c->opening = true;
    int rc = pl_backend_open(ws->backend, pl_room_name(c->room), true, c->new_only ? 0 : c->cursor,
                             &room, pl_ws_call_opened, call);
    if (rc == PL_BACKEND_LATER)
        return 0;
    pl_ws_call_forget(call); /* answered already: no callback comes */
    room_ready(c, rc);
    return 0;
}

static int on_established(pl_ws_svc *ws, struct conn *c, struct lws *wsi)
{
    pl_ws_handshake_answered(ws, wsi);
    c->wsi = wsi;
    c->fd = lws_get_socket_fd(wsi);
    pl_list_init(&c->calls);
    pl_buf_init(&c->rx, 4096, PL_BODY_MAX);
    c->last_rx_us = c->rx_wire_us = pl_clock_mono_us();
    pl_wire w;
    c->rx_wire = pl_wire_read(lws_get_socket_fd(wsi), &w) == 0 ? w.in : 0; /* the handshake */
    if (pl_ws_fanout_join(ws->fanout, &c->member, c->room) != 0)
        return -1;
    c->check_us = pl_clock_next_tick(ws->epoch_us, c->beat_us, c->last_rx_us);
    pl_ws_sweep_plan(ws, c->check_us);
    c->established = true;
    ws->n_conns++;
    atomic_fetch_add(&ws->st->ws.connections, 1);
    pl_ws_count_wire(ws, c); /* so far, exactly the 101 response */
    return open_room(ws, c);
}

/* RFC 6455's 1006: the connection ended without a close frame from the
 * peer and without the server deciding to end it. The peer reset or
 * vanished, or lws closed it for breaking the framing rules (a reserved
 * opcode or bit, an oversized or fragmented control frame, a continuation
 * with nothing to continue): lws tells us no reason, so both count here. */
static bool abnormal_close(const struct conn *c)
{
    return !c->peer_closed && !c->self_closed && !c->closing && !c->going_away;
}

/* Frees everything a connection owns; runs once per accepted handshake. */
static void on_closed(pl_ws_svc *ws, struct conn *c)
{
    if (abnormal_close(c))
        pl_stat_add(&ws->st->errors[PL_ERR_WS_ABNORMAL], 1);
    pl_ws_count_wire(ws, c); /* and what lws wrote on its own */
    pl_ws_calls_orphan(&c->calls);
    pl_ws_fanout_leave(ws->fanout, &c->member);
    atomic_fetch_sub(&ws->st->ws.connections, 1);
    c->established = false;
    while (c->rq_len) {
        free(c->replies[c->rq_head]);
        c->replies[c->rq_head] = NULL;
        c->rq_head = (c->rq_head + 1) % REPLY_QUEUE_MAX;
        c->rq_len--;
    }
    pl_buf_free(&c->rx);
    ws->n_conns--;
}

int pl_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    pl_ws_svc *ws = lws_context_user(lws_get_context(wsi));
    struct conn *c = user;
    int status;
    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: pl_ws_handshake_accepted(ws, wsi); return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        status = pl_ws_handshake_check(ws, wsi, NULL);
        return status ? refuse(ws, wsi, status) : 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* Checked again: this one also sets the cursor (and a subprotocol
         * other than ours never reaches CONFIRM_UPGRADE's decision). */
        status = c ? pl_ws_handshake_check(ws, wsi, c) : 503;
        if (status) {
            pl_ws_handshake_answered(ws, wsi);
            pl_stats_count_status_at(ws->st, PL_SEP_WS, status);
            return 1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED: return on_established(ws, c, wsi);
    case LWS_CALLBACK_CLOSED_HTTP: pl_ws_handshake_closed(ws, wsi); return 0;
    case LWS_CALLBACK_CLOSED:
        pl_ws_handshake_closed(ws, wsi);
        if (c && c->established)
            on_closed(ws, c);
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c)
            c->peer_closed = true;
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: return on_writable(ws, c);
    case LWS_CALLBACK_RECEIVE:
        c->last_rx_us = pl_clock_mono_us();
        return on_receive(ws, c, in, len);
    case LWS_CALLBACK_RECEIVE_PONG:
        if (c)
            c->last_rx_us = pl_clock_mono_us();
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (ws && ws->calls)
            pl_ws_calls_drain(ws->calls);
        if (ws && !atomic_load(&ws->stopping))
            wake_soon(ws);
        else if (ws)
            ev_break(ws->loop, EVBREAK_ALL); /* back to service_main */
        return 0;
    case LWS_CALLBACK_HTTP:
        /* Only upgrades are served here; plain HTTP lives on the other port. */
        pl_ws_handshake_answered(ws, wsi);
        pl_stats_count_status_at(ws->st, PL_SEP_WS, 404);
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
        return -1;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
