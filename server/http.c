/* The HTTP side: the libmicrohttpd daemon and the router. The router maps
 * each request's endpoint (route.c decides it from the bytes) to the
 * handler table of that endpoint (request.h) and calls it as MHD calls
 * us; it knows no transport. It also counts each request's socket bytes.
 * MHD runs its own epoll thread(s); waiting requests are suspended. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "addr.h"
#include "conn.h"
#include "log.h"
#include "reply.h"
#include "route.h"
#include "server.h"
#include "wire.h"

/* Each endpoint's handler; PL_EP_ERROR has none. */
static const pl_handler *const handlers[] = {
    [PL_EP_PUBLISH] = &pl_publish_handler,     [PL_EP_SHORT_POLL] = &pl_short_poll_handler,
    [PL_EP_LONG_POLL] = &pl_long_poll_handler, [PL_EP_SSE] = &pl_sse_handler,
    [PL_EP_STATS] = &pl_stats_handler,         [PL_EP_METRICS] = &pl_metrics_handler,
    [PL_EP_CONFIG] = &pl_config_handler,       [PL_EP_HEALTH] = &pl_health_handler,
    [PL_EP_STATIC] = &pl_static_handler,
};

static pl_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    pl_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&srv->http_open, 1);
        *socket_ctx = pl_conn_open(cls, conn); /* NULL: counted per request */
    } else {
        atomic_fetch_sub(&srv->http_open, 1);
        pl_conn_close(cls, *socket_ctx);
        *socket_ctx = NULL;
    }
}

/* Hands the request to the handler of the endpoint route.c chose. */
static enum MHD_Result route(pl_req *q, const char *method)
{
    pl_route_match m;
    pl_err err;
    pl_route_match_url(method, q->url, &m);
    q->routed = true;
    q->h = (size_t)m.ep < sizeof handlers / sizeof *handlers ? handlers[m.ep] : NULL;
    if (!q->h) {
        if (m.status == 405)
            return pl_reply_not_allowed(q, m.allow);
        pl_err_set(&err, m.status, "%s", m.reason);
        return pl_reply_error(q, &err);
    }
    /* Errors from here on count under the endpoint asked for. */
    q->err_ep = q->h->stats_ep;
    if (q->h->room)
        memcpy(q->room_name, m.room, sizeof q->room_name);
    return q->h->start(q);
}

/* A request's state, from its first call; NULL without memory. */
static pl_req *new_req(pl_server *srv, struct MHD_Connection *conn)
{
    pl_req *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->srv = srv;
    q->conn = conn;
    q->err_ep = PL_SEP_OTHER;
    pl_conn *c = conn_of(conn);
    q->tcp_out_start = c ? pl_conn_sent(c) : pl_req_wire_out(q);
    return q;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **ctx)
{
    pl_req *q = *ctx;
    (void)version;
    if (!q) {
        if (!(q = *ctx = new_req(cls, conn)))
            return MHD_NO;
        q->url = url;
        /* A POST is checked before its body is read (413, 415). Anything
         * else is answered on the next call: answering now would make MHD
         * close a keep-alive connection. */
        if (strcmp(method, "POST") != 0) {
            pl_conn_head(cls, conn_of(conn), false);
            return MHD_YES;
        }
        enum MHD_Result ret = route(q, method);
        pl_conn_head(cls, conn_of(conn), q->body_pending);
        return ret;
    }
    q->url = url;
    /* Resumed after a store backend call: its handler continues. */
    enum MHD_Result (*then)(pl_req *) = pl_req_later_take(q);
    if (then)
        return then(q);
    if (*upload_size) {
        q->body_in += *upload_size;
        if (q->h && q->h->body)
            q->h->body(q, upload_data, *upload_size);
        *upload_size = 0; /* a body nobody asked for is read and dropped */
        return MHD_YES;
    }
    if (q->body_pending) {
        q->body_pending = false;
        pl_conn_body_done(cls, conn_of(conn));
    }
    if (!q->routed)
        return route(q, method);
    return q->h && q->h->resume ? q->h->resume(q) : MHD_YES;
}

/* The bytes of this request, head and body, or 0 when not known: chunk
 * framing hides how many there were, and a body cut short is all its own. */
static uint64_t request_bytes(const pl_req *q, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (!ci || q->body_pending ||
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return 0;
    return ci->header_size + q->body_in;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    pl_req *q = *ctx;
    pl_server *srv = cls;
    pl_wire w;
    (void)toe;
    if (!q)
        return;
    /* The client left, or broke the framing, before its body was in. */
    if (q->body_pending)
        pl_stat_add(&srv->stats.errors[PL_ERR_HTTP_INCOMPLETE], 1);
    if (q->h && q->h->done)
        q->h->done(q);
    /* The kernel's count replaces our running estimate, so the figure
     * includes status line, headers and chunk framing exactly. */
    pl_wire_read(pl_req_fd(q), &w);
    uint64_t sent = w.out > q->tcp_out_start ? w.out - q->tcp_out_start : 0;
    if (q->ts && sent > q->bytes_counted)
        pl_stat_add(&q->ts->bytes_out, sent - q->bytes_counted);
    pl_conn_request_done(srv, conn_of(conn), w.out, w.in, request_bytes(q, conn));
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
 * buffer. It is most of what an idle SSE stream costs, so it is kept
 * small (docs/architecture.md, "Figures behind the code"); request heads
 * up to about 4 KiB fit. */
#define CONN_POOL (5 * 1024)

/* Once stopping, a new connection is closed as it is accepted, so the
 * drain ends. This does what MHD_quiesce_daemon() would, without its race
 * in 0.9.75: with a thread pool it removes the listening socket from each
 * worker's epoll set and panics (abort) when a busy worker, seeing
 * was_quiesced first, removed it already (ENOENT; tests/server/test_stop.c
 * makes that certain). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
    pl_server *srv = cls;
    (void)addr;
    (void)len;
    return atomic_load(&srv->stopping) ? MHD_NO : MHD_YES;
}

int pl_http_start(pl_server *srv)
{
    pl_addr addr;
    if (pl_addr_parse(&addr, srv->cfg.bind, srv->cfg.http_port) != 0)
        return -EINVAL;
    /* IPv6 as the kernel gives our own sockets: "::" takes IPv4 too.
     * No MHD_OPTION_LISTENING_ADDRESS_REUSE: it sets SO_REUSEPORT, with
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
            MHD_USE_TURBO | (srv->front ? MHD_USE_NO_LISTEN_SOCKET : 0) |
            (pl_addr_family(&addr) == AF_INET6 ? MHD_USE_DUAL_STACK : 0),
        0, on_accept, srv, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr.ss, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)srv->cfg.max_connections, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)srv->cfg.http_threads, MHD_OPTION_CONNECTION_TIMEOUT, idle,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_POOL, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (!srv->mhd)
        return -EADDRINUSE;
    if (srv->front)
        return 0; /* which listens, and knows the port */
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
