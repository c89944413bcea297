/* pushlab client library: subscriptions over short polling, long polling,
 * Server-Sent Events and WebSocket, and publishing, all driven by ONE
 * event loop in one thread (libcurl multi + libwebsockets on one epoll).
 * Everything here must be called from the thread that runs the loop. */
#ifndef PL_CLIENT_H
#define PL_CLIENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- loop */

typedef struct pl_loop pl_loop;
typedef struct pl_timer pl_timer;

/* Creates a loop (its epoll, a libcurl multi handle and a libwebsockets
 * client context). Returns 0 and *out, or a negative errno-style code.
 * Call pl_client_global_init() once per process first. */
int pl_loop_new(pl_loop **out);
/* Closes every subscription and pending publish still attached (their
 * callbacks are NOT called), then frees the loop. NULL is a no-op. */
void pl_loop_free(pl_loop *l);

/* TLS for https:// and wss:// URLs of every request and subscription on
 * the loop. By default the system's CA store verifies the server. */
typedef struct pl_tls_opts {
    const char *cacert; /* PEM file of CAs to trust instead, or NULL */
    bool insecure;      /* accept any certificate (tests, self-signed demos) */
} pl_tls_opts;

/* Sets the loop's TLS options; strings are copied. Call before the first
 * WebSocket subscription: its TLS context is made then. Returns 0, -EBUSY
 * (a WebSocket was opened already) or -ENOMEM. */
int pl_loop_set_tls(pl_loop *l, const pl_tls_opts *t);

/* Runs the loop until pl_loop_stop() is called, or `timeout_ms` elapsed
 * (-1: no limit). Sleeps in epoll_wait when there is nothing to do.
 * Returns 0, 1 when stopped by pl_loop_stop(), or a negative code. */
int pl_loop_run(pl_loop *l, int timeout_ms);
/* Makes pl_loop_run() return after the current callback. */
void pl_loop_stop(pl_loop *l);

/* CLOCK_MONOTONIC microseconds at which the loop last returned from
 * epoll_wait, taken before any callback of that wake-up ran. A receive
 * time for a message: unlike the clock read inside its callback, it does
 * not include the time spent on the other sockets that were ready in the
 * same wake-up, which adds up with many subscribers (docs/architecture.md,
 * "Figures behind the code"). Before the first wake-up: the clock now. */
int64_t pl_loop_wake_us(const pl_loop *l);

/* Calls `fn(l, ud)` once per wake-up of the loop, after every callback of
 * that wake-up ran and before it sleeps again: the moment to read what
 * the wake-up changed (a bench's per-socket byte counts). One hook per
 * loop; NULL removes it. It must not free the loop. */
typedef void (*pl_loop_hook_fn)(pl_loop *l, void *ud);
void pl_loop_after_wake(pl_loop *l, pl_loop_hook_fn fn, void *ud);

/* One-shot timers on the loop. A timer is created once and can be
 * (re)started and stopped any number of times; `fn` runs from
 * pl_loop_run(). pl_timer_new returns NULL on allocation failure. */
typedef void (*pl_timer_fn)(pl_timer *t, void *ud);
pl_timer *pl_timer_new(pl_loop *l, pl_timer_fn fn, void *ud);
/* Arms the timer `delay_us` microseconds from now (replacing any earlier
 * deadline). */
void pl_timer_start(pl_timer *t, int64_t delay_us);
void pl_timer_stop(pl_timer *t);
bool pl_timer_active(const pl_timer *t);
/* Stops and frees. NULL is a no-op. */
void pl_timer_free(pl_timer *t);

/* Watches a file descriptor the caller owns (e.g. stdin for `chat`).
 * `fn` gets the ready events (PL_FD_READ/PL_FD_WRITE/PL_FD_ERROR). Returns
 * 0 or a negative code; one watch per fd. Unwatch before closing it. */
