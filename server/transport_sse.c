/* Server-Sent Events: GET /api/rooms/{room}/events keeps one response open
 * and writes each message as an event. MHD sends the head and what is due
 * then, pulling bytes through sse_read(); when the stream has caught up,
 * the connection is suspended as a store waiter, and from then on the
 * publisher (or the heartbeat) writes to the socket itself (sse_stream.c),
 * handing the stream back to MHD only for what the socket would not take
 * and for the end. ?heartbeat=S picks the stream's own ping period within
 * the server's bounds. Exports pl_sse_handler; uses page.c's query,
 * reply.c, request.c and the ticker. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "clock.h"
#include "page.h"
#include "reply.h"
#include "server.h"
#include "sse_stream.h"

/* MHD allocates this per stream, so it stays small; a longer event is
 * simply written across several reads. */
#define SSE_BLOCK 1024

static bool sse_park(pl_waiter *w)
{
    pl_req *q = pl_req_of_waiter(w);
    if (atomic_load(&q->srv->stopping) || atomic_load(&q->gone))
        return false;
    MHD_suspend_connection(q->conn);
    return true;
}

/* A publish unlinked the parked stream (room lock held): its publisher
 * writes it once the store lets go (pl_sse_on_publish). At shutdown no
 * publish follows, so MHD ends it. */
static void sse_wake(pl_waiter *w)
{
    pl_req *q = pl_req_of_waiter(w);
    if (atomic_load(&q->srv->stopping))
        MHD_resume_connection(q->conn);
    else
        pl_sse_ready_push(&q->srv->sse_ready, q);
}

static ssize_t counted(pl_req *q, size_t n)
{
    q->bytes_counted += n;
    pl_stat_add(&q->ts->bytes_out, n);
    return (ssize_t)n;
}

/* The last bytes of a stream the server ends. MHD 0.9.75 never frees a
 * close-delimited response that ends in the read right after a resume
 * (its idle handler marks it closed and leaves it: the fd stays open until
 * the idle timeout), while one ending after a write is freed; so a comment
 * goes first, and the end comes in the read after it. */
static ssize_t end_stream(pl_req *q, char *buf, size_t max)
{
    static const char bye[] = ": end\n";
    if (q->u.sse.ended || max < sizeof bye - 1)
        return MHD_CONTENT_READER_END_OF_STREAM;
    q->u.sse.ended = true;
    memcpy(buf, bye, sizeof bye - 1);
    return counted(q, sizeof bye - 1);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    pl_req *q = cls;
    (void)pos;
    if (q->u.sse.started)
        pl_sse_count_head(q);
    for (;;) {
        if (atomic_load(&q->gone) || (atomic_load(&q->srv->stopping) && !q->u.sse.cur))
            return end_stream(q, buf, max);
        /* The room began again (a shared store lost it): end the stream as
         * a restarting server would; the client resumes and sees it. */
        if (!q->u.sse.cur && pl_room_generation(q->room) != q->u.sse.generation)
            return end_stream(q, buf, max);
        size_t n = q->u.sse.pend ? pl_sse_pend_take(q, buf, max) : pl_sse_fill(q, buf, max);
        if (n > 0)
            return counted(q, n);
        /* Returning 0 without suspending makes MHD spin; park instead. */
        q->waiter.park = sse_park;
        if (pl_room_wait(q->room, atomic_load(&q->u.sse.cursor), &q->waiter))
            return 0;
    }
}

/* The resume point: Last-Event-ID, else ?since=, else UINT64_MAX for
 * the room's end, which sse_opened reads once the room is open. */
static int start_cursor(pl_req *q, pl_err *err)
{
    const char *lei = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Last-Event-ID");
    uint64_t id;
    if (lei && *lei) {
        if (pl_parse_uint(lei, &id) != 0)
            return pl_err_set(err, 400, "Last-Event-ID must be a message id");
        atomic_store(&q->u.sse.cursor, id);
        return 0;
    }
    uint64_t since = UINT64_MAX; /* the room's end: sse_opened reads it */
    if (pl_page_query_uint(q, "since", &since, err))
        return -EINVAL;
    atomic_store(&q->u.sse.cursor, since);
    return 0;
}

/* Heartbeats of period P fall on stats.started_mono_us + k * P, so every
 * stream with the same heartbeat is pinged in the same wake-up. */
static int64_t beat_next(const pl_server *srv, int64_t period_us, int64_t now_us)
{
    return pl_clock_next_tick(srv->stats.started_mono_us, period_us, now_us);
}

/* The stream's heartbeat: ?heartbeat= clamped to the server's bounds, else
 * --heartbeat. Returns 0, or -EINVAL with a 400 in `err` for junk. */
