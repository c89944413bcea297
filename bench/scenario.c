/* One transport's run; see scenario.h. The phases are a straight script
 * (open, warm up, snapshot, measure, drain, snapshot) driving one loop in
 * slices, while deliveries are counted in the message callback. */
#include "scenario_internal.h"
#include "clock.h"
#include "meta.h"
#include "run.h"
#include "target.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    bsub *b = ud;
    run *r = b->run;
    /* When the loop woke for it, not when its turn came among the sockets
     * ready together: the bench's own parsing stays out of the latency. */
    int64_t now = pl_loop_wake_us(r->loop);
    pl_meta mt;
    (void)s;
    if (pl_meta_parse(m->meta, &mt) != 0 || mt.seq % (uint64_t)r->o->rooms != (uint64_t)b->room) {
        r->foreign++;
        return;
    }
    if (mt.seq < r->warm_msgs || mt.seq >= r->total_msgs)
        return; /* warm-up traffic */
    uint64_t idx = (mt.seq - r->warm_msgs) / (uint64_t)r->o->rooms;
    uint8_t bit = (uint8_t)(1u << (idx & 7));
    if (b->seen[idx >> 3] & bit) {
        r->res->duplicated++;
        return;
    }
    b->seen[idx >> 3] |= bit;
    r->res->delivered++;
    /* Concurrent publishes may be stored in another order than sent, so
     * order is judged by the room's ids, not by our sequence numbers. */
    if (m->id < b->last_id)
        r->res->out_of_order++;
    else
        b->last_id = m->id;
    pl_hist_record(&r->res->latency, now - mt.sent_us);
    pl_hist_record(&r->res->latency_intended, now - mt.intended_us);
}

static void on_published(void *ud, uint64_t seq, bool ok)
{
    run *r = ud;
    if (seq < r->warm_msgs)
        return;
    if (!ok) {
        r->res->publish_failed++;
        return;
    }
    r->res->published++;
    r->res->expected += (uint64_t)r->subs_in_room[seq % (uint64_t)r->o->rooms];
}

/* Room names unique to this process and transport, so history left by an
 * earlier run never counts in this one. */
static int make_rooms(run *r)
{
    int k = r->o->rooms;
    r->rooms = calloc((size_t)k, sizeof *r->rooms);
    r->room_names = calloc((size_t)k, sizeof *r->room_names);
    r->subs_in_room = calloc((size_t)k, sizeof *r->subs_in_room);
    if (!r->rooms || !r->room_names || !r->subs_in_room)
        return -ENOMEM;
    long tag = (long)(pl_clock_real_us() % 1000000);
    for (int i = 0; i < k; i++) {
        snprintf(r->rooms[i], sizeof r->rooms[i], "bench-%d-%ld-%s-%d", (int)getpid(), tag,
                 pl_bench_transport_name(r->t), i);
        r->room_names[i] = r->rooms[i];
    }
    for (int i = 0; i < r->o->subscribers; i++)
        r->subs_in_room[i % k]++;
    return 0;
}

static int make_text(run *r)
{
    r->text = malloc((size_t)r->o->size + 1);
    if (!r->text)
        return -ENOMEM;
    uint64_t x = r->o->seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (int i = 0; i < r->o->size; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        r->text[i] = (char)('a' + (x >> 33) % 26);
    }
    r->text[r->o->size] = '\0';
    return 0;
}

static void progress(void *ud, int64_t start_us)
{
    const run *r = ud;
    if (r->o->quiet || !isatty(2))
        return;
    fprintf(stderr, "\r\033[K[%s] %s %.1f s  open %d/%d  delivered %llu/%llu",
            pl_bench_transport_name(r->t), r->phase, (double)(pl_clock_mono_us() - start_us) / 1e6,
            r->ready, r->o->subscribers, (unsigned long long)r->res->delivered,
            (unsigned long long)r->res->expected);
}

