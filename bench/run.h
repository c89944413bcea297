/* The skeleton every bench run shares (scenario.c for the transports,
 * floor.c for bare sockets): how many messages the warm-up and the
 * measured window hold, the publisher's planned pause in which the
 * snapshots are taken, and running the loop in slices until a deadline or
 * a condition, with a progress line. One thread: the loop's. */
#ifndef PL_BENCH_RUN_H
#define PL_BENCH_RUN_H
#include <stdbool.h>
#include <stdint.h>
#include "client.h"
#include "opts.h"
#include "publisher.h"
#include "target.h"

/* The planned silence between warm-up and window: the snapshots (stats
 * request, TCP_INFO of every socket) happen in it, delaying no message. */
#define PL_BRUN_PAUSE_US 400000

/* Messages by sequence number: 0 .. warm_msgs-1 warm up, the window is
 * warm_msgs .. total_msgs-1 (at least one message, unless --rate 0). */
typedef struct pl_brun_window {
    uint64_t warm_msgs, total_msgs;
} pl_brun_window;

pl_brun_window pl_brun_window_of(const pl_bench_opts *o);

/* A publisher for the window `w` at `o`'s rate to `tg`, on `l`, pausing
 * PL_BRUN_PAUSE_US before the window; the caller adds the rooms, the text
 * and its on_done. */
pl_bpub_cfg pl_brun_publisher(const pl_bench_opts *o, pl_loop *l, const pl_btarget_addr *tg,
                              pl_brun_window w);

/* The latest time `n` subscribers may take to open (monotonic us). */
int64_t pl_brun_open_deadline(int n);
/* When to take the snapshots before a window whose first message is
 * intended at `window_us`: inside the pause, before the window opens. */
int64_t pl_brun_snapshot_at(int64_t window_us);

/* Runs `l` in slices of at most 250 ms until `deadline_us` (monotonic)
 * or done(ud) is true; after each slice progress(ud, started_us) when
 * given (started_us: when this call began). */
void pl_brun_until(pl_loop *l, int64_t deadline_us, bool (*done)(void *ud),
                   void (*progress)(void *ud, int64_t started_us), void *ud);

#endif
