/* The subscription core as the transports see it: one pl_sub, the table
 * of operations each transport fills (short_poll.c, long_poll.c, sse.c,
 * ws.c), and the events a transport reports to sub.c, which keeps the
 * reconnect state machine. A transport calls these; sub.c calls a
 * transport only through its table. Not installed, not for the bench.
 * Loop thread only. */
#ifndef PL_CLIENT_INTERNAL_H
#define PL_CLIENT_INTERNAL_H
#include <jansson.h>
#include "client.h"
#include "loop.h"
#include "proto.h"
#include "sse_parser.h"
#include "xfer.h"

#define PL_WS_FRAME_MAX (64u * 1024)
#define PL_WS_QUEUE_MAX 256

/* ---- transports: one table of operations each ---- */

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
/* nchan's interval and long polling (nchan_poll.c). */
extern const pl_transport_ops pl_nchan_interval_ops, pl_nchan_long_poll_ops;

/* Per-connection WebSocket state lives in ws.c. */
typedef struct pl_ws_conn pl_ws_conn;

/* One subscription: options, cursor, reconnect state and the transport's
 * own state (only the active transport's part is in use). Owned by sub.c,
 * hung on the loop (freed with it); the transports own their parts. */
struct pl_sub {
    pl_loop *loop;
    pl_loop_part part; /* on the loop, freed with it */
    pl_sub_opts o;     /* strings below are owned copies */
    char *url, *ws_url, *room, *source_addr;
    char *endpoint; /* a foreign dialect's subscribe URL (url is its copy too) */
    char *url_list; /* o.url when it names several servers (url is the current) */
    int n_urls, url_at;
    const pl_transport_ops *ops;
    pl_transport want; /* what the user asked for (maybe AUTO) */
    uint64_t cursor;
    bool new_only;      /* still waiting to learn the room's last id */
    bool opened;        /* the current connection works */
    bool settled;       /* some transport worked once: auto stops falling back */
    bool resync;        /* check for a server restart before resuming */
    bool closed;        /* pl_sub_close() called; free when not busy */
    bool ask_beat;      /* heartbeat_s was given: send heartbeat= */
    bool watch_silence; /* the watchdog runs (not for a quiet foreign server) */
    int busy;           /* callbacks on the stack */
    int fails;          /* refusals in a row (see pl_sub_refused) */
    int retries;        /* retries since the last time a connection worked */
    int backoff_ms;
    pl_timer *retry;    /* backoff, poll interval */
    pl_timer *watchdog; /* silence detector (SSE, WS) */
    pl_timer *reap;     /* frees a closed sub outside library callbacks */
    int64_t last_rx_us; /* monotonic time of the last bytes received */
    uint64_t rx_looked; /* ctr.wire_rx when the watchdog last looked */
    pl_sub_counters ctr;
    pl_xfer http; /* the polling / SSE / config / probe request */
    bool http_ready;
    pl_sse_parser sse; /* sse.c */
    pl_ws_conn *ws;    /* ws.c */
    char beat_arg[24];
    /* Where a foreign server resumes: nchan's last Last-Modified and Etag
     * (nchan_poll.c), or its last SSE event id in resume_tag (sse.c). */
    char resume_time[40], resume_tag[128];
};

/* ---- events from a transport to the core (sub.c) ---- */

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
/* ---- delivery (sub_deliver.c) ---- */

/* One message as JSON text (SSE data). Applies the cursor rule
 * (cursor.h): drops duplicates, reports jumps as gaps. Returns 0,
 * -EPROTO for JSON that is not a message, -ECANCELED once closed. */
int pl_sub_deliver_json(pl_sub *s, const char *json, size_t len);
/* Same, for an already parsed object (a page element, a WS frame). */
int pl_sub_deliver_obj(pl_sub *s, void *json_obj);
/* opts.lean: `json` (an SSE event's data, or a WebSocket frame, which
 * must also say "type":"message": `want_type`) read by scanning
 * (pl_proto_lean_message); the same rule, and on_message gets its id and
 * meta text. Returns false when the scan cannot read it: the caller then
 * takes the full parse, which says what is wrong. */
bool pl_sub_deliver_lean(pl_sub *s, const char *json, size_t len, bool want_type);
/* A foreign server's message: `body` verbatim as the text, the id the
 * next of this subscription's count. Returns 0, or -ECANCELED once closed. */
int pl_sub_deliver_raw(pl_sub *s, const char *body, size_t len);
/* A polling page's (or the probe's) last_id: detects a server restart
 * and `new_only` positioning. Returns true when the page's messages
 * should be delivered. */
bool pl_sub_page_head(pl_sub *s, uint64_t last_id);
/* Classifies a failed request: 4xx (but 429) or a malformed URL is
 * FATAL; an error status or no connection is a refusal; a connection
 * that was made and then cut is lost. */
void pl_sub_http_failed(pl_sub *s, const pl_xfer *h, CURLcode rc, long status);
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
/* Aborts the sub's HTTP transfer if one is set up (ops->stop of polling). */
void pl_sub_http_stop(pl_sub *s);
/* Hands the HTTP socket's kernel byte counts to the sub (ops->account). */
void pl_sub_http_account(pl_sub *s);

/* Enter/leave a callback section. A sub closed meanwhile is freed from a
 * zero-delay timer, outside every library callback; leave then returns
 * false and the caller must not touch the sub's transport any more. */
static inline void pl_sub_enter(pl_sub *s) { s->busy++; }
bool pl_sub_leave(pl_sub *s);

#endif
