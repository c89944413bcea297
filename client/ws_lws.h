/* A WebSocket connection on libwebsockets, for what ws_plain.c leaves
 * to it: wss:// (lws's TLS and its certificate checks) and a proxy
 * ($http_proxy, which lws reads). It reports to its owner through
 * ws_link.h's events only, charges its socket to `ctr`, and is freed by
 * lws once stopped. Loop thread only. */
#ifndef PL_WS_LWS_H
#define PL_WS_LWS_H
#include <libwebsockets.h>
#include "client.h"
#include "loop.h"
#include "url.h"
#include "ws_link.h"

typedef struct pl_ws_lws pl_ws_lws;

/* Connects to `t` from `source_addr` (NULL: any). Returns the link, or
 * NULL with *end filled when it failed at once (lws may say why from
 * inside the call; then *end says it, else kind NO_CONNECTION and why
 * NULL), -ENOMEM in end->os_errno for no memory. Nothing is reported
 * through `ev` for such a failure. */
pl_ws_lws *pl_ws_lws_open(pl_loop *l, const pl_url_target *t, const char *source_addr,
                          pl_sub_counters *ctr, const pl_ws_link_events *ev, void *ud,
                          pl_ws_link_end *end);

/* Asks for ev->writable once the socket can take a frame. */
void pl_ws_lws_want_writable(pl_ws_lws *k);

/* Sends one text frame; `p` has LWS_PRE bytes of headroom before it.
 * Returns 0 or -EIO. */
int pl_ws_lws_send_text(pl_ws_lws *k, unsigned char *p, size_t n);

/* Charges the socket's bytes so far to the counters. */
void pl_ws_lws_account(pl_ws_lws *k);

/* Detaches the owner: no event follows, and lws closes and frees the
 * link on its next service. `k` must not be used after. */
void pl_ws_lws_stop(pl_ws_lws *k);

#endif