enum { PL_FD_READ = 1, PL_FD_WRITE = 2, PL_FD_ERROR = 4 };
typedef void (*pl_fd_fn)(pl_loop *l, int fd, int events, void *ud);
int pl_loop_watch_fd(pl_loop *l, int fd, int events, pl_fd_fn fn, void *ud);
void pl_loop_unwatch_fd(pl_loop *l, int fd);

/* Process-wide setup (libcurl, jansson seed, SIGPIPE ignored). Returns 0
 * or a negative code. Call once, before any thread is started. */
int pl_client_global_init(void);
void pl_client_global_cleanup(void);

/* ------------------------------------------------------------- errors */

/* Why something failed. `status` is the HTTP status when the server
 * answered with an error (0 otherwise), `code`/`message` the server's
 * error code and message, or a local description (e.g. "connect",
 * "connection refused"). Lives in the callback's frame; copy it to keep. */
typedef struct pl_client_err {
    int rc;     /* negative errno-style code, 0 for "no error" */
    int status; /* HTTP status of a server error, else 0 */
    char code[48];
    char message[256];
} pl_client_err;

/* ------------------------------------------------------- subscriptions */

typedef enum pl_transport {
    PL_TRANSPORT_SHORT_POLL,
    PL_TRANSPORT_LONG_POLL,
    PL_TRANSPORT_SSE,
    PL_TRANSPORT_WS,
    PL_TRANSPORT_AUTO /* WebSocket, then SSE, long polling, short polling */
} pl_transport;

/* "short-poll", "long-poll", "sse", "ws", "auto". */
const char *pl_transport_name(pl_transport t);
/* Parses the names above. Returns 0 or -EINVAL. */
int pl_transport_parse(const char *name, pl_transport *out);

/* A delivered message. Every pointer borrows from the library's receive
 * buffer and is valid only during the callback; strings are
 * NUL-terminated. `meta` is the message's meta object as the library
 * parsed it (a jansson json_t; json_incref() it to keep it), or NULL when
 * it has none: handing over the parsed object spares a bench a second
 * serialization and parse per delivery. */
typedef struct pl_client_msg {
    uint64_t id;
    int64_t ts; /* server receive time, us since the epoch */
    const char *room;
    const char *user;
    size_t user_len;
    const char *text;
    size_t text_len;
    const char *cid; /* NULL when absent */
    const struct json_t *meta;
    /* lean subscriptions (pl_sub_opts.lean) only: the `meta` member's JSON
     * text as received (not NUL-terminated), and every field above but id
     * and room left empty; NULL otherwise */
    const char *meta_raw;
    size_t meta_raw_len;
} pl_client_msg;

typedef enum pl_sub_state {
    PL_SUB_CONNECTING,   /* opening a connection / sending a request */
    PL_SUB_OPEN,         /* the transport works; `detail` names it */
    PL_SUB_RECONNECTING, /* lost or refused; retrying after a backoff */
    PL_SUB_FALLBACK,     /* auto: `detail` names the transport that failed */
    PL_SUB_RESTARTED,    /* server's last_id < our cursor: resuming from 0 */
    PL_SUB_FAILED        /* gave up (4xx but 429, bad URL, max_fails): see err */
} pl_sub_state;

const char *pl_sub_state_name(pl_sub_state s);

typedef struct pl_sub pl_sub;

/* Callbacks of one subscription. All optional. They run from the loop; a
 * callback may call pl_sub_close() on its own subscription. */
typedef struct pl_sub_callbacks {
    /* One call per message, in id order, each id at most once. */
    void (*on_message)(pl_sub *s, const pl_client_msg *m, void *ud);
    /* Messages first..last (inclusive) are lost: trimmed from the server's
     * history or skipped by it. Delivery continues after `last`. */
    void (*on_gap)(pl_sub *s, uint64_t first, uint64_t last, void *ud);
    /* State changes; `err` is set for RECONNECTING/FALLBACK/FAILED. For
     * RECONNECTING `detail` reads "long-poll, retry 3 in 480 ms". */
    void (*on_state)(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *err,
                     void *ud);
} pl_sub_callbacks;