/* Runs the loop until `deadline_us` or until done(r), showing `phase`. */
static void run_until(run *r, int64_t deadline_us, bool (*done)(void *r), const char *phase)
{
    r->phase = phase;
    pl_brun_until(r->loop, deadline_us, done, progress, r);
}

/* Every subscription asks from id 0 in a room that is still empty, so
 * none can miss a message once its first request is sent: a long poll
 * that is only OPEN after its first answer need not be waited for. The
 * others are OPEN at once (their first bytes); a request they made is no
 * sign (after a refusal it is the restart probe, over HTTP). */
static bool all_ready(void *ud)
{
    run *r = ud;
    r->ready = r->opened;
    for (int i = 0; r->opened + r->failed < r->o->subscribers && i < r->o->subscribers; i++) {
        pl_sub_counters c;
        if (r->subs[i].open || !r->subs[i].sub)
            continue;
        pl_sub_counters_get(r->subs[i].sub, &c);
        r->ready += r->t == PL_TRANSPORT_LONG_POLL && c.http_requests > 0;
    }
    return r->ready + r->failed == r->o->subscribers && pl_bpub_ready(r->pub);
}

static bool all_delivered(void *ud)
{
    run *r = ud;
    return pl_bpub_finished(r->pub) && r->res->delivered + r->res->duplicated >= r->res->expected;
}

/* Adds the subscriptions' counter deltas since their base into res. */
static void counter_deltas(run *r, bool set_base)
{
    pl_bench_result *res = r->res;
    for (int i = 0; i < r->o->subscribers; i++) {
        bsub *b = &r->subs[i];
        pl_sub_counters c;
        if (!b->sub)
            continue;
        pl_sub_counters_get(b->sub, &c);
        if (set_base) {
            b->base = c;
            continue;
        }
        res->http_requests += c.http_requests - b->base.http_requests;
        res->tcp_connections += c.tcp_connects - b->base.tcp_connects;
        res->bytes_in += c.wire_rx - b->base.wire_rx;
        res->bytes_out += c.wire_tx - b->base.wire_tx;
        res->duplicated += c.duplicates - b->base.duplicates;
        res->gaps += c.gaps - b->base.gaps;
        res->reconnects += c.reconnects - b->base.reconnects;
        res->http_requests_total += c.http_requests;
        res->tcp_connections_total += c.tcp_connects;
    }
}

/* The measured part: snapshot, publish the window, drain, snapshot. */
static void measure(run *r)
{
    pl_bench_result *res = r->res;
    pl_btarget_stats s0 = {0}, s1 = {0};
    bool have0 = pl_btarget_stats_sum(r->tg, &r->o->tls, &s0) == 0;
    counter_deltas(r, true);
    pl_cpu cpu0 = pl_clock_cpu();
    int64_t t0 = pl_clock_mono_us();
    int64_t last = pl_bpub_intended(r->pub, r->total_msgs ? r->total_msgs - 1 : 0);
    /* Time for the slowest transport to fetch what was published last. */
    int64_t drain = 2000000 + 2 * (int64_t)r->o->poll_interval_ms * 1000;
    if (r->o->radio || r->o->rate <= 0) /* a phone's window: exactly --duration */
        run_until(r, t0 + (int64_t)(r->o->duration_s * 1e6), NULL, "measure");
    else
        run_until(r, last + drain, all_delivered, "measure");
    res->window_s = (double)(pl_clock_mono_us() - t0) / 1e6;
    pl_cpu cpu1 = pl_clock_cpu();
    pl_bradio_finish(r->radio, &res->radio);
    res->bench_cpu_sys_s = cpu1.sys_s - cpu0.sys_s;
    res->bench_cpu_s = cpu1.user_s - cpu0.user_s + res->bench_cpu_sys_s;
    counter_deltas(r, false);
    res->server_stats = have0 && pl_btarget_stats_sum(r->tg, &r->o->tls, &s1) == 0;
    res->server_cpu_s = s1.cpu_s - s0.cpu_s;
    res->server_bytes_out = s1.bytes_out[r->t] - s0.bytes_out[r->t];
    res->server_rss_before = s0.rss_bytes;
    res->server_rss_after = s1.rss_bytes;
    res->lost = res->expected > res->delivered ? res->expected - res->delivered : 0;
    res->publisher_max_behind_us = pl_bpub_counts_get(r->pub).max_behind_us;
    res->publish_retries = pl_bpub_counts_get(r->pub).retried;
}

