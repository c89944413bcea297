/* The one timer thread of the HTTP side: it expires long polls at their
 * deadline and sends SSE heartbeats. It sleeps until the next of those is
 * due, so an idle server wakes once per heartbeat period and no more. */
#include <stdint.h>
#include <time.h>
#include "clock.h"
#include "server.h"

#define MIN_SLEEP_US 10000 /* never spin, even if a deadline is missed */

void pl_ticker_note_deadline(pl_server *srv, int64_t deadline_us)
{
    pthread_mutex_lock(&srv->tick_lock);
    if (deadline_us < srv->next_deadline_us) {
        srv->next_deadline_us = deadline_us;
        pthread_cond_signal(&srv->tick_cond);
    }
    pthread_mutex_unlock(&srv->tick_lock);
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
    int64_t period = (int64_t)srv->cfg.heartbeat_s * 1000000;
    int64_t next_beat = pl_clock_mono_us() + period;
    pthread_mutex_lock(&srv->tick_lock);
    while (!atomic_load(&srv->stopping)) {
        int64_t until = srv->next_deadline_us < next_beat ? srv->next_deadline_us : next_beat;
        sleep_until(srv, until);
        if (atomic_load(&srv->stopping))
            break;
        /* Deadlines noted while we scan are kept by the min() below. */
        srv->next_deadline_us = INT64_MAX;
        pthread_mutex_unlock(&srv->tick_lock);
        int64_t now = pl_clock_mono_us(), next_deadline;
        if (now >= next_beat) {
            pl_sse_heartbeat(srv);
            next_beat = now + period;
        }
        pl_long_poll_tick(srv, now, &next_deadline);
        pthread_mutex_lock(&srv->tick_lock);
        if (next_deadline < srv->next_deadline_us)
            srv->next_deadline_us = next_deadline;
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
    srv->next_deadline_us = INT64_MAX;
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
