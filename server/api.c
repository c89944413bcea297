/* The plain endpoints: publish (POST /api/rooms/{room}/messages), stats,
 * metrics, config and health, one pl_handler each. Publishing is the same
 * for every transport: it stores the message, and the store wakes whoever
 * waits for that room. Uses reply.c; touches the store and the counters. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "reply.h"
#include "route.h"
#include "server.h"

/* Checks a publish's headers before its body is read. */
static enum MHD_Result publish_start(pl_req *q)
{
    pl_err err;
    const char *ct =
        MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *cl =
        MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    pl_buf_init(&q->u.pub.body, 1024, PL_BODY_MAX);
    if (!pl_route_json_type(ct))
        pl_err_set(&err, 415, "Content-Type must be application/json");
    else if (cl && strtoull(cl, NULL, 10) > PL_BODY_MAX)
        pl_err_set(&err, 413, "request body is over %d bytes", PL_BODY_MAX);
    else {
        q->body_pending = true; /* the router sees it to its end */
        return MHD_YES;
    }
    q->u.pub.status = -1; /* answered: the body is read and dropped */
    return pl_reply_error(q, &err);
}

/* Takes body bytes as they stream in, keeping at most PL_BODY_MAX. */
static void publish_body(pl_req *q, const char *data, size_t len)
{
    if (q->u.pub.status)
        return;
    int rc = pl_buf_append(&q->u.pub.body, data, len);
    if (rc)
        q->u.pub.status = rc == -EMSGSIZE ? 413 : 503;
}

/* The backend's answer, on its thread (or at once, from memory). */
static void published(void *ud, int rc, pl_msg *m, bool dup)
{
    pl_req *q = ud;
    q->later.rc = rc;
    q->u.pub.m = m ? pl_msg_ref(m) : NULL;
    q->u.pub.dup = dup;
    pl_req_later_done(q);
}

/* The message is stored (or the store failed): answer. */
static enum MHD_Result publish_answer(pl_req *q)
{
    pl_server *srv = q->srv;
    pl_msg *m = q->u.pub.m;
    if (q->later.rc != 0)
        return pl_reply_store_error(q, q->later.rc);
    bool dup = q->u.pub.dup;
    pl_stat_add(dup ? &srv->stats.publishes.duplicate : &srv->stats.publishes.stored, 1);
    char *body = strdup(m->json);
    size_t len = m->json_len;
    q->u.pub.m = NULL;
    pl_msg_unref(m);
    return pl_reply_json(q, dup ? 200 : 201, body, len);
}

/* The body is in: store the message; answer once the store has. */
static enum MHD_Result publish_resume(pl_req *q)
{
    pl_err err;
    json_t *obj = NULL;
    pl_publish in;
    enum MHD_Result ret;

    if (q->u.pub.status < 0)
        return MHD_YES;
    if (q->u.pub.status == 413)
        pl_err_set(&err, 413, "request body is over %d bytes", PL_BODY_MAX);
    else if (q->u.pub.status)
        pl_err_set(&err, 503, "out of memory");
    if (q->u.pub.status)
        return pl_reply_error(q, &err);
    if (pl_msg_parse_body(pl_buf_str(&q->u.pub.body), q->u.pub.body.len, &obj, &err) ||
        pl_msg_parse_publish(obj, &in, &err))
        goto fail;
    pl_backend_publish(q->srv->backend, q->room_name, &in, published, q);
    json_decref(obj); /* `in` borrowed from it; the backend copied it */
    return pl_req_later(q, publish_answer);
fail:
    ret = pl_reply_error(q, &err);
    json_decref(obj);
    return ret;
}

static void publish_done(pl_req *q)
{
    pl_buf_free(&q->u.pub.body);
    pl_msg_unref(q->u.pub.m);
}

static enum MHD_Result metrics(pl_req *q)
{
    pl_server *srv = q->srv;
    size_t len = 0;
    pl_metrics_store s = {.rooms = pl_store_room_count(srv->store),
                          .trimmed = pl_store_trimmed(srv->store)};
    char *body = pl_metrics_text(&srv->stats, &s, &len);
    struct MHD_Response *r =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, PL_METRICS_CONTENT_TYPE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return pl_reply_queue(q, 200, r);
}

static enum MHD_Result stats(pl_req *q)
{
    pl_server *srv = q->srv;
    size_t len = 0;
    pl_backend_info info;
    pl_backend_info_get(srv->backend, &info);
    char *body = pl_stats_json(&srv->stats, pl_store_room_count(srv->store),
                               pl_store_published(srv->store), srv->backend->name, &info, &len);
    return pl_reply_json(q, 200, body, len);
}

/* The WebSocket URL as this client should dial it: through the public
 * origin when a proxy fronts us, else the host it used to reach us (so a
 * page opened through another name or address still finds the listener)
 * with the WebSocket port, else the bind address. */
static void ws_url_for(pl_req *q, char *out, size_t cap)
{
    pl_origin_req r = {
        .host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
        .fwd_proto = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "X-Forwarded-Proto"),
        .fwd_host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "X-Forwarded-Host"),
    };
    pl_origin_ws_url(&q->srv->origin, &r, q->srv->ws_port, q->srv->ws_url, out, cap);
}

static enum MHD_Result config(pl_req *q)
{
    pl_server *srv = q->srv;
    char ws_url[320];
    ws_url_for(q, ws_url, sizeof ws_url);
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:I,s:i,s:i,s:i}", "ws_url", ws_url, "ws_path", "/ws/{room}",
                  "version", PUSHLAB_VERSION, "history", (json_int_t)srv->cfg.history,
                  "heartbeat_s", srv->cfg.heartbeat_s, "heartbeat_min_s", srv->cfg.min_heartbeat_s,
                  "heartbeat_max_s", srv->cfg.max_heartbeat_s);
    char *body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return pl_reply_json(q, 200, body, body ? strlen(body) : 0);
}

static enum MHD_Result health(pl_req *q)
{
    static char ok[] = "ok\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(3, ok, MHD_RESPMEM_PERSISTENT);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    return pl_reply_queue(q, 200, r);
}

const pl_handler pl_publish_handler = {
    .stats_ep = PL_SEP_PUBLISH,
    .room = true,
    .start = publish_start, /* headers: 415, 413 before the body */
    .body = publish_body,
    .resume = publish_resume, /* the body is in: store and answer */
    .done = publish_done,
};
const pl_handler pl_stats_handler = {.stats_ep = PL_SEP_OTHER, .start = stats};
const pl_handler pl_metrics_handler = {.stats_ep = PL_SEP_OTHER, .start = metrics};
const pl_handler pl_config_handler = {.stats_ep = PL_SEP_OTHER, .start = config};
const pl_handler pl_health_handler = {.stats_ep = PL_SEP_OTHER, .start = health};
