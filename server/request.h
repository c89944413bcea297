/* One HTTP request of the MHD side, and the table of operations through
 * which the router (http.c) hands it to the handler of its endpoint: one
 * table per transport (short polling, long polling, SSE) and per plain
 * endpoint. Every field below names the file that owns it and the thread
 * that writes it. "MHD" is the MHD thread serving the request's
 * connection (one at a time per connection), "ticker" ticker.c's thread,
 * "watcher" hangup.c's, "publisher" any thread in pl_store_publish. */
#ifndef PL_REQUEST_H
#define PL_REQUEST_H
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "coalesce.h"
#include "list.h"
#include "stats.h"
#include "store.h"

typedef struct pl_server pl_server;
typedef struct pl_req pl_req;

/* What a handler does at each point MHD calls the router. All run on the
 * request's MHD thread. NULL members do nothing (resume: MHD_YES). */
typedef struct pl_handler {
    enum pl_stats_ep stats_ep; /* its error answers count under this */
    bool room;                 /* its path names a room (q->room_name) */
    /* The request head is in (for a POST, before its body): answer now,
     * or return MHD_YES to be called on `resume`. */
    enum MHD_Result (*start)(pl_req *q);
    /* A piece of the request body. */
    void (*body)(pl_req *q, const char *data, size_t len);
    /* MHD calls again: the body is all in, or a suspended request was
     * resumed. */
    enum MHD_Result (*resume)(pl_req *q);
    /* MHD completed the request (answered, or its client went away):
     * release what the handler holds. Runs once, before q is freed. */
    void (*done)(pl_req *q);
    /* The ticker's job for each request on the handler's pl_req_list
     * (main.c adds it): does what is due for `q` at `now_us` and returns
     * when it is next due. Due times within `tick_slack_us` share a
     * wake-up. Runs on the ticker thread under the list's lock. */
    int64_t (*tick)(pl_req *q, int64_t now_us);
    int64_t tick_slack_us;
} pl_handler;

/* The handlers: api.c (publish, stats, metrics, config, health),
 * static_files.c, and one per transport file. */
extern const pl_handler pl_publish_handler, pl_stats_handler, pl_metrics_handler, pl_config_handler,
    pl_health_handler, pl_static_handler;
extern const pl_handler pl_short_poll_handler, pl_long_poll_handler, pl_sse_handler;

/* transport_sse.c's --max-lag check: a ticker job (ud: the pl_server) that
 * cuts the streams too far behind their room, and the store hook that has
 * it run PL_SSE_LAG_PERIOD_US after a publish (an idle server never runs
 * it). */
#define PL_SSE_LAG_PERIOD_US 2000000
int64_t pl_sse_lag_sweep(void *srv, int64_t now_us);
void pl_sse_on_publish(void *srv, pl_room *room, const pl_msg *m);

/* One HTTP request, from its first byte to MHD's "completed" notice, which
 * frees it. */
struct pl_req {
    /* Set by the router (http.c, MHD) before any handler runs. */
    pl_server *srv;
    struct MHD_Connection *conn;
    const pl_handler *h; /* NULL until routed, or for a refused route */
    bool routed;
    const char *url;         /* MHD's copy, valid for the request */
    enum pl_stats_ep err_ep; /* read by reply.c */
    char room_name[PL_ROOM_MAX + 1];
    uint64_t tcp_out_start; /* socket bytes handed over before this request */

    /* Set by the handler (MHD); read by the router at completion. */
    pl_transport_stats *ts; /* the counters this request's bytes go to */
    uint64_t bytes_counted; /* bytes already added to ts->bytes_out (SSE) */
    uint64_t body_in;       /* body bytes MHD passed in, framing excluded */
    /* Set by a start that accepted a head whose body is to come; cleared
     * by the router when the body is in (still set at completion: the
     * client never finished it). */
    bool body_pending;

    /* A waiting request (long poll, SSE; their files, MHD), see request.c. */
    pl_room *room;
    pl_waiter waiter; /* linked by the store under the room's lock (MHD);
                       * unlinked by publisher, ticker or watcher */
    pl_list link;     /* on a pl_req_list under its lock (MHD adds and
                       * removes, the ticker walks) */
    int watched_fd;   /* fd + 1 while hangup.c watches it, else 0 (MHD; for
                       * a long poll, the ticker under the list's lock) */
    atomic_bool gone; /* the client hung up (watcher) */

    /* A store backend call the request waits for (request.c; MHD, and
     * the backend's thread in pl_req_later_done). */
    struct {
        enum MHD_Result (*then)(pl_req *q); /* run by the router on resume */
        enum MHD_Result (*next)(pl_req *q); /* pl_req_open_room's caller */
        bool done, parked;                  /* under request.c's lock */
        int rc;
    } later;

