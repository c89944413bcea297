/* WebSocket transport (libwebsockets): its own listener and service thread.
 * Each connection keeps a cursor into its room's history and writes what is
 * after it whenever lws says it is writable; a publish from any thread wakes
 * the service thread with lws_cancel_service(). */
#ifndef PL_TRANSPORT_WS_H
#define PL_TRANSPORT_WS_H
#include <stddef.h>
#include "stats.h"
#include "store.h"

typedef struct pl_ws_config {
    const char *bind; /* address to listen on, e.g. "127.0.0.1" */
    int port;         /* 0 = pick a free port */
    int heartbeat_s;  /* ping a silent peer after this, drop it later */
    size_t max_connections;
    const char *const *origins; /* allowed browser Origins; "*" allows any */
    size_t n_origins;
} pl_ws_config;

typedef struct pl_ws pl_ws;

/* Creates the listener and starts its service thread. Borrows `store` and
 * `stats` (they must outlive the pl_ws) and copies what it needs of `cfg`.
 * Registers a publish hook on the store: call before other threads publish.
 * Returns 0 and *out, or a negative errno-style code. */
int pl_ws_start(pl_ws **out, const pl_ws_config *cfg, pl_store *store, pl_stats *st);
/* The port actually bound (useful with port 0). */
int pl_ws_port(const pl_ws *ws);
/* Closes every connection, joins the service thread and frees the pl_ws.
 * NULL is a no-op. */
void pl_ws_stop(pl_ws *ws);

#endif
