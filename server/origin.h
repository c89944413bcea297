/* Which origin a client dialled, and whether a browser's Origin is ours:
 * the one Host/Origin parser behind both /api/config's ws_url and the
 * WebSocket Origin check. Pure string work on header values the caller
 * copied out; no I/O, no allocation, safe from any thread. */
#ifndef PL_ORIGIN_H
#define PL_ORIGIN_H
#include <stdbool.h>
#include <stddef.h>

/* The longest origin ("scheme://host[:port]") handled; longer is refused. */
#define PL_ORIGIN_MAX 300

/* Who may open a WebSocket from a browser. Strings are borrowed. */
typedef struct pl_origin_policy {
    const char *const *allowed; /* exact Origins from --allow-origin */
    size_t n_allowed;
    bool any; /* "*" was among them */
    /* > 0: allow "http://<the Host's host>:<this port>", the page's own
     * origin when the server listens on every address. */
    int same_host_http_port;
    /* --public-url's origin ("https://chat.example.org"), or NULL. */
    const char *public_origin;
    /* --trust-proxy: X-Forwarded-Proto / X-Forwarded-Host are the
     * client's own, set by a reverse proxy in front of us. */
    bool trust_proxy;
} pl_origin_policy;

/* The headers of one request that matter here; NULL when absent. */
typedef struct pl_origin_req {
    const char *origin, *host, *fwd_proto, *fwd_host;
} pl_origin_req;

/* Sets the exact Origins a browser may come from (`allowed`, n of them,
 * borrowed) and `any` when one of them is "*". */
void pl_origin_policy_allow(pl_origin_policy *p, const char *const *allowed, size_t n);

/* Copies the host part of a Host header ("h", "h:port", "[v6]:port") into
 * `out`, without the port. Only host-name characters are accepted.
 * Returns 0, or -EINVAL (empty, malformed, or over `cap`). */
int pl_origin_host(const char *host_header, char *out, size_t cap);

/* Copies "scheme://host[:port]" of `url` (a --public-url: http or https,
 * an optional path is dropped) into `out`. Returns 0 or -EINVAL. */
int pl_origin_of_url(const char *url, char *out, size_t cap);

/* The origin the client dialled as far as we can know it: --public-url,
 * else with trust_proxy "<X-Forwarded-Proto>://<X-Forwarded-Host or Host>".
 * Returns 0 and fills `out`, or -ENOENT when unknown (no proxy in front). */
int pl_origin_public(const pl_origin_policy *p, const pl_origin_req *r, char *out, size_t cap);

/* True when a handshake may proceed: no Origin (not a browser), any
 * allowed, an exact match, the public origin, or the same-host rule. */
bool pl_origin_allowed(const pl_origin_policy *p, const pl_origin_req *r);

/* The WebSocket base URL this client should dial, for /api/config: behind
 * a known public origin "ws(s)://<its host[:port]>" (the proxy routes
 * /ws/), else "ws://<the Host's host>:<ws_port>", else `fallback`. */
void pl_origin_ws_url(const pl_origin_policy *p, const pl_origin_req *r, int ws_port,
                      const char *fallback, char *out, size_t cap);

#endif