#define PL_SINCE_NEW (-1) /* subscribe to new messages only */

/* Whose protocol a subscription speaks: pushlab's (docs/protocol.md, the
 * default), or another server's, so a bench measures it with the same
 * loop and counters. A foreign server's message has no pushlab id or
 * fields: its body is handed over verbatim as `text` (user "", meta and
 * cid NULL, ts 0) and `id` counts the subscription's deliveries from 1,
 * so the library sees no duplicate or gap; `since` is not used. */
typedef enum pl_dialect {
    PL_DIALECT_PUSHLAB,
    /* nchan's subscribers (its documented layout): short polling is its
     * interval poll (200 with the next message, 304 when none: the next
     * poll then waits interval_ms, a 200 is followed at once), long
     * polling one message per answer; both resume with If-Modified-Since
     * and If-None-Match from the last Last-Modified and Etag. SSE resumes
     * with Last-Event-ID (nchan's "time:tag"); a WebSocket cannot resume.
     * A long poll nchan holds past poll_timeout_s is asked again. */
    PL_DIALECT_NCHAN,
    /* A bare WebSocket relay: every text frame is a message. WebSocket
     * only; it cannot resume. */
    PL_DIALECT_RELAY,
} pl_dialect;

/* What to subscribe to. Strings are copied by pl_sub_open. Zero values
 * pick the defaults noted. */
typedef struct pl_sub_opts {
    pl_transport transport;
    pl_dialect dialect;      /* the server's protocol (default pushlab's) */
    const char *endpoint;    /* foreign dialects (required there): the whole
                                subscribe URL, room included: http(s) for
                                polling and SSE, ws(s) for WebSocket. url,
                                ws_url, room and since are then unused */
    const char *url;         /* HTTP base, e.g. "http://127.0.0.1:8080" (required); or
                                several, comma-separated: servers of the same rooms
                                (pushlab-server --store redis://): after each failure
                                the next one, with the cursor */
    const char *ws_url;      /* e.g. "ws://127.0.0.1:8081"; NULL: GET /api/config
                                (of each server: required with several urls) */
    const char *room;        /* required, [A-Za-z0-9_-]{1,64} */
    int64_t since;           /* deliver ids > since; PL_SINCE_NEW for new only */
    int interval_ms;         /* short polling period (default 1000) */
    int poll_timeout_s;      /* long polling `timeout=` (default 25, max 60) */
    int heartbeat_s;         /* server heartbeat (default 15); silent 2x = dead; when
                                set, SSE and WebSocket ask the server for it
                                (heartbeat=, protocol 1.1). Foreign dialects:
                                0 (default) watches no silence */
    int ping_s;              /* WebSocket application ping period (default
                                heartbeat_s); < 0: none, the server's pings
                                keep the connection checked. Never sent
                                in a foreign dialect */
    int backoff_min_ms;      /* first reconnect delay (default 250) */
    int backoff_max_ms;      /* cap (default 15000) */
    int max_fails;           /* FAILED after this many refusals in a row: no
                                connection, or a 429/5xx answer (0: retry
                                forever). A connection accepted, then cut,
                                is always retried and never counted. */
    const char *source_addr; /* local address to bind, e.g. "127.0.0.2" */
    bool own_connections;    /* its HTTP connections are its alone, as one
                                device's would be: its counters then follow
                                its own traffic as it happens (costs a
                                libcurl multi handle) */
    bool lean;               /* messages and polling pages are not parsed into
                                a tree: on_message gets the id and meta_raw
                                only (the bench's hot path). A message or
                                page the scan cannot read takes the full
                                parse. */
    pl_sub_callbacks cb;
    void *ud;
} pl_sub_opts;

/* Per-subscription counters. Wire bytes are the kernel's TCP_INFO counts
 * of the sockets this subscription used (docs/protocol.md, "Wire bytes":
 * received, and handed to the socket), read before each socket closes,
 * after each request and on demand. */
