/* WebSocket transport: ws://HOST:PORT/ws/{room}?since=ID&heartbeat=S on its own lws
 * context and service thread. Fan-out is one cursor per connection into the
 * store's history; publishers only mark rooms dirty and wake this thread. */
#include "transport_ws.h"
#include <errno.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "origin.h"
#include "clock.h"
#include "log.h"
#include "message.h"
#include "route.h"
#include "validate.h"
#include "wire.h"

#define PL_WS_PROTOCOL    "pushlab.v1"
#define REPLY_QUEUE_MAX   64   /* pending ack/pong/error per connection */
#define REPLY_MAX         2048 /* one reply frame: 191 escaped chars fit */
#define HEADERS_MAX       4096 /* request head; browsers on localhost carry cookies */
#define DIRTY_SLOTS       1024 /* power of two; rooms marked between wake-ups */
#define DIRTY_FILL_MAX    (DIRTY_SLOTS / 2)
#define SUB_BUCKETS       1024 /* power of two; rooms with subscribers */
#define FRAME_BUF_DEFAULT 65536

struct conn;
#define CONN(node) pl_list_entry(node, struct conn, link)

/* The connections of one room, touched only on the service thread. */
struct room_subs {
    pl_room *room;
    pl_list conns;          /* of conn.link */
    struct room_subs *next; /* hash chain */
};

/* One reply waiting for a writable callback: LWS_PRE head room, then text. */
struct reply {
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len */
};

/* One WebSocket peer: lws per-session data, zeroed by lws. */
struct conn {
    struct lws *wsi;
    pl_room *room;
    struct room_subs *subs;
    pl_list link;           /* in subs->conns */
    uint64_t cursor;        /* last message id sent */
    uint64_t bytes_counted; /* added to st->ws.bytes_out for this socket */
    struct reply *replies[REPLY_QUEUE_MAX];
    unsigned rq_head, rq_len;
    char *rx;           /* fragments of the message being received */
    size_t rx_len;      /* bytes received so far (may exceed what rx holds) */
    bool rx_binary;     /* the message being received is binary */
    bool established;   /* counted in st->ws.connections */
    bool closing;       /* flooded: input ignored, next writable closes */
    bool going_away;    /* server stopping: next writable closes with 1001 */
    bool ping_due;      /* silent past the heartbeat: next writable pings */
    int64_t last_rx_us; /* monotonic time of the peer's last frame */
    int64_t beat_us;    /* this peer's heartbeat (?heartbeat= or the server's) */
    int64_t check_us;   /* its next idle check, on the sweep's grid */
};

struct pl_ws {
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    pthread_t thread;
    atomic_bool stopping;
    pl_store *store;
    pl_stats *st;
    int port;
    char bind[64];
    const pl_origin_policy *origin; /* borrowed from the config */
    size_t max_connections;
    size_t n_conns; /* handshakes accepted and not closed (service thread) */
    lws_retry_bo_t retry;
    struct lws_protocols protocols[2];

    /* Rooms with new messages since the last wake-up: filled by publishers,
     * drained by the service thread. Full means "wake every connection". */
    pthread_mutex_t dirty_lock;
    pl_room *dirty[DIRTY_SLOTS];
    size_t n_dirty;
    bool dirty_all;
    pl_room *drain[DIRTY_SLOTS]; /* service thread's copy of dirty */

    struct room_subs *subs[SUB_BUCKETS]; /* service thread only */
    lws_sorted_usec_list_t goodbye_timer;
    lws_sorted_usec_list_t sweep_timer; /* the idle sweep, when a check is due */
    int64_t sweep_at;                   /* when it is scheduled; INT64_MAX: not */
    int64_t epoch_us;                   /* origin of the checks' grid */
    int heartbeat_s, min_heartbeat_s, max_heartbeat_s;
    bool goodbye_over;
    unsigned char *frame_buf; /* LWS_PRE + FRAME_BUF_DEFAULT */
};

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

/* ---- dirty rooms: the only state shared with publishing threads ---- */

/* Store hook, on the publishing thread: mark the room and wake lws only
 * when the set was empty (a wake-up is already pending otherwise). */
