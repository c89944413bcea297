/* The server's shared state: configuration, the store, counters and the
 * parts main.c starts (the MHD daemon, the WebSocket side, the hang-up
 * watcher, the ticker). main.c writes every field before the first
 * request and only `stopping` after; the rest of server/ reads them. The
 * HTTP request is in request.h. */
#ifndef PL_SERVER_H
#define PL_SERVER_H
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include "backend.h"
#include "conn.h"
#include "origin.h"
#include "stats.h"
#include "store.h"
#include "request.h"
#include "page_cache.h"
#include "sse_stream.h"
#include "ticker.h"
#include "transport_ws.h"

#define PL_MAX_ORIGINS 16

typedef struct pl_server_config {
    const char *bind;
    int http_port, ws_port;
    const char *web_root;
    size_t history, max_rooms, max_connections;
    int heartbeat_s;                      /* for clients that do not ask */
    int min_heartbeat_s, max_heartbeat_s; /* bounds of a client's heartbeat= */
    int http_threads;
    int ws_threads;        /* 0: one per CPU */
    int ws_write_delay_ms; /* 0: write to WebSockets at once */
    int header_timeout_s;  /* a request head or body must be in within this */
    size_t max_lag;        /* an SSE or WebSocket subscriber further behind is cut */
    const char *origins[PL_MAX_ORIGINS];
    size_t n_origins;
    char public_origin[PL_ORIGIN_MAX]; /* --public-url's origin, or "" */
    bool trust_proxy;
    bool no_poll_front;       /* --no-poll-front */
    bool no_coalesce;         /* --no-coalesce: TCP_NODELAY on SSE and WebSocket always */
    const char *store_url;    /* --store: "memory" or redis://HOST:PORT[/DB] */
    const char *redis_prefix; /* --redis-prefix */
    int redis_timeout_ms;     /* --redis-timeout */
} pl_server_config;

typedef struct pl_hangup pl_hangup;
typedef struct pl_front pl_front;

typedef struct pl_server {
    pl_server_config cfg;
    pl_store *store;     /* the local rooms: what every transport reads */
    pl_backend *backend; /* behind them: memory, or a shared Redis */
    pl_stats stats;
    struct MHD_Daemon *mhd; /* http.c */
    pl_front *front;        /* lp_front.c: owns the HTTP port; NULL: MHD does */
    atomic_int http_open;   /* MHD's connections now (http.c) */
    pl_ws *ws;              /* transport_ws.c */
    pl_hangup *hangup;      /* hangup.c, used through request.c */
    pl_ticker *ticker;
    pl_tick_job *lp_tick;    /* the walk over long_polls: their deadlines */
    pl_tick_job *sse_tick;   /* the walk over sse_streams: their heartbeats */
    pl_tick_job *lag_tick;   /* the walk over sse_streams: too far behind (a publish notes it) */
    pl_origin_policy origin; /* who may open a WebSocket; /api/config's ws_url */
    int http_port, ws_port;
    char http_url[96], ws_url[96];
    char default_origins[2][PL_ORIGIN_MAX]; /* what origin.allowed points to by default */
    atomic_bool stopping;
    pl_req_list long_polls, sse_streams; /* owned by their transport files */
    pl_sse_ready sse_ready;              /* streams a publish woke (sse_stream.c) */
    pl_page_cache *page_cache;           /* the polls' last pages (page_cache.c) */
    pl_conn_list conns;                  /* every open HTTP connection (conn.c) */
} pl_server;

/* The default --web-root: the installed page beside this binary
 * (<bindir>/../share/pushlab/web), else at the configured prefix, else the
 * source tree's web/ for a binary run from its build directory. A static
 * string, computed on each call. */
const char *pl_static_default_root(void);

/* Starts and stops the HTTP daemon (router in http.c). */
int pl_http_start(pl_server *srv);
void pl_http_stop(pl_server *srv);

#endif