typedef struct pl_sub_counters {
    uint64_t messages;      /* delivered to on_message */
    uint64_t duplicates;    /* dropped: id <= cursor */
    uint64_t gaps;          /* on_gap calls */
    uint64_t http_requests; /* HTTP requests sent on a connection (incl. WS
                               handshakes; not attempts that never connected) */
    uint64_t tcp_connects;  /* TCP connections opened */
    uint64_t reconnects;    /* connections lost and retried */
    uint64_t wire_rx;       /* bytes received, kernel-counted */
    uint64_t wire_tx;       /* bytes sent, kernel-counted */
} pl_sub_counters;

/* Opens a subscription on `l`; it connects from the loop. Returns 0 and
 * *out, or -EINVAL (bad URL, room or option) / -ENOMEM. The subscription
 * belongs to the loop until pl_sub_close() or pl_loop_free(). */
int pl_sub_open(pl_loop *l, const pl_sub_opts *o, pl_sub **out);
/* Closes the connection and frees the subscription; no callback runs
 * after it. Safe inside this subscription's own callbacks. NULL: no-op. */
void pl_sub_close(pl_sub *s);

/* The transport in use (for auto: the current candidate). */
pl_transport pl_sub_transport(const pl_sub *s);
/* The last id delivered (or skipped as a gap); 0 before any. */
uint64_t pl_sub_cursor(const pl_sub *s);
/* Copies the counters, first reading TCP_INFO of the live socket. */
void pl_sub_counters_get(pl_sub *s, pl_sub_counters *out);

/* ------------------------------------------------------------ publish */

/* A message to publish. Strings are copied before the call returns.
 * `meta_json` is the text of a JSON object, or NULL. */
typedef struct pl_pub_msg {
    const char *user;
    const char *text;
    const char *cid;       /* NULL: none (retries are then not safe) */
    const char *meta_json; /* NULL: none */
} pl_pub_msg;

/* Completion: err->rc == 0 on success, with the stored id (`dup` when the
 * server answered 200 for a repeated cid). Otherwise err describes it. */
typedef void (*pl_publish_fn)(void *ud, uint64_t id, bool dup, const pl_client_err *err);

/* Optional settings of an HTTP publish. */
typedef struct pl_pub_opts {
    const char *source_addr; /* local address to bind, or NULL */
    int timeout_ms;          /* whole request (default 10000) */
} pl_pub_opts;

/* Publishes over HTTP (POST /api/rooms/{room}/messages) asynchronously.
 * `fn` runs exactly once from the loop (never from inside this call),
 * unless the loop is freed first. `po` may be NULL. Returns 0, or
 * -EINVAL (bad URL, room or message) / -ENOMEM, and then `fn` never runs. */
int pl_publish_http(pl_loop *l, const char *url, const char *room, const pl_pub_msg *m,
                    const pl_pub_opts *po, pl_publish_fn fn, void *ud);

/* Publishes through a WebSocket subscription's connection (publish frame)
 * and completes on its ack (or error frame). Needs the subscription OPEN on
 * the WebSocket transport, else -ENOTCONN; at most 256 in flight, else
 * -EAGAIN. `fn` runs once from the loop; if the connection drops first it
 * runs with rc -ECONNRESET (retry with the same cid). In a foreign dialect
 * `text` alone is sent, verbatim, as one text frame, and `fn` runs (id 0)
 * once it was written: such a server answers nothing. */
int pl_sub_publish(pl_sub *s, const pl_pub_msg *m, pl_publish_fn fn, void *ud);

/* Fetches GET /api/config and hands its `ws_url` (or an error) to `fn`,
 * once, from the loop. Returns 0 or a negative code. */
typedef void (*pl_config_fn)(void *ud, const char *ws_url, const pl_client_err *err);
int pl_fetch_config(pl_loop *l, const char *url, pl_config_fn fn, void *ud);

#endif