static void on_publish(void *ud, pl_room *room, const pl_msg *m)
{
    (void)m;
    pl_ws *ws = ud;
    bool wake;
    pthread_mutex_lock(&ws->dirty_lock);
    wake = ws->n_dirty == 0 && !ws->dirty_all;
    if (!ws->dirty_all) {
        size_t i = ptr_hash(room) & (DIRTY_SLOTS - 1);
        while (ws->dirty[i] && ws->dirty[i] != room)
            i = (i + 1) & (DIRTY_SLOTS - 1);
        if (!ws->dirty[i]) {
            if (ws->n_dirty == DIRTY_FILL_MAX) {
                ws->dirty_all = true;
            } else {
                ws->dirty[i] = room;
                ws->n_dirty++;
            }
        }
    }
    pthread_mutex_unlock(&ws->dirty_lock);
    if (wake)
        lws_cancel_service(ws->ctx);
}

/* Moves the dirty set into ws->drain; returns how many rooms, or SIZE_MAX
 * when every connection must be woken. */
static size_t take_dirty(pl_ws *ws)
{
    size_t n = 0;
    pthread_mutex_lock(&ws->dirty_lock);
    bool all = ws->dirty_all;
    if (!all) {
        for (size_t i = 0; i < DIRTY_SLOTS && n < ws->n_dirty; i++)
            if (ws->dirty[i])
                ws->drain[n++] = ws->dirty[i];
    }
    memset(ws->dirty, 0, sizeof ws->dirty);
    ws->n_dirty = 0;
    ws->dirty_all = false;
    pthread_mutex_unlock(&ws->dirty_lock);
    return all ? SIZE_MAX : n;
}

/* ---- per-room connection lists (service thread) ---- */

static struct room_subs **subs_slot(pl_ws *ws, const pl_room *room)
{
    struct room_subs **p = &ws->subs[ptr_hash(room) & (SUB_BUCKETS - 1)];
    while (*p && (*p)->room != room)
        p = &(*p)->next;
    return p;
}

static int subs_join(pl_ws *ws, struct conn *c)
{
    struct room_subs **p = subs_slot(ws, c->room);
    if (!*p) {
        *p = calloc(1, sizeof **p);
        if (!*p)
            return -ENOMEM;
        (*p)->room = c->room;
        pl_list_init(&(*p)->conns);
    }
    c->subs = *p;
    pl_list_push_front(&c->subs->conns, &c->link);
    return 0;
}

static void subs_leave(pl_ws *ws, struct conn *c)
{
    if (!c->subs)
        return;
    pl_list_remove(&c->link);
    if (pl_list_empty(&c->subs->conns)) {
        struct room_subs **p = subs_slot(ws, c->room);
        *p = c->subs->next;
        free(c->subs);
    }
    c->subs = NULL;
}

static void wake_dirty_rooms(pl_ws *ws)
{
    size_t n = take_dirty(ws);
    if (n == SIZE_MAX) {
        lws_callback_on_writable_all_protocol(ws->ctx, &ws->protocols[0]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct room_subs *s = *subs_slot(ws, ws->drain[i]);
        if (s)
            pl_list_each(it, &s->conns) lws_callback_on_writable(CONN(it)->wsi);
    }
}

/* ---- handshake ---- */

/* Copies a header lws knows by token, or a custom one by name (with its
 * colon, lower case), into `buf`. Returns buf, or NULL when absent. */
static const char *header(struct lws *wsi, int token, const char *name, char *buf, int cap)
{
    int n = name ? lws_hdr_custom_copy(wsi, buf, cap, name, (int)strlen(name))
                 : lws_hdr_copy(wsi, buf, cap, (enum lws_token_indexes)token);
    return n > 0 ? buf : NULL;
}

static bool origin_allowed(const pl_ws *ws, struct lws *wsi)
{
    char origin[PL_ORIGIN_MAX], host[PL_ORIGIN_MAX], proto[16], fhost[PL_ORIGIN_MAX];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
        return true; /* not a browser: curl, websocat, our own client */
    if (!ws->origin)
        return false;
    pl_origin_req r = {
        .origin = header(wsi, WSI_TOKEN_ORIGIN, NULL, origin, sizeof origin),
        .host = header(wsi, WSI_TOKEN_HOST, NULL, host, sizeof host),
        .fwd_proto = header(wsi, 0, "x-forwarded-proto:", proto, sizeof proto),
        .fwd_host = header(wsi, 0, "x-forwarded-host:", fhost, sizeof fhost),
    };
    /* An Origin too long to copy is nobody's we allow. */
    return r.origin && pl_origin_allowed(ws->origin, &r);
}

/* No Sec-WebSocket-Protocol, or a list that names ours. A list without it
 * is refused with a status here rather than by lws, which just hangs up. */
static bool subprotocol_ok(struct lws *wsi)
{
    char list[256];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) <= 0)
        return true;
    if (lws_hdr_copy(wsi, list, sizeof list, WSI_TOKEN_PROTOCOL) <= 0)
        return false;
    return pl_route_subprotocol_ok(list, PL_WS_PROTOCOL);
}

