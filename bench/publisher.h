/* The bench's publisher: message k of a run is due at t0 + k / rate on
 * this process's monotonic clock, whatever happened to message k-1. A late
 * message keeps its intended time, so latency measured from it includes
 * the wait (no coordinated omission). Sends over HTTP (its own connections,
 * see http_pub.h) or a WebSocket per room, round-robin over rooms, with a
 * bounded number in flight. Every message carries a cid ("b<seq>"), so a
 * publish that got no answer is safely sent again, up to 4 tries. Other
 * servers get the same JSON body to deliver verbatim: POSTed to the URLs
 * given (nchan), or as the text frames of one WebSocket to a relay; they
 * store a repeated cid again, so there a try is final. */
#ifndef PL_BENCH_PUBLISHER_H
#define PL_BENCH_PUBLISHER_H
#include <stdbool.h>
#include <stdint.h>
#include "client.h"

typedef struct pl_bpub pl_bpub;

typedef struct pl_bpub_cfg {
    pl_loop *loop;
    const char *url, *ws_url;
    const pl_tls_opts *tls;   /* for https:// (borrowed), or NULL */
    const char *const *rooms; /* room names; message k goes to rooms[k % n_rooms] */
    int n_rooms;
    double rate;    /* messages per second */
    uint64_t total; /* messages to send: seq 0 .. total-1 */
    /* A planned silence of pause_us before message pause_at, in which the
     * caller takes its snapshots without delaying any message. */
    uint64_t pause_at;
    int64_t pause_us;
    bool over_ws;
    /* Another server: its POST URL per room (pushlab's API URLs when
     * NULL), or relay_url, a WebSocket relay to send every message to. */
    const char *const *post_urls;
    const char *relay_url;
    const char *text; /* the same text in every message */
    /* Each message's outcome, once: ok after the server stored it. */
    void (*on_done)(void *ud, uint64_t seq, bool ok);
    void *ud;
} pl_bpub_cfg;

typedef struct pl_bpub_counts {
    uint64_t sent, stored, failed;
    uint64_t retried;      /* tries sent again (same cid) after no answer came */
    int64_t max_behind_us; /* worst lateness of a send against its schedule */
} pl_bpub_counts;

/* Creates a publisher; with over_ws it opens one WebSocket per room at
 * once (wait for pl_bpub_ready). Strings in cfg must outlive it. Returns 0
 * and *out, or a negative code. */
int pl_bpub_new(const pl_bpub_cfg *cfg, pl_bpub **out);
/* True when it can send (its WebSockets are open, or HTTP). */
bool pl_bpub_ready(const pl_bpub *p);
/* Starts the schedule: message k is due at t0_us + k * 1e6 / rate, plus
 * pause_us from pause_at on. */
void pl_bpub_start(pl_bpub *p, int64_t t0_us);
/* The intended send time of message `seq`. */
int64_t pl_bpub_intended(const pl_bpub *p, uint64_t seq);
/* True once every message has an outcome. */
bool pl_bpub_finished(const pl_bpub *p);
pl_bpub_counts pl_bpub_counts_get(const pl_bpub *p);
/* Stops the schedule, closes its connections (in-flight publishes are
 * dropped without callbacks) and frees it. Call while the loop is alive.
 * NULL is a no-op. */
void pl_bpub_free(pl_bpub *p);

#endif