static int start_publisher(run *r)
{
    const pl_bench_opts *o = r->o;
    pl_brun_window w = pl_brun_window_of(o);
    r->warm_msgs = w.warm_msgs;
    r->total_msgs = w.total_msgs;
    r->seen_bytes = (size_t)((r->total_msgs - r->warm_msgs) / (uint64_t)o->rooms / 8 + 1);
    if ((double)r->seen_bytes * o->subscribers > 512.0 * 1024 * 1024) {
        fprintf(stderr, "pushlab-bench: window too large to track (rate x duration x subs)\n");
        return -E2BIG;
    }
    pl_bpub_cfg pc = pl_brun_publisher(o, r->loop, r->tg, w);
    pc.rooms = r->room_names;
    pc.n_rooms = o->rooms;
    pc.text = r->text;
    pc.on_done = on_published;
    pc.ud = r;
    return pl_bpub_new(&pc, &r->pub);
}

static int script(run *r)
{
    int rc;
    if ((rc = make_rooms(r)) || (rc = make_text(r)) || (rc = start_publisher(r)) ||
        (rc = pl_bsubs_open(r)))
        return rc;
    int64_t t0 = pl_clock_mono_us();
    run_until(r, pl_brun_open_deadline(r->o->subscribers), all_ready, "open");
    pl_bsubs_fail_unready(r, (double)(pl_clock_mono_us() - t0) / 1e6);
    all_ready(r);
    r->res->opened = r->ready;
    if (!pl_bpub_ready(r->pub))
        return -ENOTCONN;
    pl_bsubs_report(r);
    pl_bpub_start(r->pub, pl_clock_mono_us() + 10000);
    run_until(r, pl_brun_snapshot_at(pl_bpub_intended(r->pub, r->warm_msgs)), NULL, "warmup");
    measure(r);
    return 0;
}

static void teardown(run *r)
{
    pl_bradio_free(r->radio);
    pl_bpub_free(r->pub);
    pl_loop_free(r->loop);
    for (int i = 0; r->subs && i < r->o->subscribers; i++)
        free(r->subs[i].seen);
    free(r->subs);
    free(r->rooms);
    free(r->room_names);
    free(r->subs_in_room);
    free(r->text);
}

int pl_bench_run(const pl_bench_opts *o, pl_transport t, const pl_btarget_addr *tg,
                 pl_bench_result *out)
{
    run r = {.o = o, .tg = tg, .t = t, .res = out, .cb = {.on_message = on_message}};
    memset(out, 0, sizeof *out);
    out->transport = t;
    out->subscribers = o->subscribers;
    int rc = pl_loop_new(&r.loop);
    if (rc)
        return rc;
    if ((rc = pl_loop_set_tls(r.loop, &o->tls)) != 0) {
        pl_loop_free(r.loop);
        return rc;
    }
    r.subs = calloc((size_t)o->subscribers, sizeof *r.subs);
    rc = !r.subs ? -ENOMEM : pl_bradio_new(r.loop, pl_bsubs_radio_devices(o), &r.radio);
    if (!rc)
        rc = script(&r);
    if (!o->quiet && isatty(2))
        fprintf(stderr, "\r\033[K");
    if (r.foreign)
        fprintf(stderr, "pushlab-bench: %llu deliveries without bench meta ignored\n",
                (unsigned long long)r.foreign);
    teardown(&r);
    return rc;
}
