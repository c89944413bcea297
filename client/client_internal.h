/* Internals shared by the client's modules: the loop (libev on epoll,
 * carrying the libcurl multi handle and the libwebsockets context), the
 * HTTP request helper, per-socket byte accounting and the subscription
 * core that every transport reports to. Not installed, not for the bench. */
#ifndef PL_CLIENT_INTERNAL_H
#define PL_CLIENT_INTERNAL_H
#include <jansson.h>
#include <curl/curl.h>
#include <ev.h>
#include <libwebsockets.h>
#include "buf.h"
#include "client.h"
#include "list.h"
#include "sse_parser.h"

#define PL_HTTP_BODY_MAX (4u << 20) /* a page of 1000 messages fits */
#define PL_WS_FRAME_MAX  (64u * 1024)
#define PL_WS_QUEUE_MAX  256

/* What the loop remembers of one socket: who is charged for its bytes and
 * how much of the kernel's count was charged already. */
typedef struct pl_acct {
    pl_sub_counters *owner;
    uint64_t rx_seen, tx_seen;
} pl_acct;

/* A libcurl multi handle serving at most PL_SHARD_MAX requests. libcurl
 * 7.88 looks for a connection to reuse by walking every connection it
 * holds to the same host:port, so one multi with 10,000 pollers made each
 * poll scan thousands; a shard keeps that walk short. */
#define PL_SHARD_MAX 64
typedef struct pl_shard {
    pl_loop *loop;
    CURLM *multi;
    ev_timer timer;
    int handles; /* pl_http set up on it */
} pl_shard;

struct pl_loop {
    struct ev_loop *ev;
    ev_check wake_watch; /* first to run after each poll: stamps wake_us */
    int64_t wake_us;
    ev_prepare after_watch; /* before each poll: pl_loop_after_wake's hook */
    pl_loop_hook_fn after_fn;
    void *after_ud;
    pl_shard **shards;
    int n_shards;
    struct lws_context *lws; /* made by the first WebSocket: pl_loop_lws() */
    char *cacert;            /* pl_loop_set_tls */
    bool insecure;
    pl_acct *acct; /* indexed by fd */
    size_t acct_len;
    struct pl_fdwatch **watches; /* pl_loop_watch_fd, indexed by fd */
    size_t watches_len;
    pl_list subs; /* every open subscription (pl_sub.link), for pl_loop_free */
    pl_list reqs; /* every running request (pl_http.link) */
    bool stopped;
    bool tearing_down; /* pl_loop_free: no user callbacks any more */
    int in_curl;       /* inside curl_multi_socket_action: no handle removal */
};

struct pl_timer {
    ev_timer w;
    pl_loop *loop;
    pl_timer_fn fn;
    void *ud;
};

/* Charges the bytes the kernel counted on `fd` since the last call to
 * `c` (when not NULL) and remembers `c` as the socket's owner. */
void pl_acct_take(pl_loop *l, int fd, pl_sub_counters *c);
/* A new socket: resets its counts and charges it to `c`. */
void pl_acct_open(pl_loop *l, int fd, pl_sub_counters *c);
/* Forgets `c` as the owner of `fd` (its subscription is going away). */
void pl_acct_disown(pl_loop *l, int fd, pl_sub_counters *c);

/* ---- HTTP requests (libcurl easy handles on the loop's multi) ---- */

typedef struct pl_http pl_http;
/* `status` is the HTTP status (0 when none arrived); the body is in
 * h->body. Runs once per pl_http_start. May free the request. */
typedef void (*pl_http_done_fn)(pl_http *h, CURLcode rc, long status);
/* Streaming body sink (SSE); return false to abort the transfer. */
typedef bool (*pl_http_data_fn)(pl_http *h, const char *p, size_t n);

struct pl_http {
    pl_loop *loop;
    pl_shard *shard;
    CURL *easy;
    pl_list link; /* in loop->reqs while running */
    pl_http_done_fn done;
    pl_http_data_fn data; /* NULL: collect into body */
    void *ud;
    pl_buf body; /* the answer, bounded by PL_HTTP_BODY_MAX (unless `data`) */
    long status;
    struct curl_slist *headers;
    pl_sub_counters *ctr; /* charged with bytes/connections, or NULL */
    int fd;               /* socket of the running transfer, -1 if none */
    bool running;
    bool cancel;    /* aborted from a libcurl callback: ignore its end */
    bool connected; /* this transfer got a connection (new or reused) */
    int sock_errno; /* socket() failed with this (EMFILE...), else 0 */
    char errbuf[CURL_ERROR_SIZE];
};

