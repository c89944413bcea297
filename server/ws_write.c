/* The WebSocket transport's writes (see transport_ws_internal.h): a
 * peer's messages as their prebuilt frames, straight to its socket; its
 * replies through lws; and the count of every byte either put on it.
 * Service thread. */
#include "transport_ws_internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "clock.h"
#include "message.h"
#include "wire.h"

/* Bytes handed to this socket so far (common/wire.h), 0 if unknown. */
static uint64_t wire_out(struct lws *wsi)
{
    pl_wire w;
    pl_wire_read(lws_get_socket_fd(wsi), &w);
    return w.out;
}

void pl_ws_count_bytes(pl_ws_svc *ws, struct conn *c, uint64_t n)
{
    c->bytes_counted += n;
    pl_stat_add(&ws->st->ws.bytes_out, n);
}

void pl_ws_count_wire(pl_ws_svc *ws, struct conn *c)
{
    uint64_t sent = wire_out(c->wsi);
    if (sent > c->bytes_counted)
        pl_ws_count_bytes(ws, c, sent - c->bytes_counted);
}

/* Server frames are unmasked: 2, 4 or 10 header bytes. */
static size_t frame_header_len(size_t payload)
{
    return payload < 126 ? 2 : payload <= 0xffff ? 4 : 10;
}

/* One text frame from `buf` (which has LWS_PRE bytes before it). Returns 0
 * or -1 to close. */
static int write_text(pl_ws_svc *ws, struct conn *c, unsigned char *buf, size_t len)
{
    if (lws_write(c->wsi, buf, len, LWS_WRITE_TEXT) < (int)len)
        return -1;
    pl_ws_count_bytes(ws, c, frame_header_len(len) + len);
    return 0;
}

int pl_ws_write_reply(pl_ws_svc *ws, struct conn *c)
{
    struct reply *r = c->replies[c->rq_head];
    c->replies[c->rq_head] = NULL;
    c->rq_head = (c->rq_head + 1) % REPLY_QUEUE_MAX;
    c->rq_len--;
    pl_coalesce_push(c->fd, &c->coalesce); /* the peer waits on it */
    int rc = write_text(ws, c, r->buf + LWS_PRE, r->len);
    free(r);
    return rc;
}

/* Frames in one write: a peer's backlog, or what a write delay gathered. */
#define WRITE_BURST 16

/* What the socket did not take, as one piece that lws sends before
 * anything else (it copies it). Returns 0 or -1 to close. */
static int hand_rest_to_lws(struct conn *c, const struct iovec *iov, size_t k, size_t skip,
                            size_t rest)
{
    unsigned char *buf = malloc(rest), *p = buf;
    if (!buf)
        return -1;
    for (size_t i = 0; i < k; i++) {
        size_t len = iov[i].iov_len, off = skip < len ? skip : len;
        memcpy(p, (char *)iov[i].iov_base + off, len - off);
        p += len - off;
        skip -= off;
    }
    int rc = lws_write(c->wsi, buf, rest, LWS_WRITE_RAW) < (int)rest ? -1 : 0;
    free(buf);
    return rc;
}

/* The messages' frames, built once in each message, go to the socket as
 * they are, in one sendmsg: lws_write would copy each behind a header it
 * writes per peer and reach into the wsi's role and vhost (cache misses,
 * peer after peer). Only when lws holds back nothing of its own, so no
 * frame is split; what the socket does not take is lws's, as raw bytes.
 * No TLS and no extension is ever negotiated here (ws_listener.c), so the
 * frames' bytes are the wire's. Returns 0 or -1 to close. */
static int send_frames(pl_ws_svc *ws, struct conn *c, struct iovec *iov, size_t k, size_t total)
{
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = k};
    if (ws->coalesce && pl_coalesce_before_write(c->fd, &c->coalesce) == 1)
        pl_stat_add(&ws->st->ws.coalesced, 1);
    ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        return -1;
    size_t sent = n > 0 ? (size_t)n : 0;
    if (sent < total && hand_rest_to_lws(c, iov, k, sent, total - sent) != 0)
        return -1;
    pl_ws_count_bytes(ws, c, total);
    return 0;
}

int pl_ws_write_messages(pl_ws_svc *ws, struct conn *c, uint64_t last_id)
{
    pl_msg *m[WRITE_BURST];
    struct iovec iov[WRITE_BURST];
    bool gap = false, later_gap;
    size_t k = 0, total = 0;
    if (lws_partial_buffered(c->wsi)) {
        lws_callback_on_writable(c->wsi); /* lws's bytes go first */
        return 0;
    }
    for (uint64_t at = c->cursor; k < WRITE_BURST && at < last_id; k++) {
        if (!(m[k] = pl_room_next(c->room, at, k ? &later_gap : &gap)))
            break;
        iov[k] = (struct iovec){(void *)m[k]->ws_frame, m[k]->ws_frame_len};
        total += m[k]->ws_frame_len;
        at = m[k]->id;
    }
    if (k == 0)
        return 0;
    int rc = send_frames(ws, c, iov, k, total);
    c->cursor = m[k - 1]->id;
    int64_t now = pl_clock_real_us();
    for (size_t i = 0; i < k; i++) {
        if (rc == 0)
            pl_stats_delivered(&ws->st->ws, m[i]->ts, now);
        pl_msg_unref(m[i]);
    }
    if (rc == 0) {
        pl_stat_add(&ws->st->ws.messages_out, k);
        if (gap)
            pl_stat_add(&ws->st->ws.gaps, 1);
    }
    return rc;
}