/* Reads query argument `key` ("since", "heartbeat"): absent leaves *v
 * alone. Only one, all digits. Returns 0 or -EINVAL. */
static int parse_arg(struct lws *wsi, const char *key, uint64_t *v, bool *given)
{
    char arg[96];
    *given = false;
    for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
         i++)
        if (pl_route_uint_arg(arg, key, v, given) != 0)
            return -EINVAL;
    return 0;
}

static uint64_t room_last_id(pl_room *room)
{
    pl_scan info;
    pl_room_scan(room, 0, 0, NULL, NULL, &info); /* limit 0: visits none */
    return info.last_id;
}

/* Decides on an upgrade request; on success fills the connection's room
 * and cursor when `c` is given. Returns 0 or the HTTP status it is refused
 * with. */
static int check_handshake(pl_ws *ws, struct lws *wsi, struct conn *c)
{
    char uri[128], name[PL_ROOM_MAX + 1];
    uint64_t since = 0, beat = 0;
    bool given, beat_given;
    pl_room *room;
    if (!origin_allowed(ws, wsi))
        return 403;
    int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    int status = pl_route_ws_path(uri, n > 0 ? (size_t)n : 0, name);
    if (status)
        return status;
    if (parse_arg(wsi, "since", &since, &given) != 0 ||
        parse_arg(wsi, "heartbeat", &beat, &beat_given) != 0 || !subprotocol_ok(wsi))
        return 400;
    if (ws->n_conns >= ws->max_connections)
        return 503;
    if (pl_store_room(ws->store, name, true, &room) != 0)
        return 503;
    if (c) {
        c->room = room;
        c->cursor = given ? since : room_last_id(room);
        int hb = beat_given ? pl_heartbeat_clamp(beat, ws->min_heartbeat_s, ws->max_heartbeat_s)
                            : ws->heartbeat_s;
        c->beat_us = (int64_t)hb * 1000000;
    }
    return 0;
}

/* Refuses an upgrade with a real HTTP status, so browsers' devtools, curl
 * and websocat show why. Returns what the lws callback must return. */
static int refuse(pl_ws *ws, struct lws *wsi, int status)
{
    pl_stats_count_status_at(ws->st, PL_SEP_WS, status);
    if (lws_return_http_status(wsi, (unsigned)status, NULL))
        return -1;
    return 1;
}

/* Bytes handed to this socket so far (common/wire.h), 0 if unknown. */
static uint64_t wire_out(struct lws *wsi)
{
    pl_wire w;
    pl_wire_read(lws_get_socket_fd(wsi), &w);
    return w.out;
}

static void count_bytes(pl_ws *ws, struct conn *c, uint64_t n)
{
    c->bytes_counted += n;
    pl_stat_add(&ws->st->ws.bytes_out, n);
}

/* At close, adds what lws wrote on its own (RFC 6455 pings, pongs, the
 * close frame) so the total is exact. */
static void count_control_bytes(pl_ws *ws, struct conn *c)
{
    uint64_t sent = wire_out(c->wsi);
    if (sent > c->bytes_counted)
        count_bytes(ws, c, sent - c->bytes_counted);
}

/* ---- writing ---- */

/* Server frames are unmasked: 2, 4 or 10 header bytes. */
static size_t frame_header_len(size_t payload)
{
    return payload < 126 ? 2 : payload <= 0xffff ? 4 : 10;
}

/* One text frame from `buf` (which has LWS_PRE bytes before it). Returns 0
 * or -1 to close. */
