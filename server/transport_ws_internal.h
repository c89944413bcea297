/* What the WebSocket transport's files share and nothing else sees: one
 * service thread's listener (pl_ws_svc) and one peer (struct conn).
 * ws_threads.c owns the service threads of a pl_ws, ws_listener.c one
 * thread's lws context, its loop and start/stop, transport_ws.c the peers
 * and their frames, ws_write.c the writes, ws_handshake.c the decision on
 * an upgrade, ws_sweep.c the idle sweep and the --max-lag cut. Every field
 * of a pl_ws_svc is its service thread's unless noted. */
#ifndef PL_TRANSPORT_WS_INTERNAL_H
#define PL_TRANSPORT_WS_INTERNAL_H
#include <ev.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include "buf.h"
#include "coalesce.h"
#include "origin.h"
#include "transport_ws.h"
#include "ws_calls.h"
#include "ws_fanout.h"
#include "ws_message.h"

#define PL_WS_PROTOCOL  "pushlab.v1"
#define REPLY_QUEUE_MAX 64 /* pending ack/pong/error per connection */
#define REPLY_MAX       PL_WS_ANSWER_MAX
#define HEADERS_MAX     4096 /* request head; browsers on localhost carry cookies */
#define INFLIGHT_MAX    16   /* publishes waiting for the store per peer: then it is not read */

struct conn;
typedef struct pl_ws_svc pl_ws_svc;
/* The peer a fan-out member is embedded in. */
#define CONN(m) pl_list_entry(m, struct conn, member)

/* One reply waiting for a writable callback: LWS_PRE head room, then text. */
struct reply {
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len */
};

/* One WebSocket peer: lws per-session data, zeroed by lws. */
struct conn {
    struct lws *wsi;
    int fd; /* wsi's socket: message frames are sent on it directly */
    pl_room *room;
    pl_ws_fanout_member member; /* in its room of ws->fanout */
    uint64_t cursor;            /* last message id sent */
    uint64_t bytes_counted;     /* added to st->ws.bytes_out for this socket */
    struct reply *replies[REPLY_QUEUE_MAX];
    unsigned rq_head, rq_len;
    pl_buf rx;            /* fragments of the message being received */
    size_t rx_len;        /* bytes received so far (may exceed what rx holds) */
    bool rx_binary;       /* the message being received is binary */
    bool established;     /* counted in st->ws.connections */
    bool closing;         /* flooded: input ignored, next writable closes */
    bool going_away;      /* server stopping: next writable closes with 1001 */
    bool ping_due;        /* silent past the heartbeat: next writable pings */
    bool peer_closed;     /* the peer sent a close frame */
    bool self_closed;     /* we chose to close it: too slow or silent */
    int64_t last_rx_us;   /* monotonic time of the peer's last frame */
    uint64_t rx_wire;     /* kernel bytes received at the last idle check */
    int64_t rx_wire_us;   /* when the idle check last saw them grow */
    int64_t beat_us;      /* this peer's heartbeat (?heartbeat= or the server's) */
    int64_t check_us;     /* its next idle check, on the sweep's grid */
    pl_list calls;        /* store calls not answered yet (ws_calls.h) */
    unsigned inflight;    /* publishes among them */
    bool opening;         /* the room is being opened: no message sent yet */
    bool new_only;        /* no since=: begin at the room's end once open */
    bool store_down;      /* the store failed the open: next writable closes */
    uint64_t generation;  /* the room's when it opened; another: it restarted */
    pl_coalesce coalesce; /* its Nagle state (ws_write.c) */
};

struct pl_ws_svc {
    struct lws_context *ctx;
    struct ev_loop *loop; /* lws's, on epoll: a wake-up costs no pass over
                           * every socket, as poll() did (12 % of the CPU
                           * at 1,000 peers, one pass per publish) */
    struct lws_vhost *vhost;
    pthread_t thread;
    atomic_bool stopping; /* any thread */
    pl_backend *backend;  /* publishes and opens go through it */
    pl_store *store;      /* the backend's local rooms, which peers read */
    pl_ws_calls *calls;   /* the backend's answers, queued to this thread */
    pl_stats *st;
    ev_io accept_io;                /* its listening socket (ws_threads.c made it) */
    ev_timer accept_rest;           /* out of descriptors: accept_io stopped a while */
    const pl_origin_policy *origin; /* borrowed from the config */
    /* Open WebSockets of every service thread (st->ws.connections) are
     * held under this: a soft cap, as two threads may each admit the
     * last one. */
    size_t max_connections;
    size_t max_lag;        /* cut a peer further behind its room (0: never) */
    atomic_size_t n_conns; /* this thread's open WebSockets (read by any thread) */
    /* By fd: an accepted socket that has neither completed a handshake nor
     * been answered by us yet (ws_handshake.c). */
    unsigned char *handshaking;
    size_t handshaking_len;
    lws_retry_bo_t retry;
    struct lws_protocols protocols[2];

