/* The one timer thread of the HTTP side. It knows jobs, not transports:
 * main.c adds each job (the long polls' deadlines, the SSE heartbeats) as
 * a function that does what is due and says when it is next due, and the
 * transports tell it about new, earlier due times. It sleeps until the
 * earliest, so an idle server with only the default heartbeat wakes once
 * per heartbeat period and no more. Its state is private to ticker.c. */
#ifndef PL_TICKER_H
#define PL_TICKER_H
#include <stdint.h>

typedef struct pl_ticker pl_ticker;
typedef struct pl_tick_job pl_tick_job;

/* Does what is due at `now_us` (monotonic) and returns when this job is
 * next due (INT64_MAX: not until a note). Runs on the ticker thread with
 * no ticker lock held. */
typedef int64_t (*pl_tick_fn)(void *ud, int64_t now_us);

/* A ticker with no jobs and no thread yet. Returns 0 or -ENOMEM. */
int pl_ticker_new(pl_ticker **out);
/* Adds a job, run when it is due within `slack_us` (so due times a few
 * ms apart share one wake-up). Before pl_ticker_start. NULL: no memory. */
pl_tick_job *pl_ticker_add(pl_ticker *t, pl_tick_fn fn, void *ud, int64_t slack_us);
/* Starts the thread. Returns 0 or a negative errno. */
int pl_ticker_start(pl_ticker *t);
/* Tells the ticker `job` is due at `at_us` (monotonic), if that is earlier
 * than it knew. Any thread. */
void pl_ticker_note(pl_tick_job *job, int64_t at_us);
/* Stops and joins the thread (if it runs): no job runs any more, notes
 * are still taken. NULL: no-op. */
void pl_ticker_stop(pl_ticker *t);
/* Stops it and frees everything. NULL: no-op. */
void pl_ticker_free(pl_ticker *t);

#endif
