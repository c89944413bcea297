/* Request parsing with no I/O; see route.h. http.c, static_files.c and
 * transport_ws.c call these with what libmicrohttpd and libwebsockets
 * hand them, and act on the answer. */
#include "route.h"
#include <errno.h>
#include <string.h>
#include <strings.h>

static void fail(pl_route_match *m, int status, const char *allow, const char *reason)
{
    m->ep = PL_EP_ERROR;
    m->status = status;
    m->allow = allow;
    m->reason = reason;
}

/* /api/rooms/{room}/{what}: `rest` is what follows "/api/rooms/". The
 * endpoint is checked first (404), then the room (400), then the method. */
static void match_room(const char *method, const char *rest, pl_route_match *m)
{
    const char *slash = strchr(rest, '/');
    size_t nlen = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *what = slash ? slash + 1 : "";
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    enum pl_endpoint ep = PL_EP_ERROR;
    const char *allow = "GET";

    if (strcmp(what, "messages") == 0) {
        allow = "GET, POST";
        ep = get ? PL_EP_SHORT_POLL : post ? PL_EP_PUBLISH : PL_EP_ERROR;
    } else if (strcmp(what, "poll") == 0) {
        ep = get ? PL_EP_LONG_POLL : PL_EP_ERROR;
    } else if (strcmp(what, "events") == 0) {
        ep = get ? PL_EP_SSE : PL_EP_ERROR;
    } else {
        fail(m, 404, NULL, "no such endpoint");
        return;
    }
    if (!pl_valid_room(rest, nlen)) {
        fail(m, 400, NULL, "room must match [A-Za-z0-9_-]{1,64}");
        return;
    }
    if (ep == PL_EP_ERROR) {
        fail(m, 405, allow, "method not allowed here");
        return;
    }
    memcpy(m->room, rest, nlen);
    m->room[nlen] = '\0';
    m->ep = ep;
}

/* A GET-only endpoint. */
static void match_get(const char *method, enum pl_endpoint ep, pl_route_match *m)
{
    if (strcmp(method, "GET") == 0)
        m->ep = ep;
    else
        fail(m, 405, "GET", "method not allowed here");
}

void pl_route_match_url(const char *method, const char *url, pl_route_match *m)
{
    static const char rooms[] = "/api/rooms/";
    memset(m, 0, sizeof *m);
    if (strncmp(url, rooms, sizeof rooms - 1) == 0)
        match_room(method, url + sizeof rooms - 1, m);
    else if (strcmp(url, "/api/stats") == 0)
        match_get(method, PL_EP_STATS, m);
    else if (strcmp(url, "/metrics") == 0)
        match_get(method, PL_EP_METRICS, m);
    else if (strcmp(url, "/api/config") == 0)
        match_get(method, PL_EP_CONFIG, m);
    else if (strcmp(url, "/healthz") == 0)
        match_get(method, PL_EP_HEALTH, m);
    else if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0)
        fail(m, 404, NULL, "no such endpoint");
    else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        fail(m, 405, "GET, HEAD", "method not allowed here");
    else
        m->ep = PL_EP_STATIC;
}

bool pl_route_static_path_ok(const char *url)
{
    if (url[0] != '/' || strlen(url) > 200)
        return false;
    for (const char *p = url; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '/';
        if (!ok || (c == '/' && p[1] == '.') || (c == '/' && p[1] == '/'))
            return false;
    }
    return true;
}

bool pl_route_json_type(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    char c = ct[sizeof want - 1];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

int pl_route_ws_path(const char *uri, size_t n, char room[PL_ROOM_MAX + 1])
{
    if (n <= 4 || strncmp(uri, "/ws/", 4) != 0)
        return 404;
    if (!pl_valid_room(uri + 4, n - 4))
        return 400;
    memcpy(room, uri + 4, n - 4);
    room[n - 4] = '\0';
    return 0;
}

int pl_route_uint_arg(const char *arg, const char *key, uint64_t *v, bool *given)
{
    size_t k = strlen(key);
    if (strncmp(arg, key, k) != 0 || (arg[k] != '=' && arg[k] != '\0'))
        return 0;
    if (*given || arg[k] != '=' || pl_parse_uint(arg + k + 1, v) != 0)
        return -EINVAL;
    *given = true;
    return 0;
}

int pl_route_since_arg(const char *arg, uint64_t *since, bool *given)
{
    return pl_route_uint_arg(arg, "since", since, given);
}

bool pl_route_subprotocol_ok(const char *list, const char *want)
{
    size_t wlen = strlen(want);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ", \t");
        if (n == wlen && memcmp(p, want, n) == 0)
            return true;
        p += n;
        p += strspn(p, ", \t");
    }
    return false;
}
