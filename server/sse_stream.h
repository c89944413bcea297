/* The bytes of one SSE stream: what is due next (preamble, ping, events),
 * and the direct path that writes them without MHD. A stream that has
 * caught up is parked: suspended in MHD with nothing in MHD's buffer. Whoever
 * unlinks its waiter then owns it until it parks again or is handed back to
 * MHD: a publish (through the ready queue, drained by the publishing thread
 * once the store's lock is let go) or its heartbeat (the ticker). The
 * owner writes what is due to the socket itself, and resumes MHD only for
 * what the socket would not take (kept as the stream's `pend`) and to end
 * the stream. Used by transport_sse.c; knows requests, the store and MHD. */
#ifndef PL_SSE_STREAM_H
#define PL_SSE_STREAM_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct pl_req pl_req;

/* Streams a publish unlinked, waiting to be written: by the publishing
 * thread, and for a large fan-out also by a helper thread, each taking
 * batches, so that a publish to 10,000 streams is not one thread's walk.
 * In pl_server; one lock, taken under a room's lock and nothing under it. */
typedef struct pl_sse_ready {
    pthread_mutex_t lock;
    pthread_cond_t work; /* the helper waits here for a large fan-out */
    pthread_cond_t idle; /* a publisher waits here for the helper's batch */
    pl_req *head, *tail; /* through u.sse.ready_next */
    size_t len;          /* queued */
    int busy;            /* batches being written */
    bool helper_on, quit;
    pthread_t helper;
} pl_sse_ready;

void pl_sse_ready_init(pl_sse_ready *r);
/* Starts the helper thread where there is a second CPU (none otherwise).
 * Returns 0 or a negative errno-style code. */
int pl_sse_ready_start(pl_sse_ready *r);
/* Stops and joins the helper; publishes after it drain alone. */
void pl_sse_ready_stop(pl_sse_ready *r);
/* Queues `q`, whose waiter a publish just unlinked; any thread, may hold
 * the room's lock. */
void pl_sse_ready_push(pl_sse_ready *r, pl_req *q);
/* Writes every queued stream (pl_sse_direct_write), with the helper when
 * many are queued, and returns once all are written. Holding no store
 * lock; the publish hook calls it. */
void pl_sse_ready_drain(pl_sse_ready *r);

/* Writes what `q` has due straight to its socket, then parks it again, or
 * resumes MHD for the rest (socket full, client gone, stream over). The
 * caller unlinked q's waiter, so it owns the parked stream. */
void pl_sse_direct_write(pl_req *q);

/* Fills `buf` with up to `max` bytes of what is due: the preamble first,
 * a ping if one is due, then the room's messages after the cursor, which
 * advances (each message is counted as delivered). Owner only. */
size_t pl_sse_fill(pl_req *q, char *buf, size_t max);
/* Replaces the running byte estimate with the kernel's count once, when
 * the head is on the wire, so bytes_out includes it while streaming. */
void pl_sse_count_head(pl_req *q);
/* What a direct write left unsent goes out first, through MHD. */
size_t pl_sse_pend_take(pl_req *q, char *buf, size_t max);
void pl_sse_pend_free(pl_req *q);

#endif
