/* pushlab-server: one chat feed over short polling, long polling, SSE
 * (libmicrohttpd) and WebSocket (libwebsockets), sharing one store. This
 * file reads the flags, starts both listeners, prints the listening line
 * and shuts down cleanly on SIGINT/SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"
#include "hangup.h"
#include "log.h"
#include "lp_front.h"
#include "addr.h"
#include "backend_redis.h"
#include "server.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pushlab-server [options]\n"
            "One chat feed over short polling, long polling, SSE and WebSocket.\n\n"
            "  --bind ADDR            listen address, IPv4 or IPv6 (default 127.0.0.1)\n"
            "  --http-port N          HTTP port, 0 = any free port (default 8080)\n"
            "  --ws-port N            WebSocket port, 0 = any free port (default 8081)\n"
            "  --web-root DIR         files for the demo page (default %s)\n"
            "  --history N            messages kept per room (default 1000)\n"
            "  --max-rooms N          rooms at most (default 1000)\n"
            "  --max-connections N    connections per listener (default 12000)\n"
            "  --heartbeat S          SSE ping and WebSocket idle period (default 15)\n"
            "  --min-heartbeat S      least heartbeat a client may ask for (default %d)\n"
            "  --max-heartbeat S      most heartbeat a client may ask for (default %d)\n"
            "  --allow-origin ORIGIN  browser Origin allowed on WebSocket; repeatable;\n"
            "                         '*' allows any (default: the server's own HTTP origin)\n"
            "  --public-url URL       the origin browsers use behind a reverse proxy, e.g.\n"
            "                         https://chat.example.org: /api/config's ws_url is\n"
            "                         wss://chat.example.org and its Origin is allowed\n"
            "  --trust-proxy          take X-Forwarded-Proto/-Host from the proxy in front\n"
            "                         for the same purpose (only behind one you run)\n"
            "  --http-threads N       HTTP event-loop threads (default 2)\n"
            "  --ws-threads N         WebSocket service threads, each with its own listener\n"
            "                         on the port (default: one per CPU, at most 16)\n"
            "  --ws-write-delay MS    wait this long after a publish before writing to its\n"
            "                         WebSockets, so what comes meanwhile shares a write:\n"
            "                         less CPU, later delivery (default 0: at once)\n"
            "  --no-coalesce          TCP_NODELAY on every SSE stream and WebSocket always;\n"
            "                         by default a subscriber found behind (what it was\n"
            "                         sent still unacknowledged) has its writes coalesced\n"
            "                         by Nagle's algorithm until it catches up\n"
            "  --no-poll-front        long polls through libmicrohttpd too, not the front\n"
            "                         thread that answers plain ones itself (memory store)\n"
            "  --header-timeout S     a request head (or body) unfinished this long is cut\n"
            "                         (default 10)\n"
            "  --max-lag N            cut an SSE or WebSocket subscriber more than N\n"
            "                         messages behind its room (default: --history)\n"
            "  --store STORE          memory (default), or redis://HOST[:PORT][/DB]: rooms\n"
            "                         shared with every server on that Redis\n"
            "  --redis-prefix P       prefix of the Redis keys and channels (default pushlab)\n"
            "  --redis-timeout MS     longest wait for Redis: connect, answer, a publish\n"
            "                         before its 503 (default 2000)\n"
            "  --log-level LEVEL      error, warn, info or debug (default warn)\n"
            "  --help, --version\n",
            pl_static_default_root(), PL_HEARTBEAT_MIN_DEFAULT, PL_HEARTBEAT_MAX_DEFAULT);
}

/* Parses a whole number in [min, max] for flag `name`; exits on error. */
static long number(const char *name, const char *v, long min, long max)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < min || n > max) {
        fprintf(stderr, "pushlab-server: --%s wants a number from %ld to %ld, got '%s'\n", name,
                min, max, v);
        exit(2);
    }
    return n;
}

enum {
    OPT_HEADER_TIMEOUT = 256,
    OPT_MAX_LAG,
    OPT_NO_POLL_FRONT,
    OPT_NO_COALESCE,
    OPT_WS_THREADS,
    OPT_WS_WRITE_DELAY
}; /* long-only flags */

