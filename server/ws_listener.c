/* One WebSocket service thread: its lws context, the listening socket
 * it accepts from, the thread that runs both, and start and stop, which
 * says goodbye to each of its peers with a 1001 close frame. lws itself
 * listens on nothing: 4.1.6 sets no SO_REUSEPORT, even with
 * LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE (strace shows SO_REUSEADDR only).
 * The peers are transport_ws.c's; ws_threads.c runs several of these. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"
#include "transport_ws_internal.h"

static void goodbye_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    pl_ws_svc *ws = (pl_ws_svc *)(void *)((char *)t - offsetof(pl_ws_svc, goodbye_timer));
    (void)loop, (void)revents;
    ws->goodbye_over = true;
}

#define ACCEPT_BURST  64  /* then other events get a turn */
#define ACCEPT_REST_S 0.1 /* out of descriptors: try again after this */

static void accept_resume(struct ev_loop *loop, ev_timer *t, int revents)
{
    pl_ws_svc *ws = (pl_ws_svc *)(void *)((char *)t - offsetof(pl_ws_svc, accept_rest));
    (void)revents;
    ev_io_start(loop, &ws->accept_io);
}

/* Hands what the kernel queued on this thread's listener to lws, which
 * serves it as its own listener would have. Out of descriptors the
 * listener stays readable, so it rests a while: no busy loop. */
static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    pl_ws_svc *ws = (pl_ws_svc *)(void *)((char *)w - offsetof(pl_ws_svc, accept_io));
    (void)revents;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            lws_adopt_socket_vhost(ws->vhost, fd); /* closes it when it fails */
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            pl_debug("ws: accept: %s", strerror(errno));
            ev_io_stop(loop, w);
            ev_timer_set(&ws->accept_rest, ACCEPT_REST_S, 0.);
            ev_timer_start(loop, &ws->accept_rest);
        }
        return;
    }
}

static void going_away(pl_ws_fanout_member *m, void *ud)
{
    struct conn *c = CONN(m);
    (void)ud;
    c->going_away = true;
    lws_callback_on_writable(c->wsi);
}

/* Sends every peer a 1001 close frame so clients know to reconnect, and
 * services until they are gone or one second passed. */
static void say_goodbye(pl_ws_svc *ws)
{
    ev_io_stop(ws->loop, &ws->accept_io); /* the other threads' take the newcomers */
    ev_timer_stop(ws->loop, &ws->accept_rest);
    pl_ws_fanout_each(ws->fanout, going_away, NULL);
    ev_timer_stop(ws->loop, &ws->sweep_timer);
    ev_timer_stop(ws->loop, &ws->delay_timer);
    ws->sweep_at = INT64_MIN; /* no more sweeps */
    ev_timer_set(&ws->goodbye_timer, 1., 0.);
    ev_timer_start(ws->loop, &ws->goodbye_timer);
    while (ws->n_conns && !ws->goodbye_over)
        ev_run(ws->loop, EVRUN_ONCE);
    ev_timer_stop(ws->loop, &ws->goodbye_timer);
}

static void *service_main(void *arg)
{
    pl_ws_svc *ws = arg;
    pl_ws_calls_bind(ws->calls);
    ev_io_start(ws->loop, &ws->accept_io);
    /* Until pl_ws_stop's wake-up breaks it (transport_ws.c). */
    while (!atomic_load(&ws->stopping))
        ev_run(ws->loop, 0);
    say_goodbye(ws);
    return NULL;
}

/* lws finishes destroying a context on a foreign loop from that loop's
 * callbacks (its idle watcher), so the loop runs until lws says it is done
 * (info.pcontext); without it, a loop busy with other events left the
 * vhost and its TLS state unfreed. */
static void destroy_context(pl_ws_svc *ws)
{
    lws_context_destroy(ws->ctx);
    for (int budget = 1000; ws->ctx && budget > 0; budget--)
        ev_run(ws->loop, EVRUN_NOWAIT);
}

static void free_ws(pl_ws_svc *ws)
{
    pl_ws_calls_free(ws->calls);
    free(ws->handshaking);
    pl_ws_fanout_free(ws->fanout);
    if (ws->accept_io.fd >= 0)
        close(ws->accept_io.fd);
    if (ws->loop)
        ev_loop_destroy(ws->loop);
    free(ws);
}

/* lws's lines while the context starts: a busy port is reported once, by
 * main, so its own "ERROR on binding" lines go to the debug log. */
