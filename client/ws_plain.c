/* WebSocket over a libcurl-connected socket; see ws_plain.h. libcurl
 * connects (source address, connect timeout, accounting as for any
 * request), then this file sends the upgrade, checks the 101 with
 * http-parser and reads frames in 16 KB reads, answering pings and the
 * close handshake itself. */
#include "ws_plain.h"
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "buf.h"
#include "ws_codec.h"

#define READ_CHUNK 16384
#define HEAD_MAX   8192       /* the 101's head */
#define OUT_MAX    (4u << 20) /* bytes waiting for the socket */

typedef struct plain {
    ev_io io;
    ev_timer answer_due; /* from the connect to the 101 */
    int handshake_ms;
    pl_xfer *h;
    const pl_ws_link_events *ev;
    void *ud;
    size_t max;
    pl_buf out; /* bytes for the socket, out_off of them sent */
    size_t out_off;
    pl_buf in; /* the head, then a frame's bytes that have not all come */
    char accept[PL_WS_CODEC_ACCEPT_LEN + 1];
    bool open, fragmented, close_sent;
    bool want_writable; /* ev->writable is due */
    unsigned run;       /* bumped by stop: a callback stopped or restarted us */
    unsigned io_events;
} plain;

static const pl_xfer_takeover plain_ops;

/* This link's state on `h`, NULL when another takeover has `h` (SSE). */
static plain *plain_of(pl_xfer *h) { return h->takeover == &plain_ops ? h->takeover_state : NULL; }

/* Stops the link, then says why; nothing of `st` is used after. */
static void end(plain *st, const pl_ws_link_end *e)
{
    const pl_ws_link_events *ev = st->ev;
    void *ud = st->ud;
    pl_xfer_abort(st->h);
    ev->ended(ud, e);
}

static void end_simple(plain *st, pl_ws_link_end_kind kind, const char *why)
{
    pl_ws_link_end e = {.kind = kind, .why = why};
    end(st, &e);
}

/* ------------------------------------------------------------ writing */

static void want_io(plain *st, unsigned events)
{
    if (st->io_events == events)
        return;
    struct ev_loop *ev = st->h->loop->ev;
    ev_io_stop(ev, &st->io);
    ev_io_set(&st->io, st->io.fd, (int)events);
    ev_io_start(ev, &st->io);
    st->io_events = events;
}

/* Sends what is waiting. A failed send leaves the bytes: the read that
 * follows (fed at once) reports the reset or EOF. */
static void flush(plain *st)
{
    while (st->out_off < st->out.len) {
        size_t n = 0;
        CURLcode rc = pl_xfer_send(st->h, st->out.p + st->out_off, st->out.len - st->out_off, &n);
        if (rc == CURLE_AGAIN)
            break;
        if (rc != CURLE_OK) {
            ev_feed_event(st->h->loop->ev, &st->io, EV_READ);
            return;
        }
        st->out_off += n;
    }
    if (st->out_off == st->out.len) {
        pl_buf_clear(&st->out);
        st->out_off = 0;
    }
    want_io(st, EV_READ | (st->out.len ? EV_WRITE : 0));
}

/* Masks come from getrandom(), 64 at a time: RFC 6455 wants them
 * unpredictable, and a syscall per frame would be the frame's cost. */
static void next_mask(unsigned char mask[4])
{
    static _Thread_local unsigned char pool[256];
    static _Thread_local size_t left;
    if (left < 4) {
        if (getrandom(pool, sizeof pool, 0) != (ssize_t)sizeof pool)
            for (size_t i = 0; i < sizeof pool; i++) /* never: the pool is small */
                pool[i] = (unsigned char)rand();
        left = sizeof pool;
    }
    memcpy(mask, pool + sizeof pool - left, 4);
    left -= 4;
}

static int queue_frame(plain *st, unsigned opcode, const void *p, size_t n)
{
    unsigned char mask[4];
    int rc = pl_buf_reserve(&st->out, n + PL_WS_CODEC_HEAD_MAX);
    if (rc)
        return rc == -EMSGSIZE ? -EAGAIN : rc;
    next_mask(mask);
    st->out.len +=
        pl_ws_codec_client_frame((unsigned char *)st->out.p + st->out.len, opcode, p, n, mask);
    return 0;
}