/* Sets up `h` with a new easy handle for `url`. Returns 0 or -ENOMEM. */
int pl_http_init(pl_http *h, pl_loop *l, pl_sub_counters *ctr, const char *source_addr);
/* The same; with `alone` on a libcurl multi handle of its own, so its
 * connections are never another request's (libcurl hands a pooled
 * connection to whichever request of the multi comes next, and bytes on
 * it are then charged to the wrong subscription until the next swap). */
int pl_http_init_on(pl_http *h, pl_loop *l, pl_sub_counters *ctr, const char *source_addr,
                    bool alone);
/* Starts the transfer (options set on h->easy beforehand). Returns 0 or
 * a negative code. */
int pl_http_start(pl_http *h);
/* Appends to h->body (bounded by PL_HTTP_BODY_MAX). Returns 0 or
 * -EMSGSIZE / -ENOMEM. */
int pl_http_collect(pl_http *h, const char *p, size_t len);
/* Aborts a running transfer silently (no done callback). Inside a libcurl
 * callback it only marks it cancelled; the loop removes it afterwards. */
void pl_http_abort(pl_http *h);
/* Aborts and releases everything `h` owns (not `h` itself). */
void pl_http_cleanup(pl_http *h);
/* Fills `err` from a finished request: curl failure, or the server's
 * {"error":{...}} body for a status >= 400. */
void pl_http_error(const pl_http *h, CURLcode rc, long status, pl_client_err *err);
/* The body as a NUL-terminated string (always valid after done). */
static inline const char *pl_http_body(const pl_http *h) { return pl_buf_str(&h->body); }

