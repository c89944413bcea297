/* The timer thread; see ticker.h. One lock and one condition variable
 * guard the jobs' due times; a job runs with the lock released, so a
 * transport noting a new due time from its own thread never waits for a
 * job to finish. */
#include "ticker.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include "clock.h"

#define MIN_SLEEP_US 10000 /* never spin, even if a due time is missed */
#define MAX_JOBS     4

struct pl_tick_job {
    pl_ticker *t;
    pl_tick_fn fn;
    void *ud;
    int64_t slack_us;
    int64_t next_us; /* under t->lock */
};

struct pl_ticker {
    pthread_t thread;
    bool running;
    bool stopping; /* under lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pl_tick_job jobs[MAX_JOBS];
    int n_jobs;
};

int pl_ticker_new(pl_ticker **out)
{
    pthread_condattr_t attr;
    pl_ticker *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

pl_tick_job *pl_ticker_add(pl_ticker *t, pl_tick_fn fn, void *ud, int64_t slack_us)
{
    if (t->n_jobs == MAX_JOBS)
        return NULL;
    pl_tick_job *j = &t->jobs[t->n_jobs++];
    *j = (pl_tick_job){.t = t, .fn = fn, .ud = ud, .slack_us = slack_us, .next_us = INT64_MAX};
    return j;
}

void pl_ticker_note(pl_tick_job *j, int64_t at_us)
{
    pl_ticker *t = j->t;
    pthread_mutex_lock(&t->lock);
    if (at_us < j->next_us) {
        j->next_us = at_us;
        pthread_cond_signal(&t->cond);
    }
    pthread_mutex_unlock(&t->lock);
}

/* Sleeps until the earliest due time, a note or a stop; lock held. */
static void sleep_until_due(pl_ticker *t)
{
    int64_t until = INT64_MAX, now = pl_clock_mono_us();
    for (int i = 0; i < t->n_jobs; i++)
        if (t->jobs[i].next_us < until)
            until = t->jobs[i].next_us;
    if (until < now + MIN_SLEEP_US)
        until = now + MIN_SLEEP_US;
    struct timespec ts = {.tv_sec = until / 1000000, .tv_nsec = (until % 1000000) * 1000};
    pthread_cond_timedwait(&t->cond, &t->lock, &ts);
}

static void *ticker_main(void *arg)
{
    pl_ticker *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        sleep_until_due(t);
        if (t->stopping)
            break;
        int64_t now = pl_clock_mono_us();
        for (int i = 0; i < t->n_jobs; i++) {
            pl_tick_job *j = &t->jobs[i];
            if (j->next_us > now + j->slack_us)
                continue;
            /* Due times noted while the job runs are kept by the min(). */
            j->next_us = INT64_MAX;
            pthread_mutex_unlock(&t->lock);
            int64_t next = j->fn(j->ud, now);
            pthread_mutex_lock(&t->lock);
            if (next < j->next_us)
                j->next_us = next;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int pl_ticker_start(pl_ticker *t)
{
    int rc = pthread_create(&t->thread, NULL, ticker_main, t);
    t->running = rc == 0;
    return -rc;
}

void pl_ticker_stop(pl_ticker *t)
{
    if (!t || !t->running)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    t->running = false;
}

void pl_ticker_free(pl_ticker *t)
{
    if (!t)
        return;
    pl_ticker_stop(t);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