int pl_ws_plain_send_text(pl_xfer *h, const char *p, size_t n)
{
    plain *st = plain_of(h);
    if (!st || !st->open || st->close_sent || !h->taken)
        return -ENOTCONN;
    int rc = queue_frame(st, PL_WS_OP_TEXT, p, n);
    if (rc == 0)
        flush(st);
    return rc;
}

void pl_ws_plain_want_writable(pl_xfer *h)
{
    plain *st = plain_of(h);
    if (!st || !st->open || st->want_writable)
        return;
    st->want_writable = true;
    ev_feed_event(h->loop->ev, &st->io, EV_WRITE);
}

/* ------------------------------------------------------------ frames */

/* A control frame; false once the link is over. */
static bool on_control(plain *st, const pl_ws_codec_head *fh, const unsigned char *p)
{
    if (fh->opcode == PL_WS_OP_PING) {
        if (!st->close_sent && queue_frame(st, PL_WS_OP_PONG, p, fh->len) == 0)
            flush(st);
        return true;
    }
    if (fh->opcode != PL_WS_OP_CLOSE)
        return true; /* a pong: nothing to do */
    pl_ws_link_end e = {.kind = PL_WS_LINK_CLOSED};
    if (fh->len >= 2)
        e.close_code = p[0] << 8 | p[1];
    if (!st->close_sent && queue_frame(st, PL_WS_OP_CLOSE, p, fh->len >= 2 ? 2 : 0) == 0) {
        st->close_sent = true;
        flush(st); /* the answer, as far as the socket takes it now */
    }
    end(st, &e);
    return false;
}

/* One whole frame; false once the link is over or was stopped. */
static bool on_frame(plain *st, const pl_ws_codec_head *fh, const unsigned char *payload)
{
    if (fh->opcode >= PL_WS_OP_CLOSE)
        return on_control(st, fh, payload);
    if ((fh->opcode == PL_WS_OP_CONT) != st->fragmented) {
        end_simple(st, PL_WS_LINK_BROKEN,
                   st->fragmented ? "a new message inside a fragmented one"
                                  : "a continuation frame with no message to continue");
        return false;
    }
    st->fragmented = !fh->fin;
    unsigned run = st->run;
    st->ev->data(st->ud, (const char *)payload, fh->len, fh->fin);
    return st->run == run;
}

/* Reads the whole frames at `p`; returns the bytes used, or -1 once the
 * link is over or was stopped. */
static long read_frames(plain *st, const unsigned char *p, size_t n)
{
    size_t off = 0;
    for (;;) {
        pl_ws_codec_head fh;
        int rc = pl_ws_codec_head_read(p + off, n - off, &fh);
        if (rc < 0) {
            end_simple(st, PL_WS_LINK_BROKEN, "a frame header no server may send");
            return -1;
        }
        if (rc == 0)
            return (long)off;
        if (fh.len > st->max) {
            end_simple(st, PL_WS_LINK_TOO_BIG, NULL);
            return -1;
        }
        if (n - off - fh.head_len < fh.len)
            return (long)off;
        if (!on_frame(st, &fh, p + off + fh.head_len))
            return -1;
        off += fh.head_len + fh.len;
    }
}

/* Frame bytes as read; the tail of a frame not yet whole waits in st->in.
 * False once the link is over or was stopped. */