    union {
        struct { /* api.c's publish (MHD) */
            pl_buf body;
            int status; /* an error found while the body streamed in;
                         * -1: already answered at start */
            pl_msg *m;  /* the backend's answer (its thread, then MHD) */
            bool dup;
        } pub;
        struct { /* transport_short_poll.c */
            uint64_t since;
            size_t limit;
        } sp;
        struct { /* transport_long_poll.c */
            uint64_t since;
            size_t limit;
            int64_t deadline_us;
            int64_t watch_us;    /* when the ticker starts the hang-up watch
                                  * (under the list's lock) */
            atomic_bool expired; /* resumed by ticker or publisher: skip */
            bool waited;         /* (MHD) */
            bool parked;         /* counted in long_poll.waiting (MHD, publisher) */
        } lp;
        struct {                         /* transport_sse.c (MHD unless noted) */
            atomic_uint_fast64_t cursor; /* (read by the ticker's lag check) */
            pl_msg *cur;                 /* the message being written, a reference */
            size_t cur_off;
            uint64_t generation; /* the room's, when the stream began */
            bool open;           /* counted in sse.connections, on the stream list */
            bool started;
            bool head_counted;
            bool ended;             /* its last bytes are out: the next read ends it */
            atomic_bool ping_due;   /* (ticker) */
            int64_t beat_period_us; /* this stream's heartbeat */
            int64_t beat_next_us;   /* its next ping (ticker, under the list lock) */
            atomic_bool dropped;    /* cut as a slow consumer (ticker) */
            /* The direct path (sse_stream.c), used by the stream's owner. */
            int fd;
            bool direct;          /* it wrote to the socket itself at least once */
            pl_coalesce coalesce; /* its Nagle state (sse_stream.c) */
            pl_req *ready_next;   /* in srv->sse_ready (under its lock) */
            char *pend;           /* unsent bytes of a direct write, for MHD */
            size_t pend_len, pend_off;
        } sse;
    } u;
};

/* A list of waiting requests the ticker looks after: the long polls with
 * a deadline, the SSE streams needing heartbeats. */
typedef struct pl_req_list {
    pthread_mutex_t lock;
    pl_list head; /* of pl_req.link */
    int64_t (*tick)(pl_req *q, int64_t now_us);
} pl_req_list;

/* An empty list whose requests the ticker visits with `tick`. */
void pl_req_list_init(pl_req_list *l, int64_t (*tick)(pl_req *q, int64_t now_us));
void pl_req_list_destroy(pl_req_list *l);
/* Adds/removes `q` under the list's lock (removing one not on it: no-op). */
void pl_req_list_add(pl_req_list *l, pl_req *q);
void pl_req_list_remove(pl_req_list *l, pl_req *q);

/* A ticker job (ticker.h) over the pl_req_list `list`: calls its tick for
 * each request under the list's lock (so none is freed meanwhile) and
 * returns the earliest time one returned (INT64_MAX for none). */
int64_t pl_req_list_tick(void *list, int64_t now_us);

/* The request a store waiter is embedded in. */
static inline pl_req *pl_req_of_waiter(pl_waiter *w)
{
    return (pl_req *)(void *)((char *)w - offsetof(pl_req, waiter));
}

/* The one "stop waiting and run again" of every waiting request: unlinks
 * its waiter from its room and, if it was still linked (so no publish
 * resumed it already), resumes its MHD connection. Returns whether it did.
 * Any thread; takes the room's lock. */
bool pl_req_resume(pl_req *q);

/* Watches the request's socket for its client hanging up: then q->gone
 * is set and pl_req_resume() runs, so its handler runs and ends it. Never
 * call with a room lock held. */
void pl_req_watch(pl_req *q);
/* Stops watching (a no-op when not watched). Before `q` is freed. */
void pl_req_unwatch(pl_req *q);

/* Waiting for the store backend (backend.h), without holding a thread:
 * the handler starts a backend call whose callback ends in
 * pl_req_later_done(), then returns pl_req_later(q, then). When the call
 * finished already (the memory backend), `then` runs at once; otherwise
 * the connection is suspended and the router runs `then` when it is
 * resumed. One call at a time per request. */
enum MHD_Result pl_req_later(pl_req *q, enum MHD_Result (*then)(pl_req *q));
/* The call finished (results stored in q first). Any thread. */
void pl_req_later_done(pl_req *q);
/* For the router: `then` of a resumed request whose call finished, or
 * NULL. Clears it. (MHD) */
enum MHD_Result (*pl_req_later_take(pl_req *q))(pl_req *q);

/* Opens the request's room (q->room_name) through the store backend for a
 * reader at `since` (backend.h's pl_backend_open), then continues with
 * `then`, q->room set (NULL: it exists nowhere and `create` was false).
 * A store that fails is answered with 503 here. (MHD) */
enum MHD_Result pl_req_open_room(pl_req *q, bool create, uint64_t since,
                                 enum MHD_Result (*then)(pl_req *q));

/* The socket's fd, or -1. */
int pl_req_fd(const pl_req *q);
/* Socket bytes handed to the kernel so far on the request's connection
 * (common/wire.h); 0 when unknown. */
uint64_t pl_req_wire_out(const pl_req *q);

#endif
