/* The HTTP side: libmicrohttpd daemon setup, the router that maps each
 * request to its transport, and the per-connection byte count.
 * MHD runs its own epoll thread(s); waiting requests are suspended. */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "log.h"
#include "reply.h"
#include "route.h"
#include "server.h"

uint64_t pl_http_tcp_out(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (!ci || getsockopt(ci->connect_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return 0;
    /* Handed to the kernel = sent once (less resends) + still queued. */
    return ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans + ti.tcpi_notsent_bytes;
}

/* What the server has handed to one TCP connection's socket so far, as of
 * the end of its last request: the start of the next one, without asking
 * the kernel again. */
typedef struct pl_conn_bytes {
    uint64_t out;
} pl_conn_bytes;

static pl_conn_bytes *conn_bytes(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_ctx = calloc(1, sizeof(pl_conn_bytes)); /* NULL: counted per request */
    } else {
        free(*socket_ctx);
        *socket_ctx = NULL;
    }
}

void pl_req_list_add(pl_req_list *l, pl_req *q)
{
    pthread_mutex_lock(&l->lock);
    pl_list_push_front(&l->head, &q->link);
    pthread_mutex_unlock(&l->lock);
}

void pl_req_list_remove(pl_req_list *l, pl_req *q)
{
    pthread_mutex_lock(&l->lock);
    pl_list_remove(&q->link);
    pthread_mutex_unlock(&l->lock);
}

/* Checks a publish's headers before its body is read. */
static enum MHD_Result start_publish(pl_req *q)
{
    pl_err err;
    const char *ct =
        MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!pl_route_json_type(ct)) {
        pl_err_set(&err, 415, "Content-Type must be application/json");
        return pl_reply_error(q, &err);
    }
    const char *cl =
        MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > PL_BODY_MAX) {
        pl_err_set(&err, 413, "request body is over %d bytes", PL_BODY_MAX);
        return pl_reply_error(q, &err);
    }
    q->route = PL_ROUTE_PUBLISH;
    pl_buf_init(&q->u.pub.body, 1024, PL_BODY_MAX);
    return MHD_YES;
}

/* Takes body bytes as they stream in, keeping at most PL_BODY_MAX. */
static void take_body(pl_req *q, const char *data, size_t len)
{
    if (q->u.pub.status)
        return;
    int rc = pl_buf_append(&q->u.pub.body, data, len);
    if (rc)
        q->u.pub.status = rc == -EMSGSIZE ? 413 : 503;
}

static enum MHD_Result health(pl_req *q)
{
    static char ok[] = "ok\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(3, ok, MHD_RESPMEM_PERSISTENT);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    return pl_reply_queue(q, 200, r);
}

