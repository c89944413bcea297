/* The libwebsockets client context of a loop (ws_context.c): made by the
 * first WebSocket connection with the loop's TLS options, freed with the
 * loop. Loop thread only. */
#ifndef PL_WS_CONTEXT_H
#define PL_WS_CONTEXT_H
#include <libwebsockets.h>
#include <stdbool.h>
#include "loop.h"

/* The loop's context, made now with `protocols` (which must outlive the
 * loop) if there is none, or NULL. Made for the first connection, to
 * `host` (`tls`: wss): the proxy decision (proxy.c) is made then, once per
 * loop, which is right because a loop talks to one server. */
struct lws_context *pl_ws_context_of(pl_loop *l, const struct lws_protocols *protocols,
                                     const char *host, bool tls);

#endif