static bool feed_frames(plain *st, const char *buf, size_t n)
{
    const char *p = buf;
    size_t len = n;
    if (st->in.len) { /* a frame began in an earlier read */
        if (pl_buf_append(&st->in, buf, n)) {
            end_simple(st, PL_WS_LINK_TOO_BIG, NULL);
            return false;
        }
        p = st->in.p;
        len = st->in.len;
    }
    long used = read_frames(st, (const unsigned char *)p, len);
    if (used < 0)
        return false;
    if (p == st->in.p) {
        memmove(st->in.p, st->in.p + used, len - (size_t)used);
        st->in.len = len - (size_t)used;
    } else if ((size_t)used < len && pl_buf_append(&st->in, p + used, len - (size_t)used)) {
        end_simple(st, PL_WS_LINK_TOO_BIG, NULL);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------- the 101 */

/* Checks the whole head (`len` bytes of st->in); false when the link is
 * over or was stopped. */
static bool check_head(plain *st, size_t len)
{
    unsigned status = 0;
    const char *why = NULL;
    int rc = pl_ws_codec_answer(st->in.p, len, st->accept, &status, &why);
    st->h->status = status;
    if (rc < 0) {
        end_simple(st, PL_WS_LINK_BAD_HANDSHAKE, why);
        return false;
    }
    if (rc > 0) {
        pl_ws_link_end e = {.kind = PL_WS_LINK_ANSWERED, .status = status};
        end(st, &e);
        return false;
    }
    st->open = true;
    ev_timer_stop(st->h->loop->ev, &st->answer_due);
    unsigned run = st->run;
    st->ev->opened(st->ud, st->io.fd);
    return st->run == run;
}

/* Bytes before the link is open: the head, then maybe the first frames.
 * False once the link is over or was stopped. */
static bool feed_head(plain *st, const char *buf, size_t n)
{
    size_t from = st->in.len > 3 ? st->in.len - 3 : 0;
    /* The buffer has room for a read past the head: the first frames. */
    int rc = pl_buf_append(&st->in, buf, n);
    char *eoh = rc ? NULL : memmem(st->in.p + from, st->in.len - from, "\r\n\r\n", 4);
    size_t head = eoh ? (size_t)(eoh + 4 - st->in.p) : st->in.len;
    if (rc || head > HEAD_MAX) {
        end_simple(st, PL_WS_LINK_BAD_HANDSHAKE, "an answer head over 8 KB");
        return false;
    }
    if (!eoh)
        return true;
    size_t rest = st->in.len - head;
    if (!check_head(st, head))
        return false;
    /* The frames after it go the usual way, from a buffer of their own. */
    char *tail = rest ? malloc(rest) : NULL;
    if (rest && !tail) {
        end_simple(st, PL_WS_LINK_CLOSED, "out of memory");
        return false;
    }
    if (rest)
        memcpy(tail, st->in.p + head, rest);
    pl_buf_free(&st->in);
    pl_buf_init(&st->in, 4096, st->max + PL_WS_CODEC_HEAD_MAX + READ_CHUNK);
    bool go = rest ? feed_frames(st, tail, rest) : true;
    free(tail);
    return go;
}

/* ------------------------------------------------------------ the link */

/* EOF (rc CURLE_OK) or a failed recv(), whose errno is in h->errbuf. */
static void on_read_end(plain *st, CURLcode rc)
{
    const char *why = rc == CURLE_OK ? NULL : st->h->errbuf;
    end_simple(st, st->open ? PL_WS_LINK_CLOSED : PL_WS_LINK_CUT, why);
}

static void on_io(struct ev_loop *ev, ev_io *w, int revents)
{
    plain *st = (plain *)(void *)w;
    char buf[READ_CHUNK];
    (void)ev;
    if (revents & EV_WRITE) {
        flush(st);
        if (st->want_writable && st->out.len == 0) {
            unsigned run = st->run;
            st->want_writable = false;
            st->ev->writable(st->ud);
            if (st->run != run)
                return;
        }
    }
    if (!(revents & EV_READ))
        return;
    for (;;) {
        size_t n = 0;
        CURLcode rc = pl_xfer_recv(st->h, buf, sizeof buf, &n);
        if (rc == CURLE_AGAIN)
            return;
        if (rc != CURLE_OK || n == 0) {
            on_read_end(st, rc);
            return;
        }
        if (!(st->open ? feed_frames(st, buf, n) : feed_head(st, buf, n)))
            return;
        if (n < sizeof buf) /* a short read emptied the socket */
            return;
    }
}

static void connected(pl_xfer *h)
{
    plain *st = plain_of(h);
    int fd = pl_xfer_take_socket(h);
    if (fd < 0) {
        end_simple(st, PL_WS_LINK_NO_CONNECTION, "no socket");
        return;
    }
    ev_io_init(&st->io, on_io, fd, EV_READ);
    st->io_events = EV_READ;
    ev_io_start(h->loop->ev, &st->io);
    ev_timer_set(&st->answer_due, st->handshake_ms / 1000.0, 0.);
    ev_timer_start(h->loop->ev, &st->answer_due);
    flush(st); /* the upgrade request */
}

/* libcurl's connect failed (its done callback: a connect-only run that
 * connected never ends here). */
static void connect_failed(pl_xfer *h, CURLcode rc, long status)
{
    plain *st = plain_of(h);
    long os_errno = 0;
    (void)status;
    curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &os_errno);
    pl_ws_link_end e = {.kind = PL_WS_LINK_NO_CONNECTION,
                        .os_errno = h->sock_errno ? h->sock_errno : (int)os_errno,
                        .why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc)};
    if (rc == CURLE_ABORTED_BY_CALLBACK && status < 0)
        return; /* the loop is being freed */
    st->ev->ended(st->ud, &e);
}

