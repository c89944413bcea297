/* The decision on a WebSocket upgrade, from its request head alone: the
 * Origin (origin.c's policy), the path /ws/{room}, the `since` and
 * `heartbeat` arguments, the subprotocol list, the connection limit and
 * the room limit; and which accepted sockets never got that far (bad
 * handshakes lws dropped on its own). See transport_ws_internal.h;
 * service thread. */
#include <errno.h>
#include <string.h>
#include "route.h"
#include "transport_ws_internal.h"
#include "validate.h"
#include "wire.h"

/* Copies a header lws knows by token, or a custom one by name (with its
 * colon, lower case), into `buf`. Returns buf, or NULL when absent. */
static const char *header(struct lws *wsi, int token, const char *name, char *buf, int cap)
{
    int n = name ? lws_hdr_custom_copy(wsi, buf, cap, name, (int)strlen(name))
                 : lws_hdr_copy(wsi, buf, cap, (enum lws_token_indexes)token);
    return n > 0 ? buf : NULL;
}

static bool origin_allowed(const pl_ws_svc *ws, struct lws *wsi)
{
    char origin[PL_ORIGIN_MAX], host[PL_ORIGIN_MAX], proto[16], fhost[PL_ORIGIN_MAX];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
        return true; /* not a browser: curl, websocat, our own client */
    if (!ws->origin)
        return false;
    pl_origin_req r = {
        .origin = header(wsi, WSI_TOKEN_ORIGIN, NULL, origin, sizeof origin),
        .host = header(wsi, WSI_TOKEN_HOST, NULL, host, sizeof host),
        .fwd_proto = header(wsi, 0, "x-forwarded-proto:", proto, sizeof proto),
        .fwd_host = header(wsi, 0, "x-forwarded-host:", fhost, sizeof fhost),
    };
    /* An Origin too long to copy is nobody's we allow. */
    return r.origin && pl_origin_allowed(ws->origin, &r);
}

/* No Sec-WebSocket-Protocol, or a list that names ours. A list without it
 * is refused with a status here rather than by lws, which just hangs up. */
static bool subprotocol_ok(struct lws *wsi)
{
    char list[256];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) <= 0)
        return true;
    if (lws_hdr_copy(wsi, list, sizeof list, WSI_TOKEN_PROTOCOL) <= 0)
        return false;
    return pl_route_subprotocol_ok(list, PL_WS_PROTOCOL);
}

/* RFC 6455 is version 13; lws 4.1 would answer any other with a 101. */
static bool version_ok(struct lws *wsi)
{
    char v[8];
    return lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_VERSION) > 0 && strcmp(v, "13") == 0;
}

/* Reads query argument `key` ("since", "heartbeat"): absent leaves *v
 * alone. Only one, all digits. Returns 0 or -EINVAL. */
static int parse_arg(struct lws *wsi, const char *key, uint64_t *v, bool *given)
{
    char arg[96];
    *given = false;
    for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
         i++)
        if (pl_route_uint_arg(arg, key, v, given) != 0)
            return -EINVAL;
    return 0;
}

int pl_ws_handshake_check(pl_ws_svc *ws, struct lws *wsi, struct conn *c)
{
    char uri[128], name[PL_ROOM_MAX + 1];
    uint64_t since = 0, beat = 0;
    bool given, beat_given;
    pl_room *room;
    if (!origin_allowed(ws, wsi))
        return 403;
    int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    int status = pl_route_ws_path(uri, n > 0 ? (size_t)n : 0, name);
    if (status)
        return status;
    if (parse_arg(wsi, "since", &since, &given) != 0 ||
        parse_arg(wsi, "heartbeat", &beat, &beat_given) != 0 || !subprotocol_ok(wsi) ||
        !version_ok(wsi))
        return 400;
    if ((size_t)atomic_load(&ws->st->ws.connections) >= ws->max_connections)
        return 503;
    if (pl_store_room(ws->store, name, true, &room) != 0)
        return 503;
    if (c) {
        c->room = room;
        /* Without since=, the room's end before the 101 goes out, so a
         * message published once the client saw it is never skipped; a
         * replica not live yet decides it once the room is open. */
        c->new_only = !given && !pl_backend_current(ws->backend, room);
        c->cursor = given || c->new_only ? since : pl_room_last_id(room);
        int hb = beat_given ? pl_heartbeat_clamp(beat, ws->min_heartbeat_s, ws->max_heartbeat_s)
                            : ws->heartbeat_s;
        c->beat_us = (int64_t)hb * 1000000;
    }
    return 0;
}

/* The socket's slot in ws->handshaking, or NULL past the table. */
static unsigned char *slot(pl_ws_svc *ws, struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    return fd >= 0 && (size_t)fd < ws->handshaking_len ? &ws->handshaking[fd] : NULL;
}

void pl_ws_handshake_accepted(pl_ws_svc *ws, struct lws *wsi)
{
    unsigned char *s = ws ? slot(ws, wsi) : NULL;
    if (s)
        *s = 1;
}

void pl_ws_handshake_answered(pl_ws_svc *ws, struct lws *wsi)
{
    unsigned char *s = slot(ws, wsi);
    if (s)
        *s = 0;
}

void pl_ws_handshake_closed(pl_ws_svc *ws, struct lws *wsi)
{
    unsigned char *s = slot(ws, wsi);
    pl_wire w;
    if (!s || !*s)
        return;
    *s = 0;
    if (pl_wire_read(lws_get_socket_fd(wsi), &w) == 0 && w.in > 0)
        pl_stat_add(&ws->st->errors[PL_ERR_WS_BAD_HANDSHAKE], 1);
}
