/* Long polling: GET /api/rooms/{room}/poll?since=&timeout= answers as soon
 * as the room holds a message after `since`, or after `timeout` seconds
 * with an empty page. A waiting request is a suspended MHD connection
 * linked as a store waiter: no thread and no CPU while it waits. Exports
 * pl_long_poll_handler; uses page.c, reply.c, request.c and the ticker. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include "clock.h"
#include "page.h"
#include "reply.h"
#include "server.h"

/* Deadlines this close together expire in one wake-up. */
#define DEADLINE_SLACK_US 5000

/* A poll still waiting this long gets the hang-up watcher (the ticker
 * starts it), so a client that leaves is noticed within about this, and
 * a poll answered sooner, most of them under load, never pays the
 * watcher's two epoll_ctl calls. */
#define WATCH_AFTER_US 1000000

static bool lp_park(pl_waiter *w)
{
    pl_req *q = pl_req_of_waiter(w);
    if (atomic_load(&q->srv->stopping) || atomic_load(&q->gone))
        return false;
    MHD_suspend_connection(q->conn);
    q->u.lp.parked = true;
    atomic_fetch_add(&q->srv->stats.long_poll.waiting, 1);
    return true;
}

static void lp_wake(pl_waiter *w)
{
    pl_req *q = pl_req_of_waiter(w);
    atomic_store(&q->u.lp.expired, true); /* the ticker may skip it now */
    MHD_resume_connection(q->conn);
}

/* Ends the "waiting" count of a parked poll, once: from its handler after a
 * resume, or from `done` when MHD closed it without calling the handler
 * (it does so when the client already left). */
static void unpark(pl_req *q)
{
    if (q->u.lp.parked) {
        q->u.lp.parked = false;
        atomic_fetch_sub(&q->srv->stats.long_poll.waiting, 1);
    }
}

static enum MHD_Result answer(pl_req *q)
{
    return pl_page_answer(q, q->room, q->u.lp.since, q->u.lp.limit);
}

static enum MHD_Result lp_opened(pl_req *q);

/* The first call: validates, then opens the room. */
static enum MHD_Result lp_start(pl_req *q)
{
    pl_server *srv = q->srv;
    pl_err err;
    uint64_t timeout = PL_TIMEOUT_DEFAULT;

    q->ts = &srv->stats.long_poll;
    pl_stat_add(&q->ts->requests, 1);
    if (pl_page_query(q, &q->u.lp.since, &q->u.lp.limit, &err) ||
        pl_page_query_uint(q, "timeout", &timeout, &err))
        return pl_reply_error(q, &err);
    if (timeout > PL_TIMEOUT_MAX)
        timeout = PL_TIMEOUT_MAX;
    q->u.lp.deadline_us = pl_clock_mono_us() + (int64_t)timeout * 1000000;
    /* Waiting needs the room to exist, so a long poll may create it. */
    return pl_req_open_room(q, true, q->u.lp.since, lp_opened);
}

/* The room holds what the store had when the poll came: answer or park. */
static enum MHD_Result lp_opened(pl_req *q)
{
    pl_server *srv = q->srv;
    uint64_t since = q->u.lp.since;
    int64_t now = pl_clock_mono_us();
    if (q->u.lp.deadline_us <= now || pl_room_last_id(q->room) > since ||
        atomic_load(&srv->stopping))
        return answer(q);
    q->waiter.park = lp_park;
    q->waiter.wake = lp_wake;
    q->u.lp.waited = true;
    q->u.lp.watch_us = now + WATCH_AFTER_US;
    pl_req_list_add(&srv->long_polls, q);
    if (!pl_room_wait(q->room, since, &q->waiter)) {
        pl_req_list_remove(&srv->long_polls, q);
        return answer(q); /* a message arrived in between */
    }
    pl_ticker_note(srv->lp_tick,
                   q->u.lp.watch_us < q->u.lp.deadline_us ? q->u.lp.watch_us : q->u.lp.deadline_us);
    return MHD_YES;
}

/* Off the ticker's list first: after that the ticker no longer starts a
 * watch on `q`, so the one it may have started is seen and stopped. */
static void stop_waiting(pl_req *q)
{
    pl_req_list_remove(&q->srv->long_polls, q);
    pl_req_unwatch(q);
}

/* Resumed by a publish, the deadline, a hang-up or shutdown: answer with
 * what is there now, possibly an empty page. */
static enum MHD_Result lp_resume(pl_req *q)
{
    unpark(q);
    stop_waiting(q);
    if (atomic_load(&q->gone))
        return MHD_NO; /* nobody to answer: close the connection */
    return answer(q);
}

static void lp_done(pl_req *q)
{
    if (q->u.lp.waited) {
        unpark(q);
        stop_waiting(q);
        pl_waiter_cancel(q->room, &q->waiter);
    }
}

/* The ticker's job, for each waiting poll: resumes `q` if its deadline is
 * (nearly) there, starts its hang-up watch once it has waited
 * WATCH_AFTER_US; returns when it is next due, or INT64_MAX once resumed.
 * Still listed (stop_waiting() needs the list's lock), so still valid. */
static int64_t expire(pl_req *q, int64_t now_us)
{
    if (atomic_load(&q->u.lp.expired))
        return INT64_MAX;
    /* Slack merges deadlines a few ms apart into one wake-up. */
    if (q->u.lp.deadline_us <= now_us + DEADLINE_SLACK_US && pl_req_resume(q)) {
        atomic_store(&q->u.lp.expired, true);
        return INT64_MAX;
    }
    if (q->u.lp.watch_us == INT64_MAX || q->u.lp.watch_us > now_us + DEADLINE_SLACK_US)
        return q->u.lp.watch_us < q->u.lp.deadline_us ? q->u.lp.watch_us : q->u.lp.deadline_us;
    q->u.lp.watch_us = INT64_MAX;
    pl_req_watch(q);
    return q->u.lp.deadline_us;
}

const pl_handler pl_long_poll_handler = {
    .stats_ep = PL_SEP_LONG_POLL,
    .room = true,
    .start = lp_start,   /* answers, or parks until a message */
    .resume = lp_resume, /* a publish, the deadline, a hang-up */
    .done = lp_done,
    .tick = expire,
    .tick_slack_us = DEADLINE_SLACK_US,
};