    pl_ws_fanout *fanout; /* rooms with peers, and those with news */
    /* Our own timers, not lws_sul ones: lws 4.1's libev glue re-arms its one
     * timer with ev_timer_start, a no-op on an armed timer, so a sul
     * earlier than the armed one waited for it (a 1 s sweep behind a
     * handshake timeout). */
    ev_timer goodbye_timer;
    ev_timer sweep_timer; /* the idle sweep, when a check is due */
    ev_timer delay_timer; /* --ws-write-delay: the drain after a wake-up */
    int64_t write_delay_us;
    bool coalesce;    /* cfg->coalesce */
    int64_t sweep_at; /* when it is scheduled; INT64_MAX: not */
    int64_t epoch_us; /* origin of the checks' grid */
    int heartbeat_s, min_heartbeat_s, max_heartbeat_s;
    bool goodbye_over;
};

/* ws_listener.c, for ws_threads.c: one service thread accepting from
 * `listen_fd`, a listening socket it owns from now on, even when it
 * fails. Returns 0 and *out, or a negative errno-style code. The stop
 * comes in two halves, so that several threads say goodbye at once:
 * begin tells the thread to stop, end joins it, closes what is left and
 * frees it. */
int pl_ws_svc_start(pl_ws_svc **out, const pl_ws_config *cfg, int listen_fd, pl_backend *backend,
                    pl_stats *st);
void pl_ws_svc_stop_begin(pl_ws_svc *ws);
void pl_ws_svc_stop_end(pl_ws_svc *ws);

/* transport_ws.c, for ws_listener.c: the protocol's lws callback, the
 * store's publish hook. */
int pl_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);
void pl_ws_on_publish(void *ud, pl_room *room, const pl_msg *m);

/* ws_handshake.c, for transport_ws.c: decides on an upgrade request; with
 * `c`, fills the peer's room, cursor and heartbeat. Returns 0 or the HTTP
 * status to refuse it with. */
int pl_ws_handshake_check(pl_ws_svc *ws, struct lws *wsi, struct conn *c);
/* ws_handshake.c: bytes on an accepted socket that lws refused or dropped
 * on its own (garbage, TLS, no key, a head too big or too slow) never
 * reach a callback that decides; these tell them from handshakes we
 * answered. Accepted: it is watched. Answered (refused or upgraded): it is
 * not. Closed while watched, having sent bytes: counted in
 * errors[PL_ERR_WS_BAD_HANDSHAKE]. */
void pl_ws_handshake_accepted(pl_ws_svc *ws, struct lws *wsi);
void pl_ws_handshake_answered(pl_ws_svc *ws, struct lws *wsi);
void pl_ws_handshake_closed(pl_ws_svc *ws, struct lws *wsi);

/* ws_write.c, for transport_ws.c. Each returns 0, or -1 to close.
 * write_messages: up to 16 messages after the cursor and up to last_id
 * (the room's newest, when the caller read it; UINT64_MAX: all), in one
 * write, when lws holds back nothing of its own (else it asks for
 * writable); a frame
 * the socket cuts short is finished by lws. write_reply: the oldest queued
 * reply. count_bytes: n more bytes put on c's socket; count_wire: what its
 * socket carried beyond that (the 101, lws's own control frames). */
int pl_ws_write_messages(pl_ws_svc *ws, struct conn *c, uint64_t last_id);
int pl_ws_write_reply(pl_ws_svc *ws, struct conn *c);
void pl_ws_count_bytes(pl_ws_svc *ws, struct conn *c, uint64_t n);
void pl_ws_count_wire(pl_ws_svc *ws, struct conn *c);

/* ws_sweep.c, for transport_ws.c: cuts `c` when it is more than max_lag
 * behind `last_id`, its room's newest, and says so; makes the idle sweep
 * run by `at`. */
bool pl_ws_too_slow(pl_ws_svc *ws, struct conn *c, uint64_t last_id);
void pl_ws_sweep_plan(pl_ws_svc *ws, int64_t at);
/* transport_ws.c: ws->delay_timer's callback (ws_listener.c sets it). */
void pl_ws_delayed_wake(struct ev_loop *loop, ev_timer *t, int revents);

/* The sweep itself: ws->sweep_timer's callback (ws_listener.c sets it). */
void pl_ws_sweep(struct ev_loop *loop, ev_timer *t, int revents);

#endif
