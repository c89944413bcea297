/* WebSocket: one connection per subscription to
 * ws://HOST:PORT/ws/{room}?since=CURSOR (the base from GET /api/config
 * unless given), on one of two links (ws_link.h): ws_plain.c for ws://
 * with no proxy, ws_lws.c (libwebsockets) for wss:// and proxies. Message
 * frames go to the core; publish frames wait for their ack in order; an
 * application ping every ping_s (the heartbeat unless set) keeps traffic
 * flowing so the silence watchdog can tell a dead peer. In a foreign
 * dialect (nchan, a relay) the connection goes to the endpoint as given,
 * every text frame is a message verbatim, no ping is sent and a publish
 * is its text alone. */
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "client_internal.h"
#include "dialect.h"
#include "proxy_internal.h"
#include "url.h"
#include "ws_frame.h"
#include "ws_lws.h"
#include "ws_plain.h"

/* A queued publish frame; `sent` once written, then awaiting its ack
 * (a foreign server's frame is done once written: it acks nothing). */
typedef struct ws_pub {
    unsigned char *buf; /* LWS_PRE bytes of headroom, then the frame */
    size_t len;
    bool sent, raw;
    pl_publish_fn fn;
    void *ud;
} ws_pub;

/* One connection, owned by its subscription (s->ws) and freed when it
 * stops, or as its last link event returns when it stops inside one. */
struct pl_ws_conn {
    pl_sub *sub;
    pl_loop *loop;
    pl_ws_lws *lws; /* the lws link, or NULL: ws_plain.c's, on s->http */
    pl_timer *ping;
    bool established, ping_due;
    bool over;                 /* the link told its end: nothing to stop */
    bool doomed;               /* stopped inside a link event: freed on leaving it */
    int depth;                 /* link events on the stack */
    pl_ws_frame_rx rx;         /* a message arriving in fragments */
    pl_buf text;               /* a foreign message, NUL-ended for delivery */
    ws_pub q[PL_WS_QUEUE_MAX]; /* ring */
    size_t q_head, q_len;
};

static void conn_free(pl_ws_conn *c)
{
    for (size_t i = 0; i < c->q_len; i++)
        free(c->q[(c->q_head + i) % PL_WS_QUEUE_MAX].buf);
    pl_timer_free(c->ping);
    pl_ws_frame_rx_free(&c->rx);
    pl_buf_free(&c->text);
    free(c);
}

/* Completes the oldest publish with `id` or an error. */
static void pub_complete(pl_ws_conn *c, uint64_t id, const pl_client_err *err)
{
    ws_pub p = c->q[c->q_head];
    c->q_head = (c->q_head + 1) % PL_WS_QUEUE_MAX;
    c->q_len--;
    free(p.buf);
    if (p.fn && !c->loop->tearing_down)
        p.fn(p.ud, id, false, err);
}

static void fail_pending(pl_ws_conn *c)
{
    pl_client_err err;
    pl_proto_err(&err, -ECONNRESET, 0, "closed", "WebSocket closed before the ack");
    while (c->q_len)
        pub_complete(c, 0, &err);
}

/* Leaves the connection: no more events reach the sub, pending publishes
 * fail, and the link closes its socket. */
static void ws_stop(pl_sub *s)
{
    pl_ws_conn *c = s->ws;
    if (!c)
        return;
    if (!c->lws)
        pl_xfer_abort(&s->http); /* ws_plain.c's link */
    else if (!c->over)
        pl_ws_lws_stop(c->lws);
    c->lws = NULL;
    s->ws = NULL;
    c->sub = NULL;
    pl_timer_stop(c->ping);
    fail_pending(c);
    if (c->depth)
        c->doomed = true;
    else
        conn_free(c);
}

static void ws_account(pl_sub *s)
{
    if (s->ws && s->ws->lws)
        pl_ws_lws_account(s->ws->lws);
    else if (s->ws)
        pl_sub_http_account(s);
}

/* The link's "call me when a frame may go". */
static void ask_writable(pl_ws_conn *c)
{
    if (c->lws)
        pl_ws_lws_want_writable(c->lws);
    else
        pl_ws_plain_want_writable(&c->sub->http);
}

/* One text frame out (`p` has LWS_PRE bytes of headroom). Returns 0 or -1. */
static int write_text(pl_ws_conn *c, unsigned char *p, size_t n)
{
    if (c->lws)
        return pl_ws_lws_send_text(c->lws, p, n) ? -1 : 0;
    return pl_ws_plain_send_text(&c->sub->http, (const char *)p, n) ? -1 : 0;
}