/* --store and --redis-prefix, checked before anything starts. */
static void check_store(const pl_server_config *cfg)
{
    pl_redis_config rc;
    const char *p = cfg->redis_prefix;
    if (strcmp(cfg->store_url, "memory") != 0 && pl_redis_parse_url(cfg->store_url, &rc) != 0) {
        fprintf(stderr,
                "pushlab-server: --store wants memory or redis://HOST[:PORT][/DB], got '%s'\n",
                cfg->store_url);
        exit(2);
    }
    if (!*p || strlen(p) > 64 || strcspn(p, "{}: \t\r\n") != strlen(p)) {
        fprintf(stderr,
                "pushlab-server: --redis-prefix wants 1 to 64 characters without {}: or "
                "spaces, got '%s'\n",
                p);
        exit(2);
    }
}

static void parse_args(int argc, char **argv, pl_server_config *cfg)
{
    static const struct option opts[] = {{"bind", 1, 0, 'b'},
                                         {"http-port", 1, 0, 'p'},
                                         {"ws-port", 1, 0, 'w'},
                                         {"web-root", 1, 0, 'r'},
                                         {"history", 1, 0, 'H'},
                                         {"max-rooms", 1, 0, 'R'},
                                         {"max-connections", 1, 0, 'c'},
                                         {"heartbeat", 1, 0, 'h'},
                                         {"min-heartbeat", 1, 0, 'm'},
                                         {"max-heartbeat", 1, 0, 'M'},
                                         {"allow-origin", 1, 0, 'o'},
                                         {"http-threads", 1, 0, 't'},
                                         {"ws-threads", 1, 0, OPT_WS_THREADS},
                                         {"ws-write-delay", 1, 0, OPT_WS_WRITE_DELAY},
                                         {"header-timeout", 1, 0, OPT_HEADER_TIMEOUT},
                                         {"no-poll-front", 0, 0, OPT_NO_POLL_FRONT},
                                         {"no-coalesce", 0, 0, OPT_NO_COALESCE},
                                         {"max-lag", 1, 0, OPT_MAX_LAG},
                                         {"public-url", 1, 0, 'P'},
                                         {"trust-proxy", 0, 0, 'T'},
                                         {"log-level", 1, 0, 'l'},
                                         {"store", 1, 0, 'S'},
                                         {"redis-prefix", 1, 0, 'X'},
                                         {"redis-timeout", 1, 0, 'O'},
                                         {"help", 0, 0, '?'},
                                         {"version", 0, 0, 'V'},
                                         {0, 0, 0, 0}};
    enum pl_log_level level;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': cfg->bind = optarg; break;
        case 'p': cfg->http_port = (int)number("http-port", optarg, 0, 65535); break;
        case 'w': cfg->ws_port = (int)number("ws-port", optarg, 0, 65535); break;
        case 'r': cfg->web_root = optarg; break;
        case 'H': cfg->history = (size_t)number("history", optarg, 1, 1000000); break;
        case 'R': cfg->max_rooms = (size_t)number("max-rooms", optarg, 1, 1000000); break;
        case 'c':
            cfg->max_connections = (size_t)number("max-connections", optarg, 1, 1000000);
            break;
        case 'h': cfg->heartbeat_s = (int)number("heartbeat", optarg, 1, 3600); break;
        case 'm': cfg->min_heartbeat_s = (int)number("min-heartbeat", optarg, 1, 3600); break;
        case 'M': cfg->max_heartbeat_s = (int)number("max-heartbeat", optarg, 1, 3600); break;
        case 't': cfg->http_threads = (int)number("http-threads", optarg, 1, 64); break;
        case OPT_WS_THREADS: cfg->ws_threads = (int)number("ws-threads", optarg, 1, 16); break;
        case OPT_WS_WRITE_DELAY:
            cfg->ws_write_delay_ms = (int)number("ws-write-delay", optarg, 0, 1000);
            break;
        case OPT_HEADER_TIMEOUT:
            cfg->header_timeout_s = (int)number("header-timeout", optarg, 1, 3600);
            break;
        case OPT_MAX_LAG: cfg->max_lag = (size_t)number("max-lag", optarg, 1, 100000000); break;
        case 'P':
            if (pl_origin_of_url(optarg, cfg->public_origin, sizeof cfg->public_origin) != 0) {
                fprintf(stderr,
                        "pushlab-server: --public-url wants http(s)://HOST[:PORT], got '%s'\n",
                        optarg);
                exit(2);
            }
            break;
        case 'T': cfg->trust_proxy = true; break;
        case OPT_NO_POLL_FRONT: cfg->no_poll_front = true; break;
        case OPT_NO_COALESCE: cfg->no_coalesce = true; break;
        case 'S': cfg->store_url = optarg; break;
        case 'X': cfg->redis_prefix = optarg; break;
        case 'O': cfg->redis_timeout_ms = (int)number("redis-timeout", optarg, 10, 600000); break;
        case 'o':
            if (cfg->n_origins == PL_MAX_ORIGINS) {
                fprintf(stderr, "pushlab-server: at most %d --allow-origin\n", PL_MAX_ORIGINS);
                exit(2);
            }
            cfg->origins[cfg->n_origins++] = optarg;
            break;
        case 'l':
            if (pl_log_parse_level(optarg, &level) != 0) {
                fprintf(stderr, "pushlab-server: unknown --log-level '%s'\n", optarg);
                exit(2);
            }
            pl_log_set_level(level);
            break;
        case 'V': printf("pushlab-server %s\n", PUSHLAB_VERSION); exit(0);
        default:
            usage(c == '?' && optopt == 0 && strcmp(argv[optind - 1], "--help") == 0 ? stdout
                                                                                     : stderr);
            exit(strcmp(argv[optind - 1], "--help") == 0 ? 0 : 2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pushlab-server: unexpected argument '%s'\n", argv[optind]);
        exit(2);
    }
    check_store(cfg);
    if (cfg->min_heartbeat_s > cfg->max_heartbeat_s) {
        fprintf(stderr, "pushlab-server: --min-heartbeat %d is above --max-heartbeat %d\n",
                cfg->min_heartbeat_s, cfg->max_heartbeat_s);
        exit(2);
    }
}

