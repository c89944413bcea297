/* The URLs the client is given and builds: a base it was given (http(s)
 * or ws(s), with a host), with its trailing slashes dropped, and paths
 * under it. libcurl's and libwebsockets' URL parsers; no I/O, no state,
 * any thread. */
#ifndef PL_URL_H
#define PL_URL_H
#include <stdbool.h>
#include <stdint.h>

/* True when `url` is not NULL and starts with "<a>://" or "<b>://"
 * ("http", "https"). */
bool pl_url_scheme_ok(const char *url, const char *a, const char *b);
/* True when `url` parses and names a host ("http://" alone would make
 * libcurl read the path's first segment as one, and retry it forever). */
bool pl_url_has_host(const char *url);
/* `base` with its trailing slashes dropped and the printf-style tail
 * appended, malloc'ed; NULL without memory. */
char *pl_url_join(const char *base, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How many bases a comma-separated list holds (1 without a comma). */
int pl_url_list_count(const char *list);
/* Base `i` of a comma-separated list, with its trailing slashes dropped,
 * malloc'ed; NULL when there is no such item or no memory. */
char *pl_url_list_item(const char *list, int i);

/* Where a WebSocket subscription connects. */
typedef struct pl_url_target {
    char host[256];
    int port;
    char path[512]; /* "/<prefix>/ws/<room>?since=N<extra>" */
    bool tls;       /* wss:// */
} pl_url_target;

/* The target of room `room` from `since` under the WebSocket base `ws_url`
 * ("ws://host:port[/prefix]"; a prefix ending in "ws" is the /ws/ itself),
 * with `extra` appended to the query. Returns 0, or -EINVAL for a base
 * that is not ws(s):// or a target too long. */
int pl_url_ws_target(const char *ws_url, const char *room, uint64_t since, const char *extra,
                     pl_url_target *t);

/* The target of a whole WebSocket URL as given (a foreign server's
 * endpoint): "ws(s)://host[:port]/path?query". Returns 0, or -EINVAL for
 * another scheme or a target too long. */
int pl_url_ws_endpoint(const char *url, pl_url_target *t);

#endif
