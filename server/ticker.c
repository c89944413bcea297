/* The one timer thread of the HTTP side: it expires long polls at their
 * deadline and sends SSE heartbeats. It sleeps until the next of those is
 * due. Heartbeats sit on a grid per period (pl_beat_next), so streams of
 * the same heartbeat share one wake-up: an idle server with only the
 * default heartbeat wakes once per heartbeat period and no more. */
#include <stdint.h>
#include <time.h>
#include "clock.h"
#include "server.h"

#define MIN_SLEEP_US 10000 /* never spin, even if a deadline is missed */

/* Lowers *slot (under tick_lock) to `at` and wakes the ticker to see it. */
static void note(pl_server *srv, int64_t *slot, int64_t at)
{
    pthread_mutex_lock(&srv->tick_lock);
    if (at < *slot) {
        *slot = at;
        pthread_cond_signal(&srv->tick_cond);
    }
    pthread_mutex_unlock(&srv->tick_lock);
}

void pl_ticker_note_deadline(pl_server *srv, int64_t deadline_us)
{
    note(srv, &srv->next_deadline_us, deadline_us);
}

void pl_ticker_note_beat(pl_server *srv, int64_t due_us) { note(srv, &srv->next_beat_us, due_us); }

int64_t pl_beat_next(const pl_server *srv, int64_t period_us, int64_t now_us)
{
    return pl_clock_next_tick(srv->stats.started_mono_us, period_us, now_us);
}

/* Sleeps until `until_us` (monotonic), a note or a stop; tick_lock held. */
static void sleep_until(pl_server *srv, int64_t until_us)
{
    int64_t now = pl_clock_mono_us();
    if (until_us < now + MIN_SLEEP_US)
        until_us = now + MIN_SLEEP_US;
    struct timespec ts = {.tv_sec = until_us / 1000000, .tv_nsec = (until_us % 1000000) * 1000};
    pthread_cond_timedwait(&srv->tick_cond, &srv->tick_lock, &ts);
}

static void *ticker_main(void *arg)
{
    pl_server *srv = arg;
    pthread_mutex_lock(&srv->tick_lock);
    while (!atomic_load(&srv->stopping)) {
        int64_t until =
            srv->next_deadline_us < srv->next_beat_us ? srv->next_deadline_us : srv->next_beat_us;
        sleep_until(srv, until);
        if (atomic_load(&srv->stopping))
            break;
        int64_t now = pl_clock_mono_us(), next_deadline, next_beat = INT64_MAX;
        bool beat = now >= srv->next_beat_us;
        /* Deadlines and beats noted while we scan are kept by the min()s. */
        srv->next_deadline_us = INT64_MAX;
        if (beat)
            srv->next_beat_us = INT64_MAX;
        pthread_mutex_unlock(&srv->tick_lock);
        if (beat)
            next_beat = pl_sse_heartbeat(srv, now);
        pl_long_poll_tick(srv, now, &next_deadline);
        pthread_mutex_lock(&srv->tick_lock);
        if (next_deadline < srv->next_deadline_us)
            srv->next_deadline_us = next_deadline;
        if (next_beat < srv->next_beat_us)
            srv->next_beat_us = next_beat;
    }
    pthread_mutex_unlock(&srv->tick_lock);
    return NULL;
}

int pl_ticker_start(pl_server *srv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->tick_cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&srv->tick_lock, NULL);
    srv->next_deadline_us = srv->next_beat_us = INT64_MAX;
    return -pthread_create(&srv->ticker, NULL, ticker_main, srv);
}

void pl_ticker_stop(pl_server *srv)
{
    pthread_mutex_lock(&srv->tick_lock);
    atomic_store(&srv->stopping, true);
    pthread_cond_signal(&srv->tick_cond);
    pthread_mutex_unlock(&srv->tick_lock);
    pthread_join(srv->ticker, NULL);
    pthread_cond_destroy(&srv->tick_cond);
    pthread_mutex_destroy(&srv->tick_lock);
}
