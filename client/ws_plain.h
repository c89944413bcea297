/* A WebSocket connection over a socket libcurl connected, for ws:// with
 * no proxy: the upgrade, the frames and the control frames spoken here
 * (ws_codec.c's bytes) instead of by libwebsockets, whose per-frame path
 * was 30 % of the bench's CPU. wss:// and proxies stay with lws (ws.c).
 * The link runs on a pl_xfer (its takeover) and reports to its owner
 * through ws_link.h's events only. Loop thread only. */
#ifndef PL_WS_PLAIN_H
#define PL_WS_PLAIN_H
#include <stdbool.h>
#include <stddef.h>
#include "ws_link.h"
#include "xfer.h"

/* Connects `h` to ws://host:port and sends the upgrade for `path` (with
 * its query), Host "host:port". Frames over `max` bytes end the link; no
 * 101 within `handshake_ms` of the connect ends it as cut.
 * Replaces h->done and whatever took `h` over before. Returns 0 or a
 * negative code (then nothing is reported). */
int pl_ws_plain_open(pl_xfer *h, const char *host, int port, const char *path, size_t max,
                     int handshake_ms, const pl_ws_link_events *ev, void *ud);

/* Sends one text frame (masked, as a client must). Returns 0, -ENOTCONN
 * before opened or after the end, -EAGAIN when the bytes waiting for the
 * socket passed their bound, or -ENOMEM. */
int pl_ws_plain_send_text(pl_xfer *h, const char *p, size_t n);

/* Asks for ev->writable once, from the loop (never from inside this
 * call), when nothing else waits for the socket. */
void pl_ws_plain_want_writable(pl_xfer *h);

#endif
