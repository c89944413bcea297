/* The Redis backend (backend.h): the local rooms become replicas of logs
 * in one Redis shared by several pushlab-servers, so every server has the
 * same ids, history and cid answers. It runs on a thread of its own (a
 * libev loop with hiredis async), so no caller waits for a round trip:
 * calls return PL_BACKEND_LATER and their callbacks run on that thread.
 * Design and failure modes: docs/scaling.md. */
#ifndef PL_BACKEND_REDIS_H
#define PL_BACKEND_REDIS_H
#include <stddef.h>
#include "backend.h"

typedef struct pl_redis_config {
    char host[256];
    int port, db;
    const char *prefix; /* of every key and channel (default "pushlab"); copied */
    size_t history;     /* log length per room: the local store's history */
    int timeout_ms;     /* connecting, each answer, and a call's longest wait */
} pl_redis_config;

/* Reads "redis://HOST[:PORT][/DB]" (port 6379, db 0 by default) into
 * cfg's host, port and db. Returns 0 or -EINVAL. */
int pl_redis_parse_url(const char *url, pl_redis_config *cfg);

/* A Redis backend for local store `s` (its history must be
 * cfg->history). Starts its thread, which connects in the background
 * and keeps reconnecting; calls made meanwhile wait up to timeout_ms.
 * Returns 0, -EINVAL (bad config) or -ENOMEM. */
int pl_backend_redis_new(pl_store *s, const pl_redis_config *cfg, pl_backend **out);

#endif
