/* Fuzz target: how the server reads a request's method, path, query and
 * headers (server/route.c, validate.c). The input is split at '\n' into a
 * method, a path, a Content-Type, a WebSocket path, WebSocket query
 * fragments ('&'-separated), a Sec-WebSocket-Protocol list and a query
 * integer. Each decision is checked against what it must mean: a room
 * route names a valid room at exactly its place in the path, a static path
 * cannot leave the web root, an accepted integer is the decimal value of
 * its digits and at most 2^53 - 1. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "fuzz.h"
#include "route.h"
#include "validate.h"

#define FIELDS 7

static const char *const room_paths[] = {"messages", "poll", "events"};

static void check_route(const char *method, const char *url)
{
    pl_route_match m;
    char want[256];
    pl_route_match_url(method, url, &m);
    bool get = strcmp(method, "GET") == 0;
    switch (m.ep) {
    case PL_EP_PUBLISH:
    case PL_EP_SHORT_POLL:
    case PL_EP_LONG_POLL:
    case PL_EP_SSE: {
        const char *what = room_paths[m.ep == PL_EP_LONG_POLL ? 1 : m.ep == PL_EP_SSE ? 2 : 0];
        FUZZ_CHECK(pl_valid_room(m.room, strlen(m.room)));
        snprintf(want, sizeof want, "/api/rooms/%s/%s", m.room, what);
        FUZZ_CHECK(strcmp(url, want) == 0);
        FUZZ_CHECK(m.ep == PL_EP_PUBLISH ? strcmp(method, "POST") == 0 : get);
        break;
    }
    case PL_EP_STATS: FUZZ_CHECK(get && strcmp(url, "/api/stats") == 0); break;
    case PL_EP_CONFIG: FUZZ_CHECK(get && strcmp(url, "/api/config") == 0); break;
    case PL_EP_METRICS: FUZZ_CHECK(get && strcmp(url, "/metrics") == 0); break;
    case PL_EP_HEALTH: FUZZ_CHECK(get && strcmp(url, "/healthz") == 0); break;
    case PL_EP_STATIC:
        FUZZ_CHECK(get || strcmp(method, "HEAD") == 0);
        FUZZ_CHECK(strncmp(url, "/api/", 5) != 0 && strcmp(url, "/api") != 0);
        break;
    case PL_EP_ERROR:
        FUZZ_CHECK(m.status == 400 || m.status == 404 || m.status == 405);
        FUZZ_CHECK((m.status == 405) == (m.allow != NULL) && m.reason && m.reason[0]);
        /* A refused room is refused for its name only when the endpoint exists. */
        if (m.status == 400)
            FUZZ_CHECK(strncmp(url, "/api/rooms/", 11) == 0);
        break;
    default: FUZZ_CHECK(!"unknown endpoint");
    }
}

/* What may be opened under the web root: no way out of it, no dot-file. */
static void check_static_path(const char *url)
{
    if (!pl_route_static_path_ok(url))
        return;
    FUZZ_CHECK(url[0] == '/' && strlen(url) <= 200);
    FUZZ_CHECK(!strstr(url, "/.") && !strstr(url, "//"));
    for (const char *p = url; *p; p++)
        FUZZ_CHECK(
            strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/", *p));
}

static void check_json_type(const char *ct)
{
    if (!pl_route_json_type(ct))
        return;
    FUZZ_CHECK(strncasecmp(ct, "application/json", 16) == 0);
    FUZZ_CHECK(ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ' || ct[16] == '\t');
}

static void check_ws_path(const char *uri)
{
    char room[PL_ROOM_MAX + 1], want[PL_ROOM_MAX + 8];
    size_t n = strlen(uri);
    int rc = pl_route_ws_path(uri, n, room);
    bool prefix = strncmp(uri, "/ws/", 4) == 0 && n > 4;
    if (rc == 0) {
        snprintf(want, sizeof want, "/ws/%s", room);
        FUZZ_CHECK(pl_valid_room(room, strlen(room)) && strcmp(uri, want) == 0);
    } else {
        FUZZ_CHECK(rc == (prefix ? 400 : 404));
    }
}

/* The reference for a query integer: digits only, not empty, <= 2^53-1. */
static bool ref_uint(const char *s, uint64_t *out)
{
    unsigned __int128 v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > PL_INT_MAX)
            return false;
    }
    *out = (uint64_t)v;
    return true;
}

static void check_uint(const char *s)
{
    uint64_t got = 7, want = 0;
    int rc = pl_parse_uint(s, &got);
    bool ok = ref_uint(s, &want);
    FUZZ_CHECK(ok ? rc == 0 && got == want : rc == -EINVAL && got == 7);
}

/* The WebSocket query, fragment by fragment as lws hands it over. */
static void check_since_args(char *args)
{
    uint64_t since = 0, want = 0;
    bool given = false, want_given = false, failed = false;
    for (char *save = NULL, *a = strtok_r(args, "&", &save); a && !failed;
         a = strtok_r(NULL, "&", &save)) {
        check_uint(a);
        int rc = pl_route_since_arg(a, &since, &given);
        bool is_since = strncmp(a, "since", 5) == 0 && (a[5] == '=' || a[5] == '\0');
        if (!is_since) {
            FUZZ_CHECK(rc == 0);
            continue;
        }
        uint64_t v;
        if (want_given || a[5] != '=' || !ref_uint(a + 6, &v)) {
            FUZZ_CHECK(rc == -EINVAL);
            failed = true;
        } else {
            FUZZ_CHECK(rc == 0);
            want = v;
            want_given = true;
        }
    }
    if (!failed)
        FUZZ_CHECK(given == want_given && (!given || since == want));
}

/* The reference: the list split on commas and blanks. */
static void check_subprotocol(const char *list)
{
    char copy[512];
    bool want = false;
    snprintf(copy, sizeof copy, "%s", list);
    if (strlen(list) >= sizeof copy)
        return;
    for (char *save = NULL, *t = strtok_r(copy, ", \t", &save); t && !want;
         t = strtok_r(NULL, ", \t", &save))
        want = strcmp(t, "pushlab.v1") == 0;
    FUZZ_CHECK(pl_route_subprotocol_ok(list, "pushlab.v1") == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* NUL-terminated copies, as MHD and lws hand strings over. */
    char *buf = malloc(size + 1), *field[FIELDS] = {0};
    FUZZ_CHECK(buf);
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *p = buf;
    for (int i = 0; i < FIELDS; i++) {
        field[i] = p;
        char *nl = p ? strchr(p, '\n') : NULL;
        if (nl)
            *nl = '\0';
        p = nl ? nl + 1 : NULL;
        if (!p)
            for (int k = i + 1; k < FIELDS; k++)
                field[k] = "";
        if (!p)
            break;
    }
    check_route(field[0], field[1]);
    check_static_path(field[1]);
    check_json_type(field[2]);
    check_ws_path(field[3]);
    check_since_args(field[4]);
    check_subprotocol(field[5]);
    check_uint(field[6]);
    free(buf);
    return 0;
}