static int start_beat(pl_req *q, pl_err *err)
{
    const pl_server_config *cfg = &q->srv->cfg;
    uint64_t asked = UINT64_MAX;
    if (pl_page_query_uint(q, "heartbeat", &asked, err))
        return -EINVAL;
    int s = asked == UINT64_MAX
                ? cfg->heartbeat_s
                : pl_heartbeat_clamp(asked, cfg->min_heartbeat_s, cfg->max_heartbeat_s);
    q->u.sse.beat_period_us = (int64_t)s * 1000000;
    q->u.sse.beat_next_us = beat_next(q->srv, q->u.sse.beat_period_us, pl_clock_mono_us());
    return 0;
}

static enum MHD_Result sse_opened(pl_req *q);

static enum MHD_Result sse_start(pl_req *q)
{
    pl_server *srv = q->srv;
    pl_err err;
    q->ts = &srv->stats.sse;
    pl_stat_add(&q->ts->requests, 1);
    if (start_cursor(q, &err) != 0 || start_beat(q, &err) != 0)
        return pl_reply_error(q, &err);
    uint64_t since = atomic_load(&q->u.sse.cursor);
    if (since == UINT64_MAX)
        since = 0;
    return pl_req_open_room(q, true, since, sse_opened);
}

/* The room holds what the store had when the stream came: begin it. */
static enum MHD_Result sse_opened(pl_req *q)
{
    pl_server *srv = q->srv;
    if (atomic_load(&q->u.sse.cursor) == UINT64_MAX)
        atomic_store(&q->u.sse.cursor, pl_room_last_id(q->room));
    q->u.sse.generation = pl_room_generation(q->room);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, q, NULL);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    /* Close-delimited, not chunked: bytes the publisher writes itself need
     * no framing that MHD would have to continue (protocol 1.3). */
    MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
    q->waiter.wake = sse_wake;
    q->u.sse.fd = pl_req_fd(q);
    q->u.sse.open = true;
    atomic_fetch_add(&q->ts->connections, 1);
    pl_req_list_add(&srv->sse_streams, q);
    pl_ticker_note(srv->sse_tick, q->u.sse.beat_next_us);
    pl_req_watch(q);
    return pl_reply_queue(q, 200, r);
}

static void sse_done(pl_req *q)
{
    if (!q->u.sse.open)
        return; /* refused before the stream began */
    pl_req_unwatch(q);
    pl_req_list_remove(&q->srv->sse_streams, q);
    pl_waiter_cancel(q->room, &q->waiter);
    pl_msg_unref(q->u.sse.cur);
    pl_sse_pend_free(q);
    atomic_fetch_sub(&q->ts->connections, 1);
}

/* The ticker's job, for each stream: pings `q` if its heartbeat is due;
 * returns when its next one is. */
static int64_t beat(pl_req *q, int64_t now_us)
{
    if (q->u.sse.beat_next_us <= now_us) {
        q->u.sse.beat_next_us = beat_next(q->srv, q->u.sse.beat_period_us, now_us);
        atomic_store(&q->u.sse.ping_due, true);
        /* Only a parked stream needs a push; a busy one sends it soon. */
        if (pl_waiter_cancel(q->room, &q->waiter))
            pl_sse_direct_write(q);
    }
    return q->u.sse.beat_next_us;
}

/* A stream whose client does not read stops taking messages (MHD's buffer
 * and the socket's are full), so its cursor falls behind its room; past
 * max_lag it is cut, freeing it at once instead of at a timeout. */
static void check_lag(pl_req *q, size_t max_lag)
{
    uint64_t last = pl_room_last_id(q->room);
    uint64_t cursor = atomic_load(&q->u.sse.cursor);
    if (last <= cursor || last - cursor <= max_lag || atomic_exchange(&q->u.sse.dropped, true))
        return;
    pl_stat_add(&q->ts->slow_consumers_dropped, 1);
    pl_conn_cut_fd(pl_req_fd(q));
}

int64_t pl_sse_lag_sweep(void *ud, int64_t now_us)
{
    pl_server *srv = ud;
    (void)now_us;
    pthread_mutex_lock(&srv->sse_streams.lock);
    pl_list_each(it, &srv->sse_streams.head)
        check_lag(pl_list_entry(it, pl_req, link), srv->cfg.max_lag);
    pthread_mutex_unlock(&srv->sse_streams.lock);
    return INT64_MAX; /* until the next publish notes it */
}

void pl_sse_on_publish(void *ud, pl_room *room, const pl_msg *m)
{
    pl_server *srv = ud;
    (void)room, (void)m;
    pl_sse_ready_drain(&srv->sse_ready);
    pl_ticker_note(srv->lag_tick, pl_clock_mono_us() + PL_SSE_LAG_PERIOD_US);
}

const pl_handler pl_sse_handler = {
    .stats_ep = PL_SEP_SSE,
    .room = true,
    .start = sse_start, /* the head; MHD then pulls sse_read() */
    .done = sse_done,
    .tick = beat, /* on the heartbeat grid */
};
