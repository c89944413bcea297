/* Host and Origin parsing; see origin.h. Everything compares exact,
 * lower-cased "scheme://host[:port]" strings: a browser's Origin is
 * already in that form. */
#include "origin.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool host_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
}

/* Length of the first item of a header list ("a, b" -> "a"), trimmed. */
static size_t first_item(const char *v, const char **start)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strcspn(v, ", \t");
    *start = v;
    return n;
}

/* Copies `n` bytes of host[:port] lower-cased, refusing anything else. */
static int copy_hostport(const char *v, size_t n, char *out, size_t cap)
{
    if (n == 0 || n >= cap)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!host_char(v[i]))
            return -EINVAL;
        out[i] = (char)tolower((unsigned char)v[i]);
    }
    out[n] = '\0';
    return 0;
}

void pl_origin_policy_allow(pl_origin_policy *p, const char *const *allowed, size_t n)
{
    p->allowed = allowed;
    p->n_allowed = n;
    p->any = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(allowed[i], "*") == 0)
            p->any = true;
}

int pl_origin_host(const char *host_header, char *out, size_t cap)
{
    if (!host_header)
        return -EINVAL;
    size_t n = strlen(host_header);
    if (host_header[0] == '[') {
        const char *end = strchr(host_header, ']');
        n = end ? (size_t)(end - host_header) + 1 : 0;
    } else {
        n = strcspn(host_header, ":");
    }
    return copy_hostport(host_header, n, out, cap);
}

int pl_origin_of_url(const char *url, char *out, size_t cap)
{
    const char *scheme = strncmp(url, "https://", 8) == 0  ? "https"
                         : strncmp(url, "http://", 7) == 0 ? "http"
                                                           : NULL;
    if (!scheme)
        return -EINVAL;
    const char *hp = url + strlen(scheme) + 3;
    size_t n = strcspn(hp, "/?#");
    char host[PL_ORIGIN_MAX];
    if (copy_hostport(hp, n, host, sizeof host) != 0)
        return -EINVAL;
    int w = snprintf(out, cap, "%s://%s", scheme, host);
    return w > 0 && (size_t)w < cap ? 0 : -EINVAL;
}

int pl_origin_public(const pl_origin_policy *p, const pl_origin_req *r, char *out, size_t cap)
{
    if (p->public_origin) {
        int w = snprintf(out, cap, "%s", p->public_origin);
        return w > 0 && (size_t)w < cap ? 0 : -EINVAL;
    }
    if (!p->trust_proxy || !r->fwd_proto)
        return -ENOENT;
    const char *proto, *hp = r->fwd_host ? r->fwd_host : r->host;
    size_t plen = first_item(r->fwd_proto, &proto);
    bool https = plen == 5 && strncasecmp(proto, "https", 5) == 0;
    if (!https && !(plen == 4 && strncasecmp(proto, "http", 4) == 0))
        return -ENOENT;
    char host[PL_ORIGIN_MAX];
    if (!hp)
        return -ENOENT;
    size_t n = first_item(hp, &hp);
    if (copy_hostport(hp, n, host, sizeof host) != 0)
        return -ENOENT;
    int w = snprintf(out, cap, "%s://%s", https ? "https" : "http", host);
    return w > 0 && (size_t)w < cap ? 0 : -EINVAL;
}

static bool same_host(const pl_origin_policy *p, const pl_origin_req *r)
{
    char host[PL_ORIGIN_MAX], want[PL_ORIGIN_MAX + 32];
    if (p->same_host_http_port <= 0 || pl_origin_host(r->host, host, sizeof host) != 0)
        return false;
    snprintf(want, sizeof want, "http://%s:%d", host, p->same_host_http_port);
    return strcmp(r->origin, want) == 0;
}

bool pl_origin_allowed(const pl_origin_policy *p, const pl_origin_req *r)
{
    char pub[PL_ORIGIN_MAX];
    if (!r->origin)
        return true; /* not a browser: curl, websocat, our own client */
    if (p->any)
        return true;
    for (size_t i = 0; i < p->n_allowed; i++)
        if (strcmp(r->origin, p->allowed[i]) == 0)
            return true;
    if (pl_origin_public(p, r, pub, sizeof pub) == 0 && strcmp(r->origin, pub) == 0)
        return true;
    return same_host(p, r);
}

void pl_origin_ws_url(const pl_origin_policy *p, const pl_origin_req *r, int ws_port,
                      const char *fallback, char *out, size_t cap)
{
    char pub[PL_ORIGIN_MAX], host[PL_ORIGIN_MAX];
    if (pl_origin_public(p, r, pub, sizeof pub) == 0) {
        bool https = strncmp(pub, "https://", 8) == 0;
        snprintf(out, cap, "%s://%s", https ? "wss" : "ws", pub + (https ? 8 : 7));
    } else if (pl_origin_host(r->host, host, sizeof host) == 0) {
        snprintf(out, cap, "ws://%s:%d", host, ws_port);
    } else {
        snprintf(out, cap, "%s", fallback);
    }
}
