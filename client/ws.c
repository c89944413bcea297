/* WebSocket: one libwebsockets client connection per subscription to
 * ws://HOST:PORT/ws/{room}?since=CURSOR (the base from GET /api/config
 * unless given). Message frames go to the core; publish frames wait for
 * their ack in order; an application ping every ping_s (the heartbeat
 * unless set) keeps traffic flowing so the silence watchdog can tell a
 * dead peer. In a foreign dialect (nchan, a relay) the connection goes to
 * the endpoint as given, every text frame is a message verbatim, no ping
 * is sent and a publish is its text alone. */
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acct.h"
#include "client_internal.h"
#include "dialect.h"
#include "ws_context.h"
#include "url.h"
#include "ws_frame.h"

/* A queued publish frame; `sent` once written, then awaiting its ack
 * (a foreign server's frame is done once written: it acks nothing). */
typedef struct ws_pub {
    unsigned char *buf; /* LWS_PRE bytes of headroom, then the frame */
    size_t len;
    bool sent, raw;
    pl_publish_fn fn;
    void *ud;
} ws_pub;

/* One connection. Outlives its subscription when detached (sub == NULL)
 * until lws destroys the wsi, which frees it. */
struct pl_ws_conn {
    pl_sub *sub;
    pl_loop *loop;
    struct lws *wsi;
    pl_timer *ping;
    int fd;
    bool established, ping_due, in_connect, destroyed, closing;
    bool untrusted;            /* TLS verification failed: the handshake error is final */
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
 * fail, and lws closes the socket on its next service. */
static void ws_stop(pl_sub *s)
{
    pl_ws_conn *c = s->ws;
    if (!c)
        return;
    if (c->fd >= 0) {
        pl_acct_take(s->loop, c->fd, &s->ctr);
        /* lws closes this socket later; whoever gets its number next must
         * not be charged to this subscription. */
        pl_acct_disown(s->loop, c->fd, &s->ctr);
    }
    s->ws = NULL;
    c->sub = NULL;
    pl_timer_stop(c->ping);
    if (c->wsi && !c->closing)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    fail_pending(c);
}

static void ws_account(pl_sub *s)
{
    if (s->ws && s->ws->fd >= 0)
        pl_acct_take(s->loop, s->ws->fd, &s->ctr);
}

static void ping_cb(pl_timer *t, void *ud)
{
    pl_ws_conn *c = ud;
    c->ping_due = true;
    lws_callback_on_writable(c->wsi);
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

/* One whole text message `p` of `n` bytes, borrowed from lws or c->rx. */
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

static int on_receive(pl_ws_conn *c, const char *in, size_t len)
{
    bool whole = lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi);
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
        if (lws_write(c->wsi, buf + LWS_PRE, 15, LWS_WRITE_TEXT) < 15)
            return -1;
    } else {
        for (size_t i = 0; i < c->q_len; i++) {
            ws_pub *p = &c->q[(c->q_head + i) % PL_WS_QUEUE_MAX];
            if (p->sent)
                continue;
            if (lws_write(c->wsi, p->buf + LWS_PRE, p->len, LWS_WRITE_TEXT) < (int)p->len)
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
            lws_callback_on_writable(c->wsi);
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
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* ------------------------------------------------------ lws callbacks */

static void conn_lost(pl_ws_conn *c, int rc, const char *what, const char *detail)
{
    pl_client_err err;
    c->closing = true;
    if (!c->sub)
        return;
    pl_proto_err(&err, rc, 0, "transport", "%s%s%s", what, detail ? ": " : "",
                 detail ? detail : "");
    pl_sub_lost(c->sub, &err);
}

/* The handshake failed. Before the TCP connection was up it is a refusal;
 * an answer other than 101 is the server's verdict (4xx but 429: final);
 * a connection cut before the answer is a lost one. */
static void handshake_failed(pl_ws_conn *c, struct lws *wsi, const char *why, int os_errno)
{
    pl_client_err err;
    unsigned status = c->fd >= 0 ? lws_http_client_http_response(wsi) : 0;
    c->closing = true;
    if (!c->sub)
        return;
    if (c->untrusted) { /* as for https: a setting to fix, not a fault */
        pl_proto_err(&err, -EPROTO, 0, "tls", "the server's certificate is not trusted%s%s",
                     why ? ": " : "", why ? why : "");
        pl_sub_fatal(c->sub, &err);
        return;
    }
    if (status) {
        pl_proto_err(&err, -EPROTO, (int)status, "http", "WebSocket handshake answered HTTP %u",
                     status);
        if (status >= 400 && status < 500 && status != 429)
            pl_sub_fatal(c->sub, &err);
        else
            pl_sub_refused(c->sub, &err);
        return;
    }
    int e = c->fd >= 0 ? 0 : pl_proto_connect_errno(os_errno);
    pl_proto_err(&err,
                 c->fd >= 0 ? -ECONNRESET
                 : e        ? -e
                            : -ECONNREFUSED,
                 0, "transport", "%s%s%s%s%s%s",
                 c->fd >= 0 ? "WebSocket handshake cut" : "WebSocket connect failed",
                 why ? ": " : "", why ? why : "", e ? " (" : "", e ? strerror(e) : "",
                 e ? ")" : "");
    if (c->fd >= 0)
        pl_sub_lost(c->sub, &err);
    else
        pl_sub_refused(c->sub, &err);
}

static void on_established(pl_ws_conn *c)
{
    pl_sub *s = c->sub;
    c->established = true;
    if (c->fd < 0) {
        c->fd = lws_get_socket_fd(c->wsi);
        pl_acct_open(s->loop, c->fd, &s->ctr);
        s->ctr.http_requests++;
    }
    pl_sub_opened(s);
    pl_sub_watchdog_arm(s);
    if (s->o.ping_s > 0)
        pl_timer_start(c->ping, (int64_t)s->o.ping_s * 1000000);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    /* The TLS reasons pass OpenSSL objects in `user`, not our connection:
     * lws and OpenSSL keep their own verdict when we stay out of it. */
    int os_errno = errno; /* before anything here can change it */
    bool not_ours = reason == LWS_CALLBACK_PROTOCOL_INIT ||
                    reason == LWS_CALLBACK_PROTOCOL_DESTROY ||
                    reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION ||
                    reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS;
    pl_ws_conn *c = not_ours ? NULL : user;
    int rc = 0;
    if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION && !len) {
        /* OpenSSL's verdict stands (return 0); remember it for the error. */
        pl_ws_conn *mine = lws_wsi_user(wsi);
        if (mine)
            mine->untrusted = true;
    }
    if (!c)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (reason == LWS_CALLBACK_WSI_DESTROY) {
        /* A connect() that failed at once (no port left, say) ends here
         * without CONNECTION_ERROR: a refusal, not a lost connection. */
        if (c->sub && c->fd < 0 && !c->closing)
            handshake_failed(c, wsi, "Unable to connect", os_errno);
        else if (c->sub)
            conn_lost(c, -ECONNRESET, "WebSocket closed", NULL);
        if (c->in_connect)
            c->destroyed = true;
        else
            conn_free(c);
        return 0;
    }
    if (!c->sub) /* detached: close at the first chance */
        return reason == LWS_CALLBACK_CLIENT_RECEIVE || reason == LWS_CALLBACK_CLIENT_WRITEABLE ? -1
                                                                                                : 0;
    pl_sub *s = c->sub;
    pl_sub_enter(s);
    c->wsi = wsi;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        c->fd = lws_get_socket_fd(wsi);
        pl_acct_open(s->loop, c->fd, &s->ctr);
        s->ctr.http_requests++;
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED: on_established(c); break;
    case LWS_CALLBACK_CLIENT_RECEIVE: rc = on_receive(c, in, len); break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: rc = on_writeable(c); break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: handshake_failed(c, wsi, in, os_errno); break;
    case LWS_CALLBACK_CLIENT_CLOSED: conn_lost(c, -ECONNRESET, "WebSocket closed", NULL); break;
    default: rc = lws_callback_http_dummy(wsi, reason, user, in, len); break;
    }
    if (!pl_sub_leave(s) || !c->sub)
        rc = reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR || reason == LWS_CALLBACK_CLIENT_CLOSED
                 ? 0
                 : -1;
    return rc;
}

static const struct lws_protocols protocols[] = {
    {"pushlab-client", ws_callback, 0, 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---------------------------------------------------------- connecting */

/* All zero: no lws validity timer on our connections (without it a client
 * connection gets lws's default, 300 s). lws 4.1 keeps every timer of the
 * context in one sorted list and re-inserts a connection's validity timer,
 * always the latest, on each frame it receives, walking the whole list.
 * The silence watchdog (sub.c) and the application ping do that job here.
 * (Opening 18,000 subscribers at once, 92 % of the bench's CPU was
 * lws_dll2_add_sorted; what made them open was the bench's open window,
 * not this: see docs/architecture.md.) */
static const lws_retry_bo_t no_validity_timers;

static int ws_connect(pl_sub *s)
{
    struct lws_client_connect_info ci;
    char hostport[300];
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
    c->fd = -1;
    memset(&ci, 0, sizeof ci);
    if (!(ci.context = pl_ws_context_of(s->loop, protocols, t.host, t.tls))) {
        pl_timer_free(c->ping);
        free(c);
        return -ENOMEM;
    }
    ci.address = t.host;
    ci.port = t.port;
    ci.path = t.path;
    snprintf(hostport, sizeof hostport, "%s:%d", t.host, t.port);
    ci.host = hostport; /* the Host header */
    ci.origin = NULL;   /* a non-browser client sends no Origin */
    ci.local_protocol_name = "pushlab-client";
    ci.userdata = c;
    ci.iface = s->source_addr;
    ci.retry_and_idle_policy = &no_validity_timers;
    ci.ssl_connection = t.tls ? LCCSCF_USE_SSL : 0;
    if (t.tls && s->loop->insecure)
        ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                             LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    s->ws = c;
    c->in_connect = true;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    c->in_connect = false;
    if (c->destroyed || !wsi) {
        /* lws may have reported the failure from inside the call already */
        bool reported = c->closing;
        if (s->ws == c)
            s->ws = NULL;
        conn_free(c);
        return reported || s->closed ? 0 : -ECONNREFUSED;
    }
    if (!c->wsi)
        c->wsi = wsi;
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
