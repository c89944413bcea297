/* Server counters for GET /api/stats: one block per transport plus error
 * counts. All fields are atomics so any thread may bump them. */
#ifndef PL_STATS_H
#define PL_STATS_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pl_transport_stats {
    atomic_uint_fast64_t requests;   /* HTTP requests (polling) */
    atomic_int_fast64_t connections; /* open now (SSE, WebSocket) */
    atomic_int_fast64_t waiting;     /* suspended now (long polling) */
    atomic_uint_fast64_t messages_out;
    atomic_uint_fast64_t bytes_out;   /* handed to the socket, headers included */
    atomic_uint_fast64_t messages_in; /* WebSocket publishes */
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
    PL_ERR_WS_FRAME,
    PL_ERR_KINDS
};

typedef struct pl_stats {
    pl_transport_stats short_poll, long_poll, sse, ws;
    atomic_uint_fast64_t errors[PL_ERR_KINDS];
    int64_t started_mono_us;
} pl_stats;

static inline void pl_stat_add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Counts an HTTP error response by status (unknown statuses are ignored). */
void pl_stats_count_status(pl_stats *st, int status);
/* The /api/stats body, malloc'ed; the caller frees it. */
char *pl_stats_json(pl_stats *st, size_t rooms, uint64_t published, size_t *len);

#endif
