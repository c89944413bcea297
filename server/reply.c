/* The answers every handler queues; see reply.h. Touches the request's
 * MHD connection and the error counters, nothing else. */
#include "reply.h"
#include <errno.h>
#include <stdlib.h>
#include "backend.h"
#include "server.h"

enum MHD_Result pl_reply_queue(pl_req *q, int status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(q->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

struct MHD_Response *pl_reply_json_response(char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return r;
}

static void count_error(pl_req *q, int status)
{
    pl_stats_count_status_at(&q->srv->stats, q->err_ep, status);
    if (q->err_ep == PL_SEP_PUBLISH)
        pl_stat_add(&q->srv->stats.publishes.refused, 1);
}

enum MHD_Result pl_reply_json(pl_req *q, int status, char *body, size_t len)
{
    if (!body)
        return MHD_NO;
    if (status >= 400)
        count_error(q, status);
    return pl_reply_queue(q, status, pl_reply_json_response(body, len));
}

enum MHD_Result pl_reply_error(pl_req *q, const pl_err *err)
{
    size_t len = 0;
    char *body = pl_err_json(err, &len);
    return pl_reply_json(q, err->status, body, len);
}

enum MHD_Result pl_reply_store_error(pl_req *q, int rc)
{
    pl_err err;
    pl_backend_err(&err, rc);
    return pl_reply_error(q, &err);
}

enum MHD_Result pl_reply_not_allowed(pl_req *q, const char *allow)
{
    pl_err err;
    size_t len = 0;
    pl_err_set(&err, 405, "method not allowed here; use %s", allow);
    char *body = pl_err_json(&err, &len);
    if (!body)
        return MHD_NO;
    pl_stats_count_status_at(&q->srv->stats, q->err_ep, 405);
    struct MHD_Response *r = pl_reply_json_response(body, len);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    return pl_reply_queue(q, 405, r);
}
