/* GET /metrics: the server's counters in the Prometheus text exposition
 * format (version 0.0.4). Reads atomics only, so any thread may render. */
#ifndef PL_METRICS_H
#define PL_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "stats.h"

#define PL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What the store contributes, read by the caller. */
typedef struct pl_metrics_store {
    size_t rooms;
    uint64_t trimmed;
} pl_metrics_store;

/* The whole exposition, malloc'ed (the caller frees it), or NULL when out
 * of memory. Names: pushlab_* per transport and the store, and the
 * standard process_* of a Prometheus client. */
char *pl_metrics_text(pl_stats *st, const pl_metrics_store *s, size_t *len);

#endif