static void ping_cb(pl_timer *t, void *ud)
{
    pl_ws_conn *c = ud;
    c->ping_due = true;
    ask_writable(c);
    pl_timer_start(t, (int64_t)c->sub->o.ping_s * 1000000);
}

/* ------------------------------------------------------------ receiving */

/* How much of a frame an error message quotes (frames are not NUL-ended). */
static int clip(size_t n) { return n < 80 ? (int)n : 80; }

/* A foreign server's message: the frame verbatim, as a C string. */
static void on_raw_frame(pl_ws_conn *c, const char *p, size_t n)
{
    pl_buf_clear(&c->text);
    if (pl_buf_append(&c->text, p, n) == 0)
        pl_sub_deliver_raw(c->sub, c->text.p, n);
}

/* One whole text message `p` of `n` bytes, borrowed from the link or c->rx. */
static void on_frame(pl_ws_conn *c, const char *p, size_t n)
{
    pl_sub *s = c->sub;
    pl_client_err err;
    pl_ws_frame f;
    if (pl_dialect_foreign(s->o.dialect)) {
        on_raw_frame(c, p, n);
        return;
    }
    if (s->o.lean && pl_sub_deliver_lean(s, p, n, true))
        return;
    pl_ws_frame_parse(p, n, &f);
    bool awaited = c->q_len && c->q[c->q_head].sent; /* a publish waits for its answer */
    switch (f.kind) {
    case PL_WS_FRAME_BAD:
        pl_proto_err(&err, -EPROTO, 0, "protocol", "bad WebSocket frame: %.*s", clip(n), p);
        pl_sub_lost(s, &err);
        break;
    case PL_WS_FRAME_MESSAGE:
        if (pl_sub_deliver_obj(s, f.obj) == -EPROTO) {
            pl_proto_err(&err, -EPROTO, 0, "protocol", "bad message frame: %.*s", clip(n), p);
            pl_sub_lost(s, &err);
        }
        break;
    case PL_WS_FRAME_ACK:
        if (awaited) {
            pl_proto_err(&err, 0, 0, "", "ok");
            pub_complete(c, f.id, &err);
        }
        break;
    case PL_WS_FRAME_ERROR:
        if (awaited) {
            pl_proto_err(&err, -EPROTO, 0, f.code, "%s", f.text);
            pub_complete(c, 0, &err);
        }
        break;
    default: break; /* pong, and types a newer server may add */
    }
    pl_ws_frame_free(&f);
}

static int on_receive(pl_ws_conn *c, const char *in, size_t len, bool whole)
{
    const char *msg;
    size_t n;
    pl_sub_touch(c->sub);
    int rc = pl_ws_frame_rx_add(&c->rx, in, len, whole, PL_WS_FRAME_MAX, &msg, &n);
    if (rc == -EMSGSIZE) {
        pl_client_err err;
        pl_proto_err(&err, -EMSGSIZE, 0, "protocol", "WebSocket frame over %u bytes",
                     PL_WS_FRAME_MAX);
        pl_sub_lost(c->sub, &err);
        return -1;
    }
    if (rc < 0)
        return -1;
    if (rc == 1)
        on_frame(c, msg, n);
    return 0;
}

/* -------------------------------------------------------------- sending */

static int on_writeable(pl_ws_conn *c)
{
    if (c->ping_due) {
        unsigned char buf[LWS_PRE + 16];
        memcpy(buf + LWS_PRE, "{\"type\":\"ping\"}", 15);
        c->ping_due = false;
        if (write_text(c, buf + LWS_PRE, 15))
            return -1;
    } else {
        for (size_t i = 0; i < c->q_len; i++) {
            ws_pub *p = &c->q[(c->q_head + i) % PL_WS_QUEUE_MAX];
            if (p->sent)
                continue;
            if (write_text(c, p->buf + LWS_PRE, p->len))
                return -1;
            p->sent = true;
            if (p->raw) { /* written is all a foreign server will tell */
                pl_client_err ok;
                pl_proto_err(&ok, 0, 0, "", "ok");
                pub_complete(c, 0, &ok);
            }
            break;
        }
    }
    for (size_t i = 0; i < c->q_len; i++)
        if (!c->q[(c->q_head + i) % PL_WS_QUEUE_MAX].sent) {
            ask_writable(c);
            break;
        }
    return 0;
}

