/* Whether a connection goes through $http_proxy, decided the way libcurl
 * decides it, for the WebSocket side (libwebsockets reads $http_proxy by
 * itself and ignores $no_proxy). Reads the environment; no state. */
#ifndef PL_PROXY_INTERNAL_H
#define PL_PROXY_INTERNAL_H
#include <stdbool.h>

/* True when the comma-separated `no_proxy` list (NULL: empty) names `host`
 * ("*", the host, or a domain above it), as libcurl reads $no_proxy. */
bool pl_proxy_bypassed(const char *host, const char *no_proxy);

/* The proxy libcurl would use to reach `host`: $http_proxy (`tls`:
 * $https_proxy or $HTTPS_PROXY) unless $no_proxy (or $NO_PROXY) names the
 * host; "" for none. Never NULL. */
const char *pl_proxy_for(const char *host, bool tls);

#endif
