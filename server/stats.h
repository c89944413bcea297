/* Server counters for GET /api/stats: one block per transport plus error
 * counts. All fields are atomics so any thread may bump them. */
#ifndef PL_STATS_H
#define PL_STATS_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "backend.h"

/* Store-to-socket time of each delivered message, as a Prometheus
 * histogram: counts per bucket (not cumulative), their sum and count. */
#define PL_DELIVERY_BUCKETS 16
extern const double pl_delivery_bounds_s[PL_DELIVERY_BUCKETS];

typedef struct pl_delivery_hist {
    atomic_uint_fast64_t bucket[PL_DELIVERY_BUCKETS + 1]; /* the last: +Inf */
    atomic_uint_fast64_t sum_us, count;
} pl_delivery_hist;

typedef struct pl_transport_stats {
    atomic_uint_fast64_t requests;   /* HTTP requests (polling) */
    atomic_int_fast64_t connections; /* open now (SSE, WebSocket) */
    atomic_int_fast64_t waiting;     /* suspended now (long polling) */
    atomic_uint_fast64_t messages_out;
    atomic_uint_fast64_t bytes_out;   /* handed to the socket, headers included */
    atomic_uint_fast64_t messages_in; /* WebSocket publishes */
    atomic_uint_fast64_t gaps;        /* deliveries that skipped trimmed ids */
    pl_delivery_hist delivery;
    /* SSE, WebSocket: subscribers cut for falling more than --max-lag
     * messages behind their room */
    atomic_uint_fast64_t slow_consumers_dropped;
    /* SSE, WebSocket: times a subscriber was found behind at a write and
     * its next ones left to Nagle (common/coalesce.h) */
    atomic_uint_fast64_t coalesced;
} pl_transport_stats;

enum pl_err_kind {
    PL_ERR_400,
    PL_ERR_403,
    PL_ERR_404,
    PL_ERR_405,
    PL_ERR_413,
    PL_ERR_415,
    PL_ERR_429,
    PL_ERR_503,
    PL_ERR_WS_FRAME,         /* a bad frame answered with an error frame */
    PL_ERR_HTTP_BAD_HEAD,    /* bytes that never became a request head */
    PL_ERR_HTTP_INCOMPLETE,  /* a request whose body never completed */
    PL_ERR_HTTP_TIMEOUT,     /* a head or body cut at --header-timeout */
    PL_ERR_WS_BAD_HANDSHAKE, /* bytes that never became a handshake */
    PL_ERR_WS_ABNORMAL,      /* ended without a close frame from the peer */
    PL_ERR_KINDS
};

/* What became of publishes, over HTTP and WebSocket alike. */
typedef struct pl_publish_stats {
    atomic_uint_fast64_t stored, duplicate, refused;
} pl_publish_stats;

/* Where an error answer came from, for /metrics. */
enum pl_stats_ep {
    PL_SEP_SHORT_POLL,
    PL_SEP_LONG_POLL,
    PL_SEP_SSE,
    PL_SEP_WS,
    PL_SEP_PUBLISH,
    PL_SEP_OTHER, /* stats, config, files, unknown paths */
    PL_SEP_COUNT
};

typedef struct pl_stats {
    pl_transport_stats short_poll, long_poll, sse, ws;
    pl_publish_stats publishes;
    atomic_uint_fast64_t errors[PL_ERR_KINDS];
    atomic_uint_fast64_t errors_at[PL_SEP_COUNT][PL_ERR_KINDS];
    int64_t started_mono_us;
} pl_stats;

static inline void pl_stat_add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* One message handed to a socket `now_us` (wall clock) after the store
 * took it at `stored_us`. */
void pl_stats_delivered(pl_transport_stats *t, int64_t stored_us, int64_t now_us);

/* The HTTP status of error kind `kind` (0 for WebSocket frame errors) and
 * its key in /api/stats. */
int pl_stats_err_status(int kind, const char **key);
/* This process's resident memory, from /proc/self/statm; 0 if unknown. */
long pl_stats_rss_bytes(void);

/* Counts an HTTP error response by status (unknown statuses are ignored),
 * in the totals and under the endpoint that answered it. */
void pl_stats_count_status_at(pl_stats *st, enum pl_stats_ep ep, int status);
static inline void pl_stats_count_status(pl_stats *st, int status)
{
    pl_stats_count_status_at(st, PL_SEP_OTHER, status);
}
/* The /api/stats body, malloc'ed; the caller frees it. `backend` and
 * `store` describe the store behind the rooms ("store" in the body). */
char *pl_stats_json(pl_stats *st, size_t rooms, uint64_t published, const char *backend,
                    const pl_backend_info *store, size_t *len);

#endif
