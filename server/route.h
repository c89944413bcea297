/* What a request asks for, decided from its bytes alone: the HTTP router's
 * path and method rules, static file names, header values, and the
 * WebSocket handshake's path, `since` argument and subprotocol list. No
 * I/O and no library calls, so the fuzzer (tests/fuzz/fuzz_route.c) runs
 * exactly what the server runs. Pure functions; any thread. */
#ifndef PL_ROUTE_H
#define PL_ROUTE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "validate.h"

/* The endpoint a method and path name. */
enum pl_endpoint {
    PL_EP_ERROR,      /* answered with `status` (400, 404 or 405) */
    PL_EP_PUBLISH,    /* POST /api/rooms/{room}/messages */
    PL_EP_SHORT_POLL, /* GET /api/rooms/{room}/messages */
    PL_EP_LONG_POLL,  /* GET /api/rooms/{room}/poll */
    PL_EP_SSE,        /* GET /api/rooms/{room}/events */
    PL_EP_STATS,      /* GET /api/stats */
    PL_EP_METRICS,    /* GET /metrics */
    PL_EP_CONFIG,     /* GET /api/config */
    PL_EP_HEALTH,     /* GET /healthz */
    PL_EP_STATIC,     /* GET or HEAD of anything outside /api */
};

/* The router's decision; lives on the caller's stack. */
typedef struct pl_route_match {
    enum pl_endpoint ep;
    int status;         /* PL_EP_ERROR only */
    const char *allow;  /* the Allow header of a 405, a static string */
    const char *reason; /* a sentence for the error body, a static string */
    char room[PL_ROOM_MAX + 1];
} pl_route_match;

/* Routes `method` and the (already unescaped) path `url`, both
 * NUL-terminated. Fills *m; never fails. */
void pl_route_match_url(const char *method, const char *url, pl_route_match *m);

/* True when `url` may be opened under the web root: "/" followed by
 * [A-Za-z0-9._-] segments, none empty, none starting with '.', at most 200
 * bytes. So no "..", no dot-file, no "//" and nothing outside the root. */
bool pl_route_static_path_ok(const char *url);

/* True for a Content-Type of "application/json", any case, alone or
 * followed by parameters. NULL is false. */
bool pl_route_json_type(const char *ct);

/* The room of a WebSocket request target "/ws/{room}" (`uri` is the path
 * without the query, `n` bytes). Returns 0 with the room copied to
 * `room`, 404 for another path, 400 for a bad room name. */
int pl_route_ws_path(const char *uri, size_t n, char room[PL_ROOM_MAX + 1]);

/* One "key=value" fragment of a WebSocket query. A "since" fragment sets
 * *since and *given; a second one, one without '=' or a value that is not
 * a plain integer is -EINVAL. Other keys are ignored. Returns 0 or -EINVAL. */
int pl_route_since_arg(const char *arg, uint64_t *since, bool *given);
/* The same for any integer argument `key` ("since", "heartbeat"). */
int pl_route_uint_arg(const char *arg, const char *key, uint64_t *v, bool *given);

/* True when the Sec-WebSocket-Protocol list `list` (comma or blank
 * separated, NUL-terminated) names `want`. */
bool pl_route_subprotocol_ok(const char *list, const char *want);

#endif