/* Who may open a WebSocket from a browser, and how /api/config names the
 * WebSocket base: --allow-origin, --public-url and --trust-proxy. Without
 * --allow-origin, a browser may connect from the server's own page: its
 * HTTP origin, the localhost spelling of it on loopback, and on
 * --bind 0.0.0.0 the host the browser dialled. After pl_http_start. */
static void set_origin_policy(pl_server *srv)
{
    pl_server_config *c = &srv->cfg;
    pl_origin_policy *p = &srv->origin;
    if (!c->n_origins) {
        /* Listening on every address, the page's origin is whatever host
         * name the browser used, with our HTTP port. */
        if (strcmp(c->bind, "0.0.0.0") == 0 || strcmp(c->bind, "::") == 0)
            p->same_host_http_port = srv->http_port;
        pl_addr_url(srv->default_origins[0], PL_ORIGIN_MAX, "http", c->bind, srv->http_port);
        c->origins[c->n_origins++] = srv->default_origins[0];
        if (strncmp(c->bind, "127.", 4) == 0 || strcmp(c->bind, "::1") == 0) {
            snprintf(srv->default_origins[1], PL_ORIGIN_MAX, "http://localhost:%d", srv->http_port);
            c->origins[c->n_origins++] = srv->default_origins[1];
        }
    }
    pl_origin_policy_allow(p, c->origins, c->n_origins);
    p->public_origin = c->public_origin[0] ? c->public_origin : NULL;
    p->trust_proxy = c->trust_proxy;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Lets open streams end and waiting polls answer, then stops MHD, which
 * would abort with a connection still suspended. New connections are
 * refused meanwhile (http.c's on_accept reads `stopping`). */
static void drain_http(pl_server *srv)
{
    /* Requests suspended on a store call are answered (503) now. */
    pl_backend_stop(srv->backend);
    pl_store_wake_all(srv->store);
    for (int i = 0; i < 300; i++) {
        if (atomic_load(&srv->stats.sse.connections) == 0 &&
            atomic_load(&srv->stats.long_poll.waiting) == 0)
            break;
        usleep(10000);
    }
    pl_info("http drained: %lld streams, %lld polls still open",
            (long long)atomic_load(&srv->stats.sse.connections),
            (long long)atomic_load(&srv->stats.long_poll.waiting));
    pl_front_stop(srv->front); /* it hands connections to MHD: first */
    srv->front = NULL;
    pl_http_stop(srv);
    pl_info("http stopped");
}

/* One clear line for a listener that would not start. The libraries say
 * only that they failed (their own lines go to the debug log), so the
 * reason comes from binding the address again the way they do
 * (SO_REUSEADDR, no SO_REUSEPORT). */
static void listen_failed(const char *bind_addr, int port)
{
    pl_addr a;
    int one = 1, err = EINVAL, fd = -1;
    if (pl_addr_parse(&a, bind_addr, port) == 0 &&
        (fd = socket(pl_addr_family(&a), SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        err = bind(fd, (struct sockaddr *)&a.ss, a.len) == 0 ? 0 : errno;
    }
    if (fd >= 0)
        close(fd);
    fprintf(stderr, "pushlab-server: cannot listen on %s:%d: %s\n", bind_addr, port,
            err == EADDRINUSE ? "address in use"
            : err             ? strerror(err)
                              : "the listener did not start (see --log-level debug)");
}

/* The ticker and its jobs: a walk over the waiting long polls (their
 * deadlines) and one over the SSE streams (their heartbeats), each
 * request ticked by its handler table's `tick`; the connections' head and
 * body timeouts; the SSE streams' lag, after publishes. */
static int start_ticker(pl_server *srv)
{
    if (pl_ticker_new(&srv->ticker) != 0)
        return -1;
    srv->lp_tick = pl_ticker_add(srv->ticker, pl_req_list_tick, &srv->long_polls,
                                 pl_long_poll_handler.tick_slack_us);
    srv->sse_tick = pl_ticker_add(srv->ticker, pl_req_list_tick, &srv->sse_streams,
                                  pl_sse_handler.tick_slack_us);
    srv->conns.job = pl_ticker_add(srv->ticker, pl_conn_sweep, srv, 100000);
    srv->lag_tick = pl_ticker_add(srv->ticker, pl_sse_lag_sweep, srv, 100000);
    if (!srv->lp_tick || !srv->sse_tick || !srv->conns.job || !srv->lag_tick ||
        pl_store_add_hook(srv->store, pl_sse_on_publish, srv) != 0)
        return -1;
    return pl_ticker_start(srv->ticker);
}

/* The store behind the rooms: memory, or a Redis shared with other
 * servers (which connects in the background: the server serves meanwhile
 * and publishes wait up to --redis-timeout, then answer 503). */
static int start_backend(pl_server *srv)
{
    const pl_server_config *c = &srv->cfg;
    if (strcmp(c->store_url, "memory") == 0)
        return (srv->backend = pl_backend_memory_new(srv->store)) ? 0 : -1;
    pl_redis_config rc = {
        .prefix = c->redis_prefix, .history = c->history, .timeout_ms = c->redis_timeout_ms};
    pl_redis_parse_url(c->store_url, &rc);
    if (pl_backend_redis_new(srv->store, &rc, &srv->backend) != 0) {
        fprintf(stderr, "pushlab-server: cannot start the Redis store\n");
        return -1;
    }
    pl_info("store: %s, prefix %s", c->store_url, c->redis_prefix);
    return 0;
}

static int start(pl_server *srv)
{
    if (!(srv->store = pl_store_new(srv->cfg.history, srv->cfg.max_rooms)) ||
        start_backend(srv) != 0)
        return -1;
    srv->stats.started_mono_us = pl_clock_mono_us();
    pl_req_list_init(&srv->long_polls, pl_long_poll_handler.tick);
    pl_req_list_init(&srv->sse_streams, pl_sse_handler.tick);
    pl_sse_ready_init(&srv->sse_ready);
    if (pl_sse_ready_start(&srv->sse_ready) != 0)
        return -1;
    srv->page_cache = pl_page_cache_new(); /* NULL: every page is built */
    pl_conn_list_init(&srv->conns, srv->cfg.header_timeout_s);
    if (srv->cfg.max_lag == 0)
        srv->cfg.max_lag = srv->cfg.history;
    if (pl_hangup_start(&srv->hangup) != 0)
        return -1;
    /* Before the first request can note a deadline or a heartbeat. */
    if (start_ticker(srv) != 0)
        return -1;
    /* A Redis room may open later, which only MHD's path waits for. */
    bool front = !srv->cfg.no_poll_front && strcmp(srv->cfg.store_url, "memory") == 0;
    if ((front && pl_front_listen(srv, &srv->front) != 0) || pl_http_start(srv) != 0 ||
        (front && pl_front_run(srv->front) != 0)) {
        listen_failed(srv->cfg.bind, srv->cfg.http_port);
        return -1;
    }
    set_origin_policy(srv);
    pl_ws_config wc = {.bind = srv->cfg.bind,
                       .port = srv->cfg.ws_port,
                       .heartbeat_s = srv->cfg.heartbeat_s,
                       .min_heartbeat_s = srv->cfg.min_heartbeat_s,
                       .max_heartbeat_s = srv->cfg.max_heartbeat_s,
                       .max_connections = srv->cfg.max_connections,
                       .max_lag = srv->cfg.max_lag,
                       .origin = &srv->origin,
                       .threads = srv->cfg.ws_threads,
                       .write_delay_ms = srv->cfg.ws_write_delay_ms,
                       .coalesce = !srv->cfg.no_coalesce};
    if (pl_ws_start(&srv->ws, &wc, srv->backend, &srv->stats) != 0) {
        listen_failed(srv->cfg.bind, srv->cfg.ws_port);
        return -1;
    }
    srv->ws_port = pl_ws_port(srv->ws);
    pl_addr_url(srv->http_url, sizeof srv->http_url, "http", srv->cfg.bind, srv->http_port);
    pl_addr_url(srv->ws_url, sizeof srv->ws_url, "ws", srv->cfg.bind, srv->ws_port);
    return 0;
}

int main(int argc, char **argv)
{
    static pl_server srv;
    sigset_t sigs;
    int sig, rc = 1;

    srv.cfg = (pl_server_config){.bind = "127.0.0.1",
                                 .http_port = 8080,
                                 .ws_port = 8081,
                                 .web_root = pl_static_default_root(),
                                 .history = 1000,
                                 .max_rooms = 1000,
                                 .max_connections = 12000,
                                 .heartbeat_s = 15,
                                 .min_heartbeat_s = PL_HEARTBEAT_MIN_DEFAULT,
                                 .max_heartbeat_s = PL_HEARTBEAT_MAX_DEFAULT,
                                 .http_threads = 2,
                                 .header_timeout_s = 10,
                                 .store_url = "memory",
                                 .redis_prefix = "pushlab",
                                 .redis_timeout_ms = 2000};
    parse_args(argc, argv, &srv.cfg);
    raise_fd_limit();
    json_object_seed(0); /* before any thread touches jansson */
    signal(SIGPIPE, SIG_IGN);
    /* Every thread inherits this mask, so only sigwait() below sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if (start(&srv) == 0) {
        printf("pushlab-server listening http=%s ws=%s\n", srv.http_url, srv.ws_url);
        fflush(stdout);
        sigwait(&sigs, &sig);
        pl_info("signal %d: stopping", sig);
        atomic_store(&srv.stopping, true);
        /* No more deadlines or heartbeats: draining ends every request. */
        pl_ticker_stop(srv.ticker);
        drain_http(&srv);
        rc = 0;
    } else {
        pl_front_stop(srv.front);
        if (srv.mhd)
            pl_http_stop(&srv);
    }
    pl_ticker_free(srv.ticker);
    pl_conn_list_destroy(&srv.conns); /* MHD, which used it, has stopped */
    pl_ws_stop(srv.ws);
    pl_info("websocket stopped");
    pl_sse_ready_stop(&srv.sse_ready); /* no publish can come now */
    pl_hangup_stop(srv.hangup);
    pl_backend_free(srv.backend);
    pl_page_cache_free(srv.page_cache); /* MHD, whose answers used it, has stopped */
    pl_store_free(srv.store);
    return rc;
}