/* Hands the request to the endpoint route.c chose. */
static enum MHD_Result route(pl_req *q, const char *url, const char *method)
{
    pl_route_match m;
    pl_err err;
    pl_route_match_url(method, url, &m);
    q->route = PL_ROUTE_OTHER;
    /* Errors from here on count under the endpoint asked for. */
    q->err_ep = m.ep == PL_EP_PUBLISH      ? PL_SEP_PUBLISH
                : m.ep == PL_EP_SHORT_POLL ? PL_SEP_SHORT_POLL
                : m.ep == PL_EP_LONG_POLL  ? PL_SEP_LONG_POLL
                : m.ep == PL_EP_SSE        ? PL_SEP_SSE
                                           : PL_SEP_OTHER;
    if (m.ep >= PL_EP_PUBLISH && m.ep <= PL_EP_SSE)
        memcpy(q->room_name, m.room, sizeof q->room_name);
    switch (m.ep) {
    case PL_EP_PUBLISH: return start_publish(q);
    case PL_EP_SHORT_POLL: return pl_short_poll_handle(q);
    case PL_EP_LONG_POLL: q->route = PL_ROUTE_LONG_POLL; return pl_long_poll_handle(q);
    case PL_EP_SSE: q->route = PL_ROUTE_SSE; return pl_sse_handle(q);
    case PL_EP_STATS: return pl_api_stats(q);
    case PL_EP_METRICS: return pl_api_metrics(q);
    case PL_EP_CONFIG: return pl_api_config(q);
    case PL_EP_HEALTH: return health(q);
    case PL_EP_STATIC: return pl_static_file(q, url);
    case PL_EP_ERROR: break;
    }
    if (m.status == 405)
        return pl_reply_not_allowed(q, m.allow);
    pl_err_set(&err, m.status, "%s", m.reason);
    return pl_reply_error(q, &err);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **ctx)
{
    pl_req *q = *ctx;
    (void)version;
    if (!q) {
        if (!(q = calloc(1, sizeof *q)))
            return MHD_NO;
        q->srv = cls;
        q->conn = conn;
        q->route = PL_ROUTE_NONE;
        q->err_ep = PL_SEP_OTHER;
        pl_conn_bytes *cb = conn_bytes(conn);
        q->tcp_out_start = cb ? cb->out : pl_http_tcp_out(conn);
        *ctx = q;
        /* A POST is checked before its body is read (413, 415). Anything
         * else is answered on the next call: answering now would make MHD
         * close a keep-alive connection. */
        return strcmp(method, "POST") == 0 ? route(q, url, method) : MHD_YES;
    }
    if (*upload_size) {
        if (q->route == PL_ROUTE_PUBLISH)
            take_body(q, upload_data, *upload_size);
        *upload_size = 0; /* a body nobody asked for is read and dropped */
        return MHD_YES;
    }
    switch (q->route) {
    case PL_ROUTE_NONE: return route(q, url, method);
    case PL_ROUTE_PUBLISH: return pl_publish_handle(q);
    case PL_ROUTE_LONG_POLL: return pl_long_poll_handle(q);
    default: return MHD_YES;
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    pl_req *q = *ctx;
    (void)cls;
    (void)toe;
    if (!q)
        return;
    if (q->route == PL_ROUTE_LONG_POLL)
        pl_long_poll_done(q);
    else if (q->route == PL_ROUTE_SSE)
        pl_sse_done(q);
    else if (q->route == PL_ROUTE_PUBLISH)
        pl_buf_free(&q->u.pub.body);
    /* The kernel's count replaces our running estimate, so the figure
     * includes status line, headers and chunk framing exactly. */
    uint64_t out = pl_http_tcp_out(conn);
    uint64_t sent = out > q->tcp_out_start ? out - q->tcp_out_start : 0;
    if (q->ts && sent > q->bytes_counted)
        pl_stat_add(&q->ts->bytes_out, sent - q->bytes_counted);
    pl_conn_bytes *cb = conn_bytes(conn);
    if (cb)
        cb->out = out;
    free(q);
    *ctx = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    pl_debug("mhd: %s", line);
}

/* MHD's per-connection memory: request head, response head and the write
 * buffer. It is what an idle SSE stream costs, so it is kept small (held
 * streams measured at 7.5 KB each with 5 KiB, 10.6 KB with 8 KiB); request
 * heads up to about 4 KiB fit. */
#define CONN_POOL (5 * 1024)

int pl_http_start(pl_server *srv)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(srv->cfg.http_port)};
    if (inet_pton(AF_INET, srv->cfg.bind, &addr.sin_addr) != 1)
        return -EINVAL;
    /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: it sets SO_REUSEPORT, with
     * which a second server binds this busy port and the kernel splits
     * clients between two stores. MHD's default, SO_REUSEADDR alone,
     * still lets a restart bind over the old connections' TIME_WAIT.
     * Suspended requests are not timed by MHD; this only reaps idle
     * keep-alive connections. */
    unsigned idle = (unsigned)(srv->cfg.heartbeat_s * 2 + 5);
    if (idle < 60)
        idle = 60;
    srv->mhd = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
            MHD_USE_TURBO,
        0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)srv->cfg.max_connections, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)srv->cfg.http_threads, MHD_OPTION_CONNECTION_TIMEOUT, idle,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_POOL, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (!srv->mhd)
        return -EADDRINUSE;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->http_port = di ? di->port : srv->cfg.http_port;
    return 0;
}

void pl_http_stop(pl_server *srv)
{
    if (!srv->mhd)
        return;
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
}
