/* Base URLs and the paths under them; see url.h. Pure string work on the
 * caller's buffers (and the libraries' URL parsers); no state. */
#include "url.h"
#include <curl/curl.h>
#include <errno.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pl_url_scheme_ok(const char *url, const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    return url && ((strncmp(url, a, na) == 0 && strncmp(url + na, "://", 3) == 0) ||
                   (strncmp(url, b, nb) == 0 && strncmp(url + nb, "://", 3) == 0));
}

bool pl_url_has_host(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host;
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

char *pl_url_join(const char *base, const char *fmt, ...)
{
    char tail[512], *out;
    size_t n = strlen(base);
    va_list ap;
    while (n && base[n - 1] == '/')
        n--;
    va_start(ap, fmt);
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    return asprintf(&out, "%.*s%s", (int)n, base, tail) < 0 ? NULL : out;
}

int pl_url_list_count(const char *list)
{
    int n = 1;
    for (const char *p = list; (p = strchr(p, ',')); p++)
        n++;
    return n;
}

char *pl_url_list_item(const char *list, int i)
{
    const char *p = list;
    for (; i > 0 && p; i--)
        if ((p = strchr(p, ',')))
            p++;
    if (!p)
        return NULL;
    char *item = strndup(p, strcspn(p, ","));
    char *out = item ? pl_url_join(item, "%s", "") : NULL;
    free(item);
    return out;
}

/* Splits a ws(s) URL into t's host, port and tls; *path (into the copy)
 * is what follows the host, without its leading '/'. */
static int split_ws(char *copy, pl_url_target *t, const char **path)
{
    const char *proto, *addr;
    if (lws_parse_uri(copy, &proto, &addr, &t->port, path))
        return -EINVAL;
    t->tls = strcmp(proto, "wss") == 0;
    if (strcmp(proto, "ws") != 0 && !t->tls)
        return -EINVAL;
    snprintf(t->host, sizeof t->host, "%s", addr);
    return 0;
}

int pl_url_ws_endpoint(const char *url, pl_url_target *t)
{
    char copy[512];
    const char *p;
    if (snprintf(copy, sizeof copy, "%s", url) >= (int)sizeof copy || split_ws(copy, t, &p))
        return -EINVAL;
    int w = snprintf(t->path, sizeof t->path, "/%s", p);
    return w > 0 && (size_t)w < sizeof t->path ? 0 : -EINVAL;
}

int pl_url_ws_target(const char *ws_url, const char *room, uint64_t since, const char *extra,
                     pl_url_target *t)
{
    char copy[512];
    const char *p;
    snprintf(copy, sizeof copy, "%s", ws_url);
    if (split_ws(copy, t, &p))
        return -EINVAL;
    /* p is the path without its leading '/': "" and "ws" both mean /ws/ */
    int n = (int)strlen(p);
    while (n && p[n - 1] == '/')
        n--;
    bool ends_ws = n >= 2 && strncmp(p + n - 2, "ws", 2) == 0 && (n == 2 || p[n - 3] == '/');
    unsigned long long id = (unsigned long long)since;
    size_t cap = sizeof t->path;
    int w = n == 0    ? snprintf(t->path, cap, "/ws/%s?since=%llu%s", room, id, extra)
            : ends_ws ? snprintf(t->path, cap, "/%.*s/%s?since=%llu%s", n, p, room, id, extra)
                      : snprintf(t->path, cap, "/%.*s/ws/%s?since=%llu%s", n, p, room, id, extra);
    return w > 0 && (size_t)w < cap ? 0 : -EINVAL;
}
