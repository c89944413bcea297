/* Whether a connection to a host goes through $http_proxy, decided the way
 * libcurl decides it, for the WebSocket side: libwebsockets reads
 * $http_proxy by itself and ignores $no_proxy, so a shell with a proxy set
 * could not reach even 127.0.0.1 over WebSocket. See proxy_internal.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "proxy_internal.h"

/* One no_proxy entry against a host: "*" matches all; otherwise the host
 * itself, or any name below it (with or without a leading dot), as curl. */
static bool entry_matches(const char *e, size_t n, const char *host)
{
    while (n && (*e == ' ' || *e == '\t'))
        e++, n--;
    while (n && (e[n - 1] == ' ' || e[n - 1] == '\t'))
        n--;
    if (n && *e == '.')
        e++, n--;
    if (n == 0)
        return false;
    if (n == 1 && *e == '*')
        return true;
    size_t h = strlen(host);
    if (h < n || strncasecmp(host + h - n, e, n) != 0)
        return false;
    return h == n || host[h - n - 1] == '.';
}

bool pl_proxy_bypassed(const char *host, const char *no_proxy)
{
    for (const char *p = no_proxy; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (entry_matches(p, n, host))
            return true;
        p += n + (end ? 1 : 0);
    }
    return false;
}

const char *pl_proxy_for(const char *host, bool tls)
{
    /* Only the lower-case http_proxy, as curl: HTTP_PROXY may come from a
     * CGI request's Proxy header ("httpoxy"). */
    const char *proxy = getenv(tls ? "https_proxy" : "http_proxy");
    if (tls && (!proxy || !*proxy))
        proxy = getenv("HTTPS_PROXY");
    const char *no_proxy = getenv("no_proxy");
    if (!no_proxy || !*no_proxy)
        no_proxy = getenv("NO_PROXY");
    if (!proxy || !*proxy || pl_proxy_bypassed(host, no_proxy))
        return "";
    return proxy;
}