static int write_text(pl_ws *ws, struct conn *c, unsigned char *buf, size_t len)
{
    if (lws_write(c->wsi, buf, len, LWS_WRITE_TEXT) < (int)len)
        return -1;
    count_bytes(ws, c, frame_header_len(len) + len);
    return 0;
}

static int write_reply(pl_ws *ws, struct conn *c)
{
    struct reply *r = c->replies[c->rq_head];
    c->replies[c->rq_head] = NULL;
    c->rq_head = (c->rq_head + 1) % REPLY_QUEUE_MAX;
    c->rq_len--;
    int rc = write_text(ws, c, r->buf + LWS_PRE, r->len);
    free(r);
    return rc;
}

/* Sends the message after the cursor, if any. Returns 0 or -1 to close. */
static int write_next_message(pl_ws *ws, struct conn *c)
{
    bool gap;
    pl_msg *m = pl_room_next(c->room, c->cursor, &gap);
    if (!m)
        return 0;
    unsigned char *buf = ws->frame_buf;
    if (m->ws_len > FRAME_BUF_DEFAULT && !(buf = malloc(LWS_PRE + m->ws_len))) {
        pl_msg_unref(m);
        return -1;
    }
    memcpy(buf + LWS_PRE, m->ws, m->ws_len);
    int rc = write_text(ws, c, buf + LWS_PRE, m->ws_len);
    if (buf != ws->frame_buf)
        free(buf);
    c->cursor = m->id;
    if (rc == 0) {
        pl_stat_add(&ws->st->ws.messages_out, 1);
        pl_stats_delivered(&ws->st->ws, m->ts, pl_clock_real_us());
        if (gap)
            pl_stat_add(&ws->st->ws.gaps, 1);
    }
    pl_msg_unref(m);
    return rc;
}