/* Fills err with rc/code/message. */
void pl_err_fill(pl_client_err *err, int rc, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- transports: one table of operations each (short_poll.c, ...) ---- */

typedef struct pl_transport_ops {
    pl_transport kind;
    /* Connects / sends the first request from the sub's cursor. Returns 0
     * or a negative code (then the core treats it as a failed connect). */
    int (*start)(struct pl_sub *s);
    /* Drops the connection and any request silently. */
    void (*stop)(struct pl_sub *s);
    /* Charges the live socket's bytes to the sub's counters. */
    void (*account)(struct pl_sub *s);
} pl_transport_ops;

extern const pl_transport_ops pl_short_poll_ops, pl_long_poll_ops, pl_sse_ops, pl_ws_ops;

/* Per-connection WebSocket state lives in ws.c. */
typedef struct pl_ws_conn pl_ws_conn;

/* One subscription: options, cursor, reconnect state and the transport's
 * own state (only the active transport's part is in use). */
struct pl_sub {
    pl_loop *loop;
    pl_list link;  /* in loop->subs */
    pl_sub_opts o; /* strings below are owned copies */
    char *url, *ws_url, *room, *source_addr;
    const pl_transport_ops *ops;
    pl_transport want; /* what the user asked for (maybe AUTO) */
    uint64_t cursor;
    bool new_only; /* still waiting to learn the room's last id */
    bool opened;   /* the current connection works */
    bool settled;  /* some transport worked once: auto stops falling back */
    bool resync;   /* check for a server restart before resuming */
    bool closed;   /* pl_sub_close() called; free when not busy */
    bool ask_beat; /* heartbeat_s was given: send heartbeat= */
    int busy;      /* callbacks on the stack */
    int fails;     /* refusals in a row (see pl_sub_refused) */
    int retries;   /* retries since the last time a connection worked */
    int backoff_ms;
    pl_timer *retry;    /* backoff, poll interval */
    pl_timer *watchdog; /* silence detector (SSE, WS) */
    pl_timer *reap;     /* frees a closed sub outside library callbacks */
    int64_t last_rx_us; /* monotonic time of the last bytes received */
    uint64_t rx_looked; /* ctr.wire_rx when the watchdog last looked */
    pl_sub_counters ctr;
    pl_http http; /* the polling / SSE / config / probe request */
    bool http_ready;
    pl_sse_parser sse;
    pl_ws_conn *ws;
    char beat_arg[24];
};

/* Events from a transport to the core. */
/* The connection works (first bytes of a 200, WS established). */
void pl_sub_opened(pl_sub *s);
/* A connection that was accepted ended or broke (reset, EOF, an empty or
 * cut answer, silence, bad bytes), whether it had worked yet or not: the
 * core reconnects after a backoff (or falls back, for auto). Never counts
 * toward max_fails. */
void pl_sub_lost(pl_sub *s, const pl_client_err *err);
/* An attempt that got no connection (refused, unreachable, connect
 * timeout, local failure) or an error answer (429, 5xx): retried like a
 * lost one, but counted toward max_fails. */
void pl_sub_refused(pl_sub *s, const pl_client_err *err);
/* An unrecoverable error (server said 400/404..., a malformed URL):
 * FAILED, no retry; auto tries its next transport first. */
void pl_sub_fatal(pl_sub *s, const pl_client_err *err);
/* One message as JSON text (a page element, SSE data or WS frame).
 * Applies the cursor: drops duplicates, reports jumps as gaps. Returns 0
 * or -EPROTO for JSON that is not a message. */
int pl_sub_deliver_json(pl_sub *s, const char *json, size_t len);
/* Same, for an already parsed object. */
int pl_sub_deliver_obj(pl_sub *s, void *json_obj);
/* A polling page's header: detects a server restart (last_id < cursor)
 * and `new_only` positioning. Returns true when the page's messages
 * should be delivered. */
bool pl_sub_page_head(pl_sub *s, uint64_t last_id, bool gap);
/* Classifies a failed request: 4xx (but 429) or a malformed URL is
 * FATAL; an error status or no connection is a refusal; a connection
 * that was made and then cut is lost. */
void pl_sub_http_failed(pl_sub *s, const pl_http *h, CURLcode rc, long status);
/* Schedules ops->start after `delay_ms` (0: at once, from the loop). */
void pl_sub_schedule(pl_sub *s, int delay_ms);
/* Notes bytes received now (for the silence watchdog). */
void pl_sub_touch(pl_sub *s);
/* Arms the watchdog: reconnect after 2 x heartbeat of silence. */
void pl_sub_watchdog_arm(pl_sub *s);
/* "&heartbeat=S" when the user set heartbeat_s, else "": for the SSE and
 * WebSocket URLs. Valid until the sub's next call. */
const char *pl_sub_beat_arg(pl_sub *s);
/* Builds "<base>/api/rooms/<room>/<path>" into a malloc'ed string. */
char *pl_sub_api_url(const pl_sub *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A publish as JSON (user, text, cid, meta; "type" when not NULL), a new
 * reference, or NULL when meta_json is not a JSON object. */
json_t *pl_pub_json(const pl_pub_msg *m, const char *type);
/* Starts a GET of `url` (malloc'ed; always freed here) on the sub's HTTP
 * handle, calling `done` when it ends. Returns pl_http_start's result. */
int pl_sub_http_get(pl_sub *s, char *url, long timeout_ms, pl_http_done_fn done);
/* Aborts the sub's HTTP transfer if one is set up (ops->stop of polling). */
void pl_sub_http_stop(pl_sub *s);
/* Hands the HTTP socket's kernel byte counts to the sub (ops->account). */
void pl_sub_http_account(pl_sub *s);
/* The part of a polling answer both polling transports share: a failed
 * request is reported (false), a page is delivered and true returned with
 * the number of messages in *delivered (-ECANCELED: the sub was closed). */
bool pl_sub_take_page(pl_sub *s, pl_http *h, CURLcode rc, long status, int *delivered);
/* Parses a polling page body; delivers its messages. On a body that is
 * not a page, reports the transport lost and returns -EPROTO. */
int pl_sub_handle_page(pl_sub *s, const char *body, size_t len);

/* Enter/leave a callback section. A sub closed meanwhile is freed from a
 * zero-delay timer, outside every library callback; leave then returns
 * false and the caller must not touch the sub's transport any more. */
static inline void pl_sub_enter(pl_sub *s) { s->busy++; }
bool pl_sub_leave(pl_sub *s);

/* The loop's libwebsockets client context, made on the first WebSocket
 * connection, to `host` (`tls`: wss), with the loop's TLS options; the
 * proxy decision (pl_proxy_for) is made then, once per loop, which is right
 * because a loop talks to one server. NULL on failure. */
struct lws_context *pl_loop_lws(pl_loop *l, const char *host, bool tls);

/* True when the comma-separated `no_proxy` list (NULL: empty) names `host`
 * ("*", the host, or a domain above it), as libcurl reads $no_proxy. */
bool pl_proxy_bypassed(const char *host, const char *no_proxy);

/* The proxy libcurl would use to reach `host`: $http_proxy (`tls`:
 * $https_proxy or $HTTPS_PROXY) unless $no_proxy (or $NO_PROXY) names the
 * host; "" for none. Never NULL. */
const char *pl_proxy_for(const char *host, bool tls);

/* Frees every subscription without callbacks (pl_loop_free). */
void pl_sub_free_all(pl_loop *l);

#endif