int pl_sub_publish(pl_sub *s, const pl_pub_msg *m, pl_publish_fn fn, void *ud)
{
    pl_ws_conn *c = s->ws;
    if (!m || !m->text || (!m->user && !pl_dialect_foreign(s->o.dialect)))
        return -EINVAL;
    if (s->ops->kind != PL_TRANSPORT_WS || !c || !c->established)
        return -ENOTCONN;
    if (c->q_len == PL_WS_QUEUE_MAX)
        return -EAGAIN;
    ws_pub p = {.fn = fn, .ud = ud, .raw = pl_dialect_foreign(s->o.dialect)};
    if (p.raw) {
        p.len = strlen(m->text);
        if (!(p.buf = malloc(LWS_PRE + p.len + 1)))
            return -ENOMEM;
        memcpy(p.buf + LWS_PRE, m->text, p.len + 1);
    } else if (!(p.buf = (unsigned char *)pl_proto_publish_text(m, "publish", LWS_PRE, &p.len)))
        return -EINVAL;
    c->q[(c->q_head + c->q_len++) % PL_WS_QUEUE_MAX] = p;
    ask_writable(c);
    return 0;
}

/* ------------------------------------------------------- link events */

static pl_sub *enter(pl_ws_conn *c)
{
    c->depth++;
    pl_sub_enter(c->sub);
    return c->sub;
}

static void leave(pl_ws_conn *c, pl_sub *s)
{
    pl_sub_leave(s);
    if (--c->depth == 0 && c->doomed)
        conn_free(c);
}

static void on_opened(void *ud, int fd)
{
    pl_ws_conn *c = ud;
    pl_sub *s = enter(c);
    (void)fd;
    c->established = true;
    pl_sub_opened(s);
    pl_sub_watchdog_arm(s);
    if (s->o.ping_s > 0)
        pl_timer_start(c->ping, (int64_t)s->o.ping_s * 1000000);
    leave(c, s);
}

static void on_data(void *ud, const char *p, size_t n, bool whole)
{
    pl_ws_conn *c = ud;
    pl_sub *s = enter(c);
    on_receive(c, p, n, whole);
    leave(c, s);
}

static void on_writable(void *ud)
{
    pl_ws_conn *c = ud;
    pl_sub *s = enter(c);
    if (on_writeable(c) < 0) {
        pl_client_err err;
        pl_proto_err(&err, -EIO, 0, "transport", "WebSocket send failed");
        pl_sub_lost(s, &err);
    }
    leave(c, s);
}

/* Before the TCP connection was up it is a refusal; a connection cut
 * before the answer is a lost one. */
static void connect_failed(pl_sub *s, const pl_ws_link_end *e)
{
    pl_client_err err;
    bool connected = e->kind == PL_WS_LINK_CUT;
    const char *why =
        e->kind == PL_WS_LINK_NO_CONNECTION && e->os_errno ? "Unable to connect" : e->why;
    int en = connected ? 0 : pl_proto_connect_errno(e->os_errno);
    pl_proto_err(&err,
                 connected ? -ECONNRESET
                 : en      ? -en
                           : -ECONNREFUSED,
                 0, "transport", "%s%s%s%s%s%s",
                 connected ? "WebSocket handshake cut" : "WebSocket connect failed",
                 why ? ": " : "", why ? why : "", en ? " (" : "", en ? strerror(en) : "",
                 en ? ")" : "");
    if (connected)
        pl_sub_lost(s, &err);
    else
        pl_sub_refused(s, &err);
}

/* An answer other than 101 is the server's verdict (4xx but 429: final);
 * a certificate nobody trusts is a setting to fix, as for https. */
static void handshake_refused(pl_sub *s, const pl_ws_link_end *e)
{
    pl_client_err err;
    if (e->kind == PL_WS_LINK_UNTRUSTED) {
        pl_proto_err(&err, -EPROTO, 0, "tls", "the server's certificate is not trusted%s%s",
                     e->why ? ": " : "", e->why ? e->why : "");
        pl_sub_fatal(s, &err);
    } else if (e->kind == PL_WS_LINK_BAD_HANDSHAKE) {
        pl_proto_err(&err, -EPROTO, 0, "protocol", "WebSocket handshake: %s", e->why);
        pl_sub_refused(s, &err);
    } else {
        pl_proto_err(&err, -EPROTO, (int)e->status, "http", "WebSocket handshake answered HTTP %u",
                     e->status);
        if (e->status >= 400 && e->status < 500 && e->status != 429)
            pl_sub_fatal(s, &err);
        else
            pl_sub_refused(s, &err);
    }
}