static void lws_start_log(int level, const char *line)
{
    (void)level;
    pl_debug("lws: %.*s", (int)strcspn(line, "\n"), line);
}

static int create_context(pl_ws_svc *ws, const pl_ws_config *cfg)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    ws->protocols[0] = (struct lws_protocols){
        .name = PL_WS_PROTOCOL,
        .callback = pl_ws_callback,
        .per_session_data_size = sizeof(struct conn),
        .rx_buffer_size = 4096,
    };
    /* A zero policy turns lws's per-connection validity timers off: sweep()
     * pings silent peers and drops dead ones, for all of them at once. */
    ws->heartbeat_s = cfg->heartbeat_s > 0 ? cfg->heartbeat_s : 15;
    ws->min_heartbeat_s = cfg->min_heartbeat_s > 0 ? cfg->min_heartbeat_s : 1;
    ws->max_heartbeat_s = cfg->max_heartbeat_s > 0 ? cfg->max_heartbeat_s : ws->heartbeat_s;
    if (ws->max_heartbeat_s < ws->min_heartbeat_s)
        ws->max_heartbeat_s = ws->min_heartbeat_s;
    ws->epoch_us = pl_clock_mono_us();
    ws->sweep_at = INT64_MAX; /* planned by the first connection */
    memset(&ws->retry, 0, sizeof ws->retry);
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* on_accept hands it the sockets */
    info.protocols = ws->protocols;
    info.retry_and_idle_policy = &ws->retry;
    info.user = ws;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_LIBEV;
    void *foreign[1] = {ws->loop};
    info.foreign_loops = foreign;
    info.pcontext = &ws->ctx;
    info.max_http_header_data = HEADERS_MAX;
    lws_set_log_level(LLL_ERR, lws_start_log);
    ws->ctx = lws_create_context(&info);
    lws_set_log_level(LLL_ERR, lwsl_emit_stderr);
    if (!ws->ctx)
        return -EADDRINUSE;
    ws->vhost = lws_get_vhost_by_name(ws->ctx, "default");
    return ws->vhost ? 0 : -ENOMEM;
}

int pl_ws_svc_start(pl_ws_svc **out, const pl_ws_config *cfg, int listen_fd, pl_backend *backend,
                    pl_stats *st)
{
    int rc = -ENOMEM;
    pl_ws_svc *ws = calloc(1, sizeof *ws);
    if (!ws) {
        close(listen_fd);
        return -ENOMEM;
    }
    ev_io_init(&ws->accept_io, on_accept, listen_fd, EV_READ);
    ev_init(&ws->accept_rest, accept_resume);
    ws->backend = backend;
    ws->store = backend->store;
    ws->st = st;
    ws->max_connections = cfg->max_connections ? cfg->max_connections : 10000;
    ws->max_lag = cfg->max_lag;
    ws->write_delay_us = (int64_t)cfg->write_delay_ms * 1000;
    ws->coalesce = cfg->coalesce;
    struct rlimit rl; /* one byte per possible fd (pl_ws_handshake_accepted) */
    ws->handshaking_len =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1u << 22 ? rl.rlim_cur : 65536;
    ws->origin = cfg->origin;
    if (!(ws->handshaking = calloc(ws->handshaking_len, 1)) ||
        !(ws->loop = ev_loop_new(EVBACKEND_EPOLL)) || pl_ws_fanout_new(&ws->fanout) != 0)
        goto fail;
    ev_init(&ws->sweep_timer, pl_ws_sweep);
    ev_init(&ws->delay_timer, pl_ws_delayed_wake);
    ev_init(&ws->goodbye_timer, goodbye_timeout);
    if ((rc = create_context(ws, cfg)) != 0)
        goto fail;
    rc = -ENOMEM;
    if (!(ws->calls = pl_ws_calls_new(ws->ctx)))
        goto fail_ctx;
    if ((rc = -pthread_create(&ws->thread, NULL, service_main, ws)) != 0)
        goto fail_ctx;
    *out = ws;
    return 0;
fail_ctx:
    destroy_context(ws);
fail:
    free_ws(ws);
    return rc;
}

void pl_ws_svc_stop_begin(pl_ws_svc *ws)
{
    atomic_store(&ws->stopping, true);
    lws_cancel_service(ws->ctx);
}

void pl_ws_svc_stop_end(pl_ws_svc *ws)
{
    pthread_join(ws->thread, NULL);
    /* Closes every connection (CLOSED callbacks run here) and the listener. */
    destroy_context(ws);
    free_ws(ws);
}
