/* The server's shared state: configuration, the store, counters, and the
 * HTTP side's request context. Internal to server/; the transports and the
 * router include it. */
#ifndef PL_SERVER_H
#define PL_SERVER_H
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "origin.h"
#include "stats.h"
#include "store.h"
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
    const char *origins[PL_MAX_ORIGINS];
    size_t n_origins;
    char public_origin[PL_ORIGIN_MAX]; /* --public-url's origin, or "" */
    bool trust_proxy;
} pl_server_config;

typedef struct pl_req pl_req;

/* A list of in-flight requests the ticker looks after (long polls with a
 * deadline, SSE streams needing heartbeats). */
typedef struct pl_req_list {
    pthread_mutex_t lock;
    pl_list head; /* of pl_req.link */
} pl_req_list;

typedef struct pl_server {
    pl_server_config cfg;
    pl_store *store;
    pl_stats stats;
    struct MHD_Daemon *mhd;
    pl_ws *ws;
    struct pl_hangup *hangup;
    bool same_host_origin;   /* WebSocket accepts http://<Host>:<http_port> */
    pl_origin_policy origin; /* the same rules, for /api/config's ws_url */
    int http_port, ws_port;
    char http_url[96], ws_url[96];
    atomic_bool stopping;
    pl_req_list long_polls, sse_streams;
    pthread_t ticker;
    bool ticking; /* the ticker thread runs */
    pthread_mutex_t tick_lock;
    pthread_cond_t tick_cond;
    int64_t next_deadline_us; /* earliest long-poll deadline, under tick_lock */
    int64_t next_beat_us;     /* earliest SSE heartbeat due, under tick_lock */
} pl_server;

enum pl_route {
    PL_ROUTE_NONE,
    PL_ROUTE_PUBLISH,
    PL_ROUTE_SHORT_POLL,
    PL_ROUTE_LONG_POLL,
    PL_ROUTE_SSE,
    PL_ROUTE_OTHER, /* answered at once: stats, config, files, errors */
};

/* One HTTP request, from its first byte to MHD's "completed" notice, which
 * frees it. Transports keep their own state in the union. */
struct pl_req {
    pl_server *srv;
    struct MHD_Connection *conn;
    enum pl_route route;
    enum pl_stats_ep err_ep; /* what its errors count under in /metrics */
    pl_room *room;
    pl_transport_stats *ts; /* the counters this request's bytes go to */
    uint64_t tcp_out_start; /* socket bytes handed over before this request */
    uint64_t bytes_counted; /* bytes already added to ts->bytes_out live */
    pl_list link;           /* in a pl_req_list, when on one */
    int watched_fd;         /* fd + 1 while the hang-up watcher has it, else 0 */
    atomic_bool gone;       /* the client hung up while we waited */
    pl_waiter waiter;
    char room_name[PL_ROOM_MAX + 1];
    union {
        struct { /* publish */
            pl_buf body;
            int status; /* an error found while the body streamed in */
        } pub;
        struct { /* long poll */
            uint64_t since;
            size_t limit;
            int64_t deadline_us;
            atomic_bool expired;
            bool waited;
            bool parked; /* counted in long_poll.waiting */
        } lp;
        struct { /* SSE */
            uint64_t cursor;
            pl_msg *cur; /* the message being written, a reference */
            size_t cur_off;
            bool started;
            bool head_counted;
            atomic_bool ping_due;
            int64_t beat_period_us; /* this stream's heartbeat */
            int64_t beat_next_us;   /* its next ping, on the ticker's grid */
        } sse;
    } u;
};

/* The request a store waiter is embedded in. */
static inline pl_req *pl_req_of_waiter(pl_waiter *w)
{
    return (pl_req *)(void *)((char *)w - offsetof(pl_req, waiter));
}

/* Socket bytes handed to the kernel so far on this request's connection,
 * from TCP_INFO; 0 when unknown. */
uint64_t pl_http_tcp_out(struct MHD_Connection *conn);

/* Adds/removes `q` on a ticker list. */
void pl_req_list_add(pl_req_list *l, pl_req *q);
void pl_req_list_remove(pl_req_list *l, pl_req *q);

/* Tells the ticker a long poll will expire at `deadline_us` (monotonic). */
void pl_ticker_note_deadline(pl_server *srv, int64_t deadline_us);
/* Tells the ticker an SSE heartbeat is due at `due_us` (monotonic). */
void pl_ticker_note_beat(pl_server *srv, int64_t due_us);
/* Heartbeats of period P fall on stats.started_mono_us + k * P, so every
 * stream with the same heartbeat is pinged in the same wake-up. */
int64_t pl_beat_next(const pl_server *srv, int64_t period_us, int64_t now_us);
int pl_ticker_start(pl_server *srv);
void pl_ticker_stop(pl_server *srv);

/* Transports on the HTTP side. Each handles a request once its headers (and
 * body, for a publish) are in; `done` releases its state when MHD reports
 * the request completed. */
enum MHD_Result pl_publish_handle(pl_req *q);
enum MHD_Result pl_short_poll_handle(pl_req *q);
enum MHD_Result pl_long_poll_handle(pl_req *q);
void pl_long_poll_done(pl_req *q);
void pl_long_poll_tick(pl_server *srv, int64_t now_us, int64_t *next_deadline_us);
enum MHD_Result pl_sse_handle(pl_req *q);
void pl_sse_done(pl_req *q);
/* Pings every stream whose heartbeat is due by `now_us`; returns when the
 * next one is due (INT64_MAX: no stream). */
int64_t pl_sse_heartbeat(pl_server *srv, int64_t now_us);
/* Answers GET /api/stats, /api/config, /healthz and static files. */
enum MHD_Result pl_api_stats(pl_req *q);
/* GET /metrics, the Prometheus text format. */
enum MHD_Result pl_api_metrics(pl_req *q);
enum MHD_Result pl_api_config(pl_req *q);
enum MHD_Result pl_static_file(pl_req *q, const char *url);
/* The default --web-root: the installed page beside this binary
 * (<bindir>/../share/pushlab/web), else at the configured prefix, else the
 * source tree's web/ for a binary run from its build directory. A static
 * string, computed on each call. */
const char *pl_static_default_root(void);

/* Starts and stops the HTTP daemon (router in http.c). */
int pl_http_start(pl_server *srv);
void pl_http_stop(pl_server *srv);

#endif
