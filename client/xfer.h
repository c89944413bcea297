/* One HTTP transfer of the client (a poll, a stream, a publish, a config
 * fetch): a libcurl easy handle on the loop's multi handles, its answer
 * body, its socket's byte accounting and its end. xfer.c owns the multi
 * handles (per loop, in shards) and every running transfer; it calls the
 * transfer's own `done`/`data` functions and acct.c, nothing else. Loop
 * thread only. */
#ifndef PL_XFER_H
#define PL_XFER_H
#include <curl/curl.h>
#include <stdbool.h>
#include "buf.h"
#include "client.h"
#include "loop.h"

#define PL_XFER_BODY_MAX (4u << 20) /* a page of 1000 messages fits */

typedef struct pl_xfer pl_xfer;
/* `status` is the HTTP status (0 when none arrived, -1 when the loop is
 * being freed: release and return); the body is in h->body. Runs once per
 * pl_xfer_start. May free the transfer. */
typedef void (*pl_xfer_done_fn)(pl_xfer *h, CURLcode rc, long status);
/* Streaming body sink (SSE); return false to abort the transfer. */
typedef bool (*pl_xfer_data_fn)(pl_xfer *h, const char *p, size_t n);

/* What takes a connect-only transfer over once libcurl has connected it
 * (xfer_stream.c): xfer.c keeps the handle on its multi, since removing a
 * connect-only handle closes its connection, and calls these. */
typedef struct pl_xfer_takeover {
    void (*connected)(pl_xfer *h); /* read and write it now (curl_easy_recv/send) */
    void (*stop)(pl_xfer *h);      /* the handle is leaving the multi: its socket closes */
    void (*free)(pl_xfer *h);      /* pl_xfer_cleanup: release h->takeover_state */
} pl_xfer_takeover;

struct pl_xfer {
    pl_loop *loop;
    struct pl_shard *shard;
    CURL *easy;
    pl_loop_part part; /* on the loop while running */
    pl_xfer_done_fn done;
    pl_xfer_data_fn data; /* NULL: collect into body */
    void *ud;
    pl_buf body; /* the answer, bounded by PL_XFER_BODY_MAX (unless `data`) */
    long status;
    struct curl_slist *headers;
    pl_sub_counters *ctr; /* charged with bytes/connections, or NULL */
    int fd;               /* socket of the running transfer, -1 if none */
    bool running;
    bool cancel;       /* aborted from a libcurl callback: ignore its end */
    bool connected;    /* this transfer got a connection (new or reused) */
    int sock_errno;    /* socket() failed with this (EMFILE...), else 0 */
    bool connect_only; /* this run: libcurl connects, `takeover` does the rest */
    bool taken;        /* ... and it has: libcurl reported it done */
    const pl_xfer_takeover *takeover;
    void *takeover_state;
    pl_xfer *deferred_next; /* aborted during a libcurl callback, connected */
    char errbuf[CURL_ERROR_SIZE];
};

/* Sets up `h` with a new easy handle on loop `l`. Returns 0 or -ENOMEM. */
int pl_xfer_init(pl_xfer *h, pl_loop *l, pl_sub_counters *ctr, const char *source_addr);
/* The same; with `alone` on a libcurl multi handle of its own, so its
 * connections are never another request's (libcurl hands a pooled
 * connection to whichever request of the multi comes next, and bytes on
 * it are then charged to the wrong subscription until the next swap). */
int pl_xfer_init_on(pl_xfer *h, pl_loop *l, pl_sub_counters *ctr, const char *source_addr,
                    bool alone);
/* Starts the transfer (options set on h->easy beforehand). Returns 0 or
 * a negative code. */
int pl_xfer_start(pl_xfer *h);
/* Starts a connect-only run: libcurl connects to the URL set on h->easy,
 * then `ops` take the connection over (their state in `state`, kept until
 * pl_xfer_cleanup). Returns 0 or a negative code. */
int pl_xfer_start_connect_only(pl_xfer *h, const pl_xfer_takeover *ops, void *state);
/* Starts a GET of `url` (malloc'ed; always freed here) that ends in
 * `done` after at most `timeout_ms`. Returns pl_xfer_start's result, or
 * -ENOMEM for a NULL url. */
int pl_xfer_get(pl_xfer *h, char *url, long timeout_ms, pl_xfer_done_fn done);
/* Appends to h->body (bounded by PL_XFER_BODY_MAX). Returns 0 or
 * -EMSGSIZE / -ENOMEM. */
int pl_xfer_collect(pl_xfer *h, const char *p, size_t len);
/* The socket libcurl connected for a connect-only run, for its takeover's
 * `connected`: its bytes are charged to h->ctr from now, and the run
 * counts as one HTTP request. Returns the fd, or -1 when libcurl has none. */
int pl_xfer_take_socket(pl_xfer *h);
/* A taken-over run's own I/O on its socket: recv() and send() with
 * curl_easy_recv/send's results (CURLE_AGAIN, 0 bytes at EOF,
 * CURLE_RECV_ERROR / CURLE_SEND_ERROR with the errno in h->errbuf).
 * Only for plain TCP, where libcurl holds no byte of the connection (no
 * TLS, no proxy): libcurl's own wrappers cost a subscriber a tenth of its
 * CPU per delivery (perf). */
CURLcode pl_xfer_recv(pl_xfer *h, void *buf, size_t n, size_t *got);
CURLcode pl_xfer_send(pl_xfer *h, const void *buf, size_t n, size_t *sent);
/* The takeover state of `h` when `ops` took it over last, else NULL,
 * after freeing another takeover's state (one handle may serve SSE, then
 * WebSocket, when auto falls back). Call before a new run. */
void *pl_xfer_takeover_of(pl_xfer *h, const pl_xfer_takeover *ops);
/* Aborts a running transfer silently (no done callback). Inside a libcurl
 * callback it only marks it cancelled; the loop removes it afterwards. */
void pl_xfer_abort(pl_xfer *h);
/* Aborts and releases everything `h` owns (not `h` itself). */
void pl_xfer_cleanup(pl_xfer *h);
/* A streamed GET of `url` (SSE) read off the socket libcurl connected: the
 * request in h->headers, each body byte to h->data, then h->done once,
 * as for pl_xfer_start; over TLS or a proxy it is pl_xfer_start itself
 * (xfer_stream.c). Returns 0 or a negative code. */
int pl_xfer_stream(pl_xfer *h, const char *url);
/* Fills `err` from a finished transfer: curl failure, or the server's
 * {"error":{...}} body for a status >= 400. */
void pl_xfer_error(const pl_xfer *h, CURLcode rc, long status, pl_client_err *err);
/* The body as a NUL-terminated string (always valid after done). */
static inline const char *pl_xfer_body(const pl_xfer *h) { return pl_buf_str(&h->body); }
/* True while libcurl runs a callback on this loop: no transfer may be
 * removed now (pl_xfer_abort only marks it). */
bool pl_xfer_busy(const pl_loop *l);

#endif
