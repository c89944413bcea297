/* WebSocket transport (libwebsockets): its own port, served by one or more
 * service threads, each with its own listener on that port (SO_REUSEPORT:
 * the kernel deals out the connections). Each connection keeps a cursor
 * into its room's history and writes what is after it whenever lws says
 * it is writable; a publish from any thread wakes every service thread
 * with lws_cancel_service().
 *
 * Refused handshakes get an HTTP status instead of the 101 and are counted
 * with pl_stats_count_status: a foreign Origin (403), a path other than
 * /ws/{room} (404), a bad room name, a bad `since` or `heartbeat`, a subprotocol list
 * without "pushlab.v1" (400), max_connections reached or the store's room
 * limit hit (503). The subprotocol is optional: without one none is echoed.
 *
 * ?heartbeat=S sets the peer's own heartbeat, clamped to the bounds.
 *
 * Client frames: publish -> ack, ping -> pong (JSON or bare text); anything
 * else gets an error frame and the connection stays open. At most 64
 * replies wait per connection: past that the peer floods and is closed
 * with 1008. pl_ws_stop() sends every peer a 1001 close frame.
 *
 * Counted in st->errors besides the statuses: handshakes lws refused or
 * dropped on its own (PL_ERR_WS_BAD_HANDSHAKE: garbage, TLS, no key, an
 * oversized head, too slow) and connections that ended without a close
 * frame from the peer, which is what lws leaves of a framing error
 * (PL_ERR_WS_ABNORMAL). A version other than 13 is a 400. */
#ifndef PL_TRANSPORT_WS_H
#define PL_TRANSPORT_WS_H
#include <stdbool.h>
#include <stddef.h>
#include "backend.h"
#include "origin.h"
#include "stats.h"
#include "store.h"

typedef struct pl_ws_config {
    const char *bind;       /* address to listen on, e.g. "127.0.0.1" */
    int port;               /* 0 = pick a free port */
    int heartbeat_s;        /* ping a peer silent this long; drop it after 2*heartbeat_s+5 */
    int min_heartbeat_s;    /* bounds of a peer's own ?heartbeat= (0: 1) */
    int max_heartbeat_s;    /* (0: heartbeat_s) */
    size_t max_connections; /* open WebSockets; 0 = 10000 */
    /* A connection more than this many messages behind its room's newest
     * is cut (a client that does not read) and counted in
     * ws.slow_consumers_dropped; 0 = never. */
    size_t max_lag;
    /* Which browser Origins may connect (origin.h); borrowed, it must
     * outlive the pl_ws. NULL: none (clients sending no Origin still may). */
    const pl_origin_policy *origin;
    /* Service threads: 0 = one per online CPU; at most 16. */
    int threads;
    /* Waits this long after a publish before writing to its room's peers,
     * so what comes meanwhile goes in the same write: less CPU, later
     * delivery. 0 = at once. */
    int write_delay_ms;
    /* Off: TCP_NODELAY always. On: a peer still holding bytes unacked when
     * its next frames are due has them coalesced by Nagle until it catches
     * up (common/coalesce.h), counted in ws.coalesced. */
    bool coalesce;
} pl_ws_config;

typedef struct pl_ws pl_ws;

/* Creates the listeners and starts their service threads. Borrows `backend`
 * (its store is what connections read; publishes and opens go through
 * it) and `stats` (they must outlive the pl_ws) and copies what it needs
 * of `cfg`. Stop the backend before pl_ws_stop(): its answers must have
 * come. Registers a publish hook on the store: call before other threads
 * publish.
 * The store cannot unregister hooks, so once pl_ws_stop() ran nobody may
 * publish into that store any more (stop the publishers first).
 * Returns 0 and *out, or a negative errno-style code (-EADDRINUSE when the
 * port is taken, by a sharing listener too, or a listener could not be
 * created). */
int pl_ws_start(pl_ws **out, const pl_ws_config *cfg, pl_backend *backend, pl_stats *st);
/* The port actually bound (useful with port 0). */
int pl_ws_port(const pl_ws *ws);
/* How many service threads serve it, and how many open WebSockets thread
 * `i` (below that count) serves now. Any thread. */
size_t pl_ws_threads(const pl_ws *ws);
size_t pl_ws_thread_connections(const pl_ws *ws, size_t i);
/* Closes every connection, joins the service threads and frees the pl_ws.
 * NULL is a no-op. */
void pl_ws_stop(pl_ws *ws);

#endif