static void conn_broken(pl_sub *s, const pl_ws_link_end *e)
{
    pl_client_err err;
    char code[24];
    if (e->kind == PL_WS_LINK_CLOSED) {
        snprintf(code, sizeof code, "code %d", e->close_code);
        const char *detail = e->close_code ? code : e->why;
        pl_proto_err(&err, -ECONNRESET, 0, "transport", "WebSocket closed%s%s", detail ? ": " : "",
                     detail ? detail : "");
    } else if (e->kind == PL_WS_LINK_TOO_BIG) {
        pl_proto_err(&err, -EMSGSIZE, 0, "protocol", "WebSocket frame over %u bytes",
                     PL_WS_FRAME_MAX);
    } else {
        pl_proto_err(&err, -EPROTO, 0, "protocol", "bad WebSocket frame: %s", e->why);
    }
    pl_sub_lost(s, &err);
}

static void report_end(pl_sub *s, const pl_ws_link_end *e)
{
    switch (e->kind) {
    case PL_WS_LINK_NO_CONNECTION:
    case PL_WS_LINK_CUT: connect_failed(s, e); break;
    case PL_WS_LINK_UNTRUSTED:
    case PL_WS_LINK_ANSWERED:
    case PL_WS_LINK_BAD_HANDSHAKE: handshake_refused(s, e); break;
    default: conn_broken(s, e); break;
    }
}

static void on_ended(void *ud, const pl_ws_link_end *e)
{
    pl_ws_conn *c = ud;
    pl_sub *s = enter(c);
    c->over = true;
    report_end(s, e);
    leave(c, s);
}

static const pl_ws_link_events link_events = {
    .opened = on_opened,
    .data = on_data,
    .writable = on_writable,
    .ended = on_ended,
};

/* ---------------------------------------------------------- connecting */

static int ws_connect(pl_sub *s)
{
    pl_url_target t;
    if (pl_dialect_foreign(s->o.dialect)
            ? pl_url_ws_endpoint(s->endpoint, &t)
            : pl_url_ws_target(s->ws_url, s->room, s->cursor, pl_sub_beat_arg(s), &t))
        return -EINVAL;
    pl_ws_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->ping = pl_timer_new(s->loop, ping_cb, c))) {
        free(c);
        return -ENOMEM;
    }
    c->sub = s;
    c->loop = s->loop;
    s->ws = c;
    if (!t.tls && !*pl_proxy_for(t.host, false)) {
        /* the 101 may take as long as an open connection may be silent */
        int answer_ms = 2 * s->o.heartbeat_s * 1000;
        int rc = pl_ws_plain_open(&s->http, t.host, t.port, t.path, PL_WS_FRAME_MAX, answer_ms,
                                  &link_events, c);
        if (rc) {
            s->ws = NULL;
            conn_free(c);
        }
        return rc;
    }
    pl_ws_link_end early;
    if (!(c->lws = pl_ws_lws_open(s->loop, &t, s->source_addr, &s->ctr, &link_events, c, &early))) {
        s->ws = NULL;
        conn_free(c);
        if (early.kind == PL_WS_LINK_NO_CONNECTION && !early.why) /* lws said nothing */
            return early.os_errno == ENOMEM ? -ENOMEM : -ECONNREFUSED;
        report_end(s, &early); /* lws said why from inside the call */
    }
    return 0;
}

static void config_done(pl_xfer *h, CURLcode rc, long status)
{
    pl_sub *s = h->ud;
    pl_sub_enter(s);
    if (rc != CURLE_OK || status != 200) {
        pl_sub_http_failed(s, h, rc, status);
    } else {
        pl_client_err err;
        if (!(s->ws_url = pl_proto_ws_url(pl_xfer_body(h), h->body.len))) {
            pl_proto_err(&err, -EPROTO, 0, "protocol", "GET /api/config has no ws_url");
            pl_sub_lost(s, &err);
        } else if (ws_connect(s) < 0) {
            pl_proto_err(&err, -ECONNREFUSED, 0, "transport", "cannot connect to %s", s->ws_url);
            pl_sub_refused(s, &err);
        }
    }
    pl_sub_leave(s);
}

static int ws_start(pl_sub *s)
{
    if (s->ws_url || pl_dialect_foreign(s->o.dialect))
        return ws_connect(s);
    return pl_xfer_get(&s->http, pl_url_join(s->url, "/api/config"), 10000L, config_done);
}

static void ws_stop_all(pl_sub *s)
{
    pl_sub_http_stop(s);
    ws_stop(s);
}

const pl_transport_ops pl_ws_ops = {
    .kind = PL_TRANSPORT_WS,
    .start = ws_start,
    .stop = ws_stop_all,
    .account = ws_account,
};