/* One lws_write per writable callback: replies first, then one message. */
static int on_writable(pl_ws *ws, struct conn *c)
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
    int rc;
    if (c->ping_due) {
        unsigned char ping[LWS_PRE];
        c->ping_due = false;
        rc = lws_write(c->wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0 ? -1 : 0;
        count_bytes(ws, c, 2);
    } else {
        rc = c->rq_len ? write_reply(ws, c) : write_next_message(ws, c);
    }
    if (rc != 0)
        return rc;
    if (c->rq_len || room_last_id(c->room) > c->cursor)
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

/* Queues `obj` serialized; takes the reference (NULL means no memory). */
static int queue_json(struct conn *c, json_t *obj)
{
    char text[REPLY_MAX];
    size_t len = obj ? json_dumpb(obj, text, sizeof text, JSON_COMPACT) : 0;
    json_decref(obj);
    if (len == 0 || len > sizeof text)
        return -1;
    return queue_text(c, text, len);
}

static int reply_error(pl_ws *ws, struct conn *c, const pl_err *err)
{
    pl_stat_add(&ws->st->errors[PL_ERR_WS_FRAME], 1);
    pl_stat_add(&ws->st->errors_at[PL_SEP_WS][PL_ERR_WS_FRAME], 1);
    return queue_json(c, json_pack("{s:s, s:s, s:s}", "type", "error", "code", err->code, "message",
                                   err->message));
}

static int handle_publish(pl_ws *ws, struct conn *c, json_t *obj)
{
    pl_publish pub;
    pl_err err;
    pl_msg *m;
    bool dup;
    if (pl_msg_parse_publish(obj, &pub, &err) != 0) {
        pl_stat_add(&ws->st->publishes.refused, 1);
        return reply_error(ws, c, &err);
    }
    if (pl_store_publish(ws->store, c->room, &pub, &m, &dup) != 0) {
        pl_stat_add(&ws->st->publishes.refused, 1);
        pl_err_set(&err, 503, "out of memory");
        return reply_error(ws, c, &err);
    }
    pl_stat_add(dup ? &ws->st->publishes.duplicate : &ws->st->publishes.stored, 1);
    pl_stat_add(&ws->st->ws.messages_in, 1);
    json_t *ack = json_pack("{s:s, s:I}", "type", "ack", "id", (json_int_t)m->id);
    if (ack && m->cid)
        json_object_set_new(ack, "cid", json_string(m->cid));
    pl_msg_unref(m);
    return queue_json(c, ack);
}

/* One complete client message. Returns 0, or -1 to close. */
static int handle_message(pl_ws *ws, struct conn *c, const char *in, size_t len)
{
    json_t *obj;
    pl_err err;
    if (len == 4 && memcmp(in, "ping", 4) == 0)
        return queue_text(c, "pong", 4);
    if (pl_msg_parse_body(in, len, &obj, &err) != 0)
        return reply_error(ws, c, &err);
    const char *type = json_string_value(json_object_get(obj, "type"));
    int rc;
    if (!type) {
        pl_err_set(&err, 400, "\"type\" must be a string");
        rc = reply_error(ws, c, &err);
    } else if (strcmp(type, "publish") == 0) {
        rc = handle_publish(ws, c, obj);
    } else if (strcmp(type, "ping") == 0) {
        rc = queue_json(c, json_pack("{s:s}", "type", "pong"));
    } else {
        pl_err_set(&err, 400, "unknown type \"%.64s\"", type);
        rc = reply_error(ws, c, &err);
    }
    json_decref(obj);
    return rc;
}

/* Reassembles fragments up to PL_BODY_MAX; past it the rest is counted but
 * dropped and the message answered with payload_too_large. */
static int on_receive(pl_ws *ws, struct conn *c, const char *in, size_t len)
{
    bool first = lws_is_first_fragment(c->wsi), final = lws_is_final_fragment(c->wsi);
    pl_err err;
    if (c->closing)
        return 0;
    if (first) {
        c->rx_len = 0;
        c->rx_binary = lws_frame_is_binary(c->wsi);
    }
    if (first && final && !c->rx_binary && len <= PL_BODY_MAX)
        return handle_message(ws, c, in, len); /* the common case: no copy */
    if (!c->rx_binary && c->rx_len + len <= PL_BODY_MAX) {
        if (!c->rx && !(c->rx = malloc(PL_BODY_MAX)))
            return -1;
        memcpy(c->rx + c->rx_len, in, len);
    }
    c->rx_len += len;
    if (!final)
        return 0;
    int rc;
    if (c->rx_binary || c->rx_len > PL_BODY_MAX) {
        if (c->rx_binary)
            pl_err_set(&err, 400, "binary frames are not supported");
        else
            pl_err_set(&err, 413, "message over %d bytes", PL_BODY_MAX);
        rc = reply_error(ws, c, &err);
    } else {
        rc = handle_message(ws, c, c->rx, c->rx_len);
    }
    /* Fragmented messages are rare: hand the 16 KiB back until the next. */
    free(c->rx);
    c->rx = NULL;
    return rc;
}

/* ---- connection life ---- */

static void sweep_plan(pl_ws *ws, int64_t at);

static int on_established(pl_ws *ws, struct conn *c, struct lws *wsi)
{
    c->wsi = wsi;
    c->last_rx_us = pl_clock_mono_us();
    if (subs_join(ws, c) != 0)
        return -1;
    c->check_us = pl_clock_next_tick(ws->epoch_us, c->beat_us, c->last_rx_us);
    sweep_plan(ws, c->check_us);
    c->established = true;
    ws->n_conns++;
    atomic_fetch_add(&ws->st->ws.connections, 1);
    count_bytes(ws, c, wire_out(wsi)); /* so far, exactly the 101 response */
    /* A since= behind the room's head has messages to send right away. */
    if (room_last_id(c->room) > c->cursor)
        lws_callback_on_writable(wsi);
    return 0;
}

/* Frees everything a connection owns; runs once per accepted handshake. */
static void on_closed(pl_ws *ws, struct conn *c)
{
    count_control_bytes(ws, c);
    subs_leave(ws, c);
    atomic_fetch_sub(&ws->st->ws.connections, 1);
    c->established = false;
    while (c->rq_len) {
        free(c->replies[c->rq_head]);
        c->replies[c->rq_head] = NULL;
        c->rq_head = (c->rq_head + 1) % REPLY_QUEUE_MAX;
        c->rq_len--;
    }
    free(c->rx);
    c->rx = NULL;
    ws->n_conns--;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    pl_ws *ws = lws_context_user(lws_get_context(wsi));
    struct conn *c = user;
    int status;
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        status = check_handshake(ws, wsi, NULL);
        return status ? refuse(ws, wsi, status) : 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* Checked again: this one also sets the cursor (and a subprotocol
         * other than ours never reaches CONFIRM_UPGRADE's decision). */
        status = c ? check_handshake(ws, wsi, c) : 503;
        if (status) {
            pl_stats_count_status_at(ws->st, PL_SEP_WS, status);
            return 1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED: return on_established(ws, c, wsi);
    case LWS_CALLBACK_CLOSED:
        if (c && c->established)
            on_closed(ws, c);
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
        if (ws && !atomic_load(&ws->stopping))
            wake_dirty_rooms(ws);
        return 0;
    case LWS_CALLBACK_HTTP:
        /* Only upgrades are served here; plain HTTP lives on the other port. */
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
        return -1;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ---- idle peers ---- */

/* One timer for all connections, instead of lws's validity timer per
 * connection: lws keeps those in a sorted list (an insert per received
 * frame walks it), and each one wakes the poll() loop on its own, which
 * scans every socket. Each peer is checked on the grid of its heartbeat
 * (pl_clock_next_tick), so peers of one heartbeat share a sweep and a
 * server whose peers all use the default sweeps once per heartbeat. A
 * check pings a peer silent for its heartbeat and drops one silent for
 * 2 x heartbeat + 5 s. */
static void sweep(lws_sorted_usec_list_t *sul);

/* Makes the sweep run by `at` (service thread). */
static void sweep_plan(pl_ws *ws, int64_t at)
{
    if (at >= ws->sweep_at)
        return;
    ws->sweep_at = at;
    int64_t wait = at - pl_clock_mono_us();
    lws_sul_schedule(ws->ctx, 0, &ws->sweep_timer, sweep, wait > 0 ? wait : 0);
}

static void check_idle(struct conn *c, int64_t now)
{
    int64_t silent = now - c->last_rx_us;
    if (silent >= 2 * c->beat_us + 5000000) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_REASON_BASE, LWS_TO_KILL_ASYNC);
    } else if (silent >= c->beat_us - 100000 && !c->ping_due) {
        c->ping_due = true;
        lws_callback_on_writable(c->wsi);
    }
}

static void sweep(lws_sorted_usec_list_t *sul)
{
    pl_ws *ws = (pl_ws *)(void *)((char *)sul - offsetof(pl_ws, sweep_timer));
    int64_t now = pl_clock_mono_us(), next = INT64_MAX;
    ws->sweep_at = INT64_MAX;
    for (size_t b = 0; b < SUB_BUCKETS; b++)
        for (struct room_subs *s = ws->subs[b]; s; s = s->next)
            pl_list_each(it, &s->conns)
            {
                struct conn *c = CONN(it);
                if (c->check_us <= now) {
                    check_idle(c, now);
                    c->check_us = pl_clock_next_tick(ws->epoch_us, c->beat_us, now);
                }
                if (c->check_us < next)
                    next = c->check_us;
            }
    if (next != INT64_MAX)
        sweep_plan(ws, next);
}

/* ---- start and stop ---- */

static void goodbye_timeout(lws_sorted_usec_list_t *sul)
{
    pl_ws *ws = (pl_ws *)(void *)((char *)sul - offsetof(pl_ws, goodbye_timer));
    ws->goodbye_over = true;
}

/* Sends every peer a 1001 close frame so clients know to reconnect, and
 * services until they are gone or one second passed. */
static void say_goodbye(pl_ws *ws)
{
    for (size_t b = 0; b < SUB_BUCKETS; b++)
        for (struct room_subs *s = ws->subs[b]; s; s = s->next)
            pl_list_each(it, &s->conns)
            {
                struct conn *c = CONN(it);
                c->going_away = true;
                lws_callback_on_writable(c->wsi);
            }
    lws_sul_cancel(&ws->sweep_timer);
    ws->sweep_at = INT64_MIN; /* no more sweeps */
    lws_sul_schedule(ws->ctx, 0, &ws->goodbye_timer, goodbye_timeout, LWS_US_PER_SEC);
    while (ws->n_conns && !ws->goodbye_over)
        if (lws_service(ws->ctx, 0) < 0)
            break;
    lws_sul_cancel(&ws->goodbye_timer);
}

static void *service_main(void *arg)
{
    pl_ws *ws = arg;
    while (!atomic_load(&ws->stopping))
        if (lws_service(ws->ctx, 0) < 0)
            break;
    say_goodbye(ws);
    return NULL;
}

static void free_ws(pl_ws *ws)
{
    free(ws->frame_buf);
    pthread_mutex_destroy(&ws->dirty_lock);
    free(ws);
}

/* lws's lines while the context starts: a busy port is reported once, by
 * main, so its own "ERROR on binding" lines go to the debug log. */
static void lws_start_log(int level, const char *line)
{
    (void)level;
    pl_debug("lws: %.*s", (int)strcspn(line, "\n"), line);
}

static int create_context(pl_ws *ws, const pl_ws_config *cfg)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    ws->protocols[0] = (struct lws_protocols){
        .name = PL_WS_PROTOCOL,
        .callback = callback,
        .per_session_data_size = sizeof(struct conn),
        .rx_buffer_size = 4096,
    };
    /* A zero policy turns lws's per-connection validity timers off: sweep()
     * pings silent peers and drops dead ones, for all of them at once. */
    ws->heartbeat_s = cfg->heartbeat_s > 0 ? cfg->heartbeat_s : 15;
    ws->min_heartbeat_s = cfg->min_heartbeat_s > 0 ? cfg->min_heartbeat_s : 1;
    ws->max_heartbeat_s = cfg->max_heartbeat_s > 0 ? cfg->max_heartbeat_s : ws->heartbeat_s;
    if (ws->max_heartbeat_s < ws->min_heartbeat_s)
        ws->max_heartbeat_s = ws->min_heartbeat_s;
    ws->epoch_us = pl_clock_mono_us();
    ws->sweep_at = INT64_MAX; /* planned by the first connection */
    memset(&ws->retry, 0, sizeof ws->retry);
    info.port = cfg->port;
    info.iface = ws->bind;
    info.protocols = ws->protocols;
    info.retry_and_idle_policy = &ws->retry;
    info.user = ws;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.max_http_header_data = HEADERS_MAX;
    lws_set_log_level(LLL_ERR, lws_start_log);
    ws->ctx = lws_create_context(&info);
    lws_set_log_level(LLL_ERR, lwsl_emit_stderr);
    if (!ws->ctx)
        return -EADDRINUSE;
    ws->vhost = lws_get_vhost_by_name(ws->ctx, "default");
    ws->port = ws->vhost ? lws_get_vhost_listen_port(ws->vhost) : cfg->port;
    return 0;
}

int pl_ws_start(pl_ws **out, const pl_ws_config *cfg, pl_store *store, pl_stats *st)
{
    int rc = -ENOMEM;
    pl_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return -ENOMEM;
    pthread_mutex_init(&ws->dirty_lock, NULL);
    ws->store = store;
    ws->st = st;
    ws->max_connections = cfg->max_connections ? cfg->max_connections : 10000;
    snprintf(ws->bind, sizeof ws->bind, "%s", cfg->bind ? cfg->bind : "127.0.0.1");
    ws->origin = cfg->origin;
    if (!(ws->frame_buf = malloc(LWS_PRE + FRAME_BUF_DEFAULT)))
        goto fail;
    if ((rc = create_context(ws, cfg)) != 0)
        goto fail;
    if ((rc = -pthread_create(&ws->thread, NULL, service_main, ws)) != 0)
        goto fail_ctx;
    if ((rc = pl_store_add_hook(store, on_publish, ws)) != 0)
        goto fail_thread;
    *out = ws;
    return 0;
fail_thread:
    atomic_store(&ws->stopping, true);
    lws_cancel_service(ws->ctx);
    pthread_join(ws->thread, NULL);
fail_ctx:
    lws_context_destroy(ws->ctx);
fail:
    free_ws(ws);
    return rc;
}

int pl_ws_port(const pl_ws *ws) { return ws->port; }

void pl_ws_stop(pl_ws *ws)
{
    if (!ws)
        return;
    atomic_store(&ws->stopping, true);
    lws_cancel_service(ws->ctx);
    pthread_join(ws->thread, NULL);
    /* Closes every connection (CLOSED callbacks run here) and the listener. */
    lws_context_destroy(ws->ctx);
    free_ws(ws);
}
