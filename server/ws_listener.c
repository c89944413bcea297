/* The WebSocket listener: its own lws context on its own port, the one
 * service thread that runs it, and start and stop, which says goodbye to
 * every peer with a 1001 close frame. The peers themselves are
 * transport_ws.c's; see transport_ws.h for the API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "clock.h"
#include "log.h"
#include "transport_ws_internal.h"

static void goodbye_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    pl_ws *ws = (pl_ws *)(void *)((char *)t - offsetof(pl_ws, goodbye_timer));
    (void)loop, (void)revents;
    ws->goodbye_over = true;
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
static void say_goodbye(pl_ws *ws)
{
    pl_ws_fanout_each(ws->fanout, going_away, NULL);
    ev_timer_stop(ws->loop, &ws->sweep_timer);
    ws->sweep_at = INT64_MIN; /* no more sweeps */
    ev_timer_set(&ws->goodbye_timer, 1., 0.);
    ev_timer_start(ws->loop, &ws->goodbye_timer);
    while (ws->n_conns && !ws->goodbye_over)
        ev_run(ws->loop, EVRUN_ONCE);
    ev_timer_stop(ws->loop, &ws->goodbye_timer);
}

static void *service_main(void *arg)
{
    pl_ws *ws = arg;
    pl_ws_calls_bind(ws->calls);
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
static void destroy_context(pl_ws *ws)
{
    lws_context_destroy(ws->ctx);
    for (int budget = 1000; ws->ctx && budget > 0; budget--)
        ev_run(ws->loop, EVRUN_NOWAIT);
}

static void free_ws(pl_ws *ws)
{
    pl_ws_calls_free(ws->calls);
    free(ws->frame_buf);
    free(ws->handshaking);
    pl_ws_fanout_free(ws->fanout);
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

static int create_context(pl_ws *ws, const pl_ws_config *cfg)
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
    info.port = cfg->port;
    info.iface = ws->bind;
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
    ws->port = ws->vhost ? lws_get_vhost_listen_port(ws->vhost) : cfg->port;
    return 0;
}

int pl_ws_start(pl_ws **out, const pl_ws_config *cfg, pl_backend *backend, pl_stats *st)
{
    pl_store *store = backend->store;
    int rc = -ENOMEM;
    pl_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return -ENOMEM;
    ws->backend = backend;
    ws->store = store;
    ws->st = st;
    ws->max_connections = cfg->max_connections ? cfg->max_connections : 10000;
    ws->max_lag = cfg->max_lag;
    struct rlimit rl; /* one byte per possible fd (pl_ws_handshake_accepted) */
    ws->handshaking_len =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1u << 22 ? rl.rlim_cur : 65536;
    snprintf(ws->bind, sizeof ws->bind, "%s", cfg->bind ? cfg->bind : "127.0.0.1");
    ws->origin = cfg->origin;
    if (!(ws->handshaking = calloc(ws->handshaking_len, 1)) ||
        !(ws->frame_buf = malloc(LWS_PRE + FRAME_BUF_DEFAULT)) ||
        !(ws->loop = ev_loop_new(EVBACKEND_EPOLL)) || pl_ws_fanout_new(&ws->fanout) != 0)
        goto fail;
    ev_init(&ws->sweep_timer, pl_ws_sweep);
    ev_init(&ws->goodbye_timer, goodbye_timeout);
    if ((rc = create_context(ws, cfg)) != 0)
        goto fail;
    rc = -ENOMEM;
    if (!(ws->calls = pl_ws_calls_new(ws->ctx)))
        goto fail_ctx;
    if ((rc = -pthread_create(&ws->thread, NULL, service_main, ws)) != 0)
        goto fail_ctx;
    if ((rc = pl_store_add_hook(store, pl_ws_on_publish, ws)) != 0)
        goto fail_thread;
    *out = ws;
    return 0;
fail_thread:
    atomic_store(&ws->stopping, true);
    lws_cancel_service(ws->ctx);
    pthread_join(ws->thread, NULL);
fail_ctx:
    destroy_context(ws);
fail:
    free_ws(ws);
    return rc;
}

int pl_ws_port(const pl_ws *ws) { return ws->port; }

void pl_ws_stop(pl_ws *ws)
{
    if (!ws)
        return;
    atomic_store(&ws->stopping, true);
    lws_cancel_service(ws->ctx);
    pthread_join(ws->thread, NULL);
    /* Closes every connection (CLOSED callbacks run here) and the listener. */
    destroy_context(ws);
    free_ws(ws);
}