/* A server that took the connection and never answered the upgrade. */
static void no_answer(struct ev_loop *ev, ev_timer *w, int revents)
{
    plain *st = (plain *)((char *)w - offsetof(plain, answer_due));
    (void)ev, (void)revents;
    end_simple(st, PL_WS_LINK_CUT, "no answer to the upgrade in time");
}

static void stop(pl_xfer *h)
{
    plain *st = plain_of(h);
    st->run++;
    st->open = false;
    ev_io_stop(h->loop->ev, &st->io);
    ev_timer_stop(h->loop->ev, &st->answer_due);
}

static void plain_free(pl_xfer *h)
{
    plain *st = plain_of(h);
    pl_buf_free(&st->out);
    pl_buf_free(&st->in);
    free(st);
    h->takeover_state = NULL;
}

static const pl_xfer_takeover plain_ops = {
    .connected = connected,
    .stop = stop,
    .free = plain_free,
};

static int build_upgrade(plain *st, const char *host, int port, const char *path)
{
    unsigned char nonce[16];
    char key[PL_WS_CODEC_KEY_LEN + 1], req[1024];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        return -EIO;
    pl_ws_codec_key(nonce, key);
    if (pl_ws_codec_accept(key, st->accept))
        return -ENOMEM;
    bool v6 = strchr(host, ':') != NULL;
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, v6 ? "[" : "", host, v6 ? "]" : "", port, key);
    if (n < 0 || (size_t)n >= sizeof req || strpbrk(path, "\r\n "))
        return -EINVAL;
    pl_buf_clear(&st->out);
    st->out_off = 0;
    return pl_buf_append(&st->out, req, (size_t)n);
}

int pl_ws_plain_open(pl_xfer *h, const char *host, int port, const char *path, size_t max,
                     int handshake_ms, const pl_ws_link_events *ev, void *ud)
{
    char url[300];
    bool v6 = strchr(host, ':') != NULL;
    plain *st = pl_xfer_takeover_of(h, &plain_ops);
    if (!st) {
        if (!(st = calloc(1, sizeof *st)))
            return -ENOMEM;
        st->h = h;
        ev_timer_init(&st->answer_due, no_answer, 0., 0.);
        pl_buf_init(&st->out, 1024, OUT_MAX);
        h->takeover = &plain_ops; /* plain_free releases it, even unused */
        h->takeover_state = st;
    }
    st->ev = ev;
    st->ud = ud;
    st->max = max;
    st->handshake_ms = handshake_ms;
    st->open = st->fragmented = st->close_sent = st->want_writable = false;
    pl_buf_free(&st->in);
    pl_buf_init(&st->in, 1024, HEAD_MAX + READ_CHUNK);
    int rc = build_upgrade(st, host, port, path);
    if (rc)
        return rc;
    if (snprintf(url, sizeof url, "http://%s%s%s:%d/", v6 ? "[" : "", host, v6 ? "]" : "", port) >=
        (int)sizeof url)
        return -EINVAL;
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, 0L);
    h->done = connect_failed;
    return pl_xfer_start_connect_only(h, &plain_ops, st);
}
