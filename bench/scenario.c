/* One transport's run; see scenario.h. The phases are a straight script on
 * the main thread (open, warm up, snapshot, measure, drain, snapshot) that
 * commands the subscriber lanes (lane.c, one loop each) and the
 * publisher's worker (pub_lane.c) and reads their counters; the lanes'
 * results are added up once they stopped counting. */
#include "scenario_internal.h"
#include "clock.h"
#include "run.h"
#include "target.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Room names unique to this process and transport, so history left by an
 * earlier run never counts in this one; a foreign target's URLs for them. */
static int make_rooms(run *r)
{
    int k = r->o->rooms;
    char url[1024];
    r->rooms = calloc((size_t)k, sizeof *r->rooms);
    r->room_names = calloc((size_t)k, sizeof *r->room_names);
    r->subs_in_room = calloc((size_t)k, sizeof *r->subs_in_room);
    r->endpoints = calloc((size_t)k, sizeof *r->endpoints);
    r->post_urls = calloc((size_t)k, sizeof *r->post_urls);
    if (!r->rooms || !r->room_names || !r->subs_in_room || !r->endpoints || !r->post_urls)
        return -ENOMEM;
    long tag = (long)(pl_clock_real_us() % 1000000);
    for (int i = 0; i < k; i++) {
        snprintf(r->rooms[i], sizeof r->rooms[i], "bench-%d-%ld-%s-%d", (int)getpid(), tag,
                 pl_bench_transport_name(r->t), i);
        r->room_names[i] = r->rooms[i];
        if (r->dialect == PL_DIALECT_PUSHLAB)
            continue;
        if (pl_btarget_endpoint(r->tg, r->t, r->rooms[i], url, sizeof url) ||
            !(r->endpoints[i] = strdup(url)))
            return -ENOMEM;
        if (r->dialect == PL_DIALECT_NCHAN &&
            (pl_btarget_pub_url(r->tg, r->rooms[i], url, sizeof url) ||
             !(r->post_urls[i] = strdup(url))))
            return -ENOMEM;
    }
    for (int i = 0; i < r->o->subscribers; i++)
        atomic_fetch_add(&r->subs_in_room[i % k], 1);
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

/* Subscriptions the descriptor limit leaves room for: one socket each,
 * two descriptors per 64 (a libcurl multi handle's wake-up pair), and
 * some kept for the publisher, the stats requests, the loops and stdio. */
static int fd_room(const run *r)
{
    struct rlimit rl;
    long keep = 2L * r->o->rooms + 64 + 8L * r->n_lanes, n = r->o->subscribers;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return (int)n;
    long room = ((long)rl.rlim_cur - keep) * 64 / 66;
    return room < n ? (int)(room > 0 ? room : 0) : (int)n;
}

/* Posts `cmd` to every lane (and the publisher when `pub`), then waits
 * until each ran it. */
static void command_all(run *r, int cmd, bool pub)
{
    for (int k = 0; k < r->n_lanes; k++)
        pl_bworker_post(&r->lanes[k].w, cmd);
    if (pub)
        pl_bworker_post(&r->pw, cmd);
    for (int k = 0; k < r->n_lanes; k++)
        pl_bworker_wait(&r->lanes[k].w);
    if (pub)
        pl_bworker_wait(&r->pw);
}

static int ready_count(const run *r)
{
    int n = 0;
    for (int k = 0; k < r->n_lanes; k++)
        n += atomic_load(&r->lanes[k].ready_seen) + atomic_load(&r->lanes[k].failed_seen);
    return n;
}

static uint64_t delivered_count(const run *r)
{
    uint64_t n = 0;
    for (int k = 0; k < r->n_lanes; k++)
        n += atomic_load_explicit(&r->lanes[k].delivered_seen, memory_order_relaxed);
    return n;
}

static void progress(const run *r, int64_t start_us)
{
    if (r->o->quiet || !isatty(2))
        return;
    fprintf(stderr, "\r\033[K[%s %s] %s %.1f s  open %d/%d  delivered %llu/%llu",
            pl_bench_target_name(r->tg->kind), pl_bench_transport_name(r->t), r->phase,
            (double)(pl_clock_mono_us() - start_us) / 1e6, ready_count(r), r->o->subscribers,
            (unsigned long long)delivered_count(r), (unsigned long long)atomic_load(&r->expected));
}

static bool all_ready(run *r)
{
    command_all(r, CMD_READY, true);
    return ready_count(r) == r->o->subscribers && atomic_load(&r->pub_ready);
}

static bool all_delivered(run *r)
{
    command_all(r, CMD_READY, true);
    return atomic_load(&r->pub_finished) && delivered_count(r) >= atomic_load(&r->expected);
}

/* Sleeps in slices of at most 250 ms until `deadline_us` or done(r),
 * showing `phase`: the work runs on the workers' threads meanwhile. */
static void run_until(run *r, int64_t deadline_us, bool (*done)(run *r), const char *phase)
{
    int64_t start = pl_clock_mono_us();
    r->phase = phase;
    for (;;) {
        int64_t left = deadline_us - pl_clock_mono_us();
        if (left <= 0 || (done && done(r)))
            return;
        int64_t us = left > 250000 ? 250000 : left;
        nanosleep(&(struct timespec){us / 1000000, (long)(us % 1000000) * 1000}, NULL);
        progress(r, start);
    }
}

/* The server's own figures before (s0) and after (s1) the window. */
static void server_figures(run *r, bool have0, const pl_btarget_stats *s0)
{
    pl_bench_result *res = r->res;
    pl_btarget_stats s1;
    res->server_stats = have0 && pl_btarget_stats_get(r->tg, &r->o->tls, &s1) == 0;
    if (!res->server_stats)
        return;
    res->server_cpu_s = s1.cpu_s - s0->cpu_s;
    res->server_bytes_known = s1.have_bytes;
    res->server_bytes_out = s1.bytes_out[r->t] - s0->bytes_out[r->t];
    res->server_rss_before = s0->rss_bytes;
    res->server_rss_after = s1.rss_bytes;
    res->server_pss_after = s1.pss_known ? s1.pss_bytes : 0;
    res->server_processes = s1.processes;
}

/* The measured part: snapshot, publish the window, drain, snapshot. */
static void measure(run *r)
{
    pl_bench_result *res = r->res;
    pl_btarget_stats s0 = {0};
    bool have0 = pl_btarget_stats_get(r->tg, &r->o->tls, &s0) == 0;
    command_all(r, CMD_BASE, false);
    pl_cpu cpu0 = pl_clock_cpu(); /* the process: every lane and the publisher */
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
    command_all(r, CMD_FINISH, true);
    res->bench_cpu_sys_s = cpu1.sys_s - cpu0.sys_s;
    res->bench_cpu_s = cpu1.user_s - cpu0.user_s + res->bench_cpu_sys_s;
    server_figures(r, have0, &s0);
    res->published = r->published;
    res->publish_failed = r->publish_failed;
    res->expected = atomic_load(&r->expected);
    res->publisher_max_behind_us = r->pub_counts.max_behind_us;
    res->publish_retries = r->pub_counts.retried;
}

static int window(run *r)
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
    return 0;
}

/* The lanes, each with every n_lanes-th subscription, on their threads. */
static int start_lanes(run *r)
{
    if (!(r->lanes = calloc((size_t)r->n_lanes, sizeof *r->lanes)))
        return -ENOMEM;
    for (int k = 0; k < r->n_lanes; k++) {
        lane *l = &r->lanes[k];
        l->run = r;
        l->k = k;
        l->n = (r->o->subscribers - k + r->n_lanes - 1) / r->n_lanes;
        if (!(l->subs = calloc((size_t)(l->n ? l->n : 1), sizeof *l->subs)))
            return -ENOMEM;
    }
    for (int k = 0; k < r->n_lanes; k++) {
        int rc = pl_bworker_start(&r->lanes[k].w, &pl_lane_ops, &r->lanes[k], &r->o->tls);
        if (rc)
            return rc;
    }
    return 0;
}

static int script(run *r)
{
    int rc;
    if ((rc = make_rooms(r)) || (rc = make_text(r)) || (rc = window(r)))
        return rc;
    const char *base = r->tg->ws_url && r->t == PL_TRANSPORT_WS ? r->tg->ws_url : r->tg->url;
    if ((rc = pl_srcplan_init(&r->src, r->o, base)) != 0)
        return rc;
    r->fd_room = fd_room(r);
    if ((rc = pl_bworker_start(&r->pw, &pl_pub_lane_ops, r, &r->o->tls)) || (rc = start_lanes(r)))
        return rc;
    int64_t t0 = pl_clock_mono_us();
    run_until(r, pl_brun_open_deadline(r->o->subscribers), all_ready, "open");
    r->waited_s = (double)(pl_clock_mono_us() - t0) / 1e6;
    command_all(r, CMD_FAIL_UNREADY, true);
    r->res->opened = 0;
    for (int k = 0; k < r->n_lanes; k++)
        r->res->opened += atomic_load(&r->lanes[k].ready_seen);
    if (!atomic_load(&r->pub_ready))
        return -ENOTCONN;
    r->start_us = pl_clock_mono_us() + 10000;
    pl_bworker_post(&r->pw, CMD_START);
    pl_bworker_wait(&r->pw);
    run_until(r, pl_brun_snapshot_at(pl_bpub_intended(r->pub, r->warm_msgs)), NULL, "warmup");
    measure(r);
    return 0;
}

static void free_rooms(run *r)
{
    for (int i = 0; i < r->o->rooms; i++) {
        if (r->endpoints)
            free(r->endpoints[i]);
        if (r->post_urls)
            free(r->post_urls[i]);
    }
    free(r->endpoints);
    free(r->post_urls);
    free(r->rooms);
    free(r->room_names);
    free((void *)r->subs_in_room);
}

/* Stops every thread, then adds up what the lanes counted. */
static void teardown(run *r, bool measured)
{
    pl_bworker_stop(&r->pw);
    for (int k = 0; r->lanes && k < r->n_lanes; k++)
        pl_bworker_stop(&r->lanes[k].w);
    uint64_t foreign = 0;
    for (int k = 0; r->lanes && k < r->n_lanes; k++) {
        if (measured)
            pl_bench_result_add(r->res, &r->lanes[k].res);
        foreign += r->lanes[k].foreign;
    }
    if (r->lanes)
        pl_bsubs_report(r);
    pl_bench_result *res = r->res;
    res->lost = res->expected > res->delivered ? res->expected - res->delivered : 0;
    if (foreign)
        fprintf(stderr, "pushlab-bench: %llu deliveries without bench meta ignored\n",
                (unsigned long long)foreign);
    for (int k = 0; r->lanes && k < r->n_lanes; k++)
        free(r->lanes[k].subs);
    free(r->lanes);
    free_rooms(r);
    free(r->text);
    pthread_mutex_destroy(&r->src_mu);
}

int pl_bench_run(const pl_bench_opts *o, pl_transport t, const pl_btarget_addr *tg,
                 pl_bench_result *out)
{
    run r = {.o = o, .tg = tg, .t = t, .res = out, .dialect = pl_btarget_dialect(tg->kind)};
    memset(out, 0, sizeof *out);
    out->transport = t;
    out->target = tg->kind;
    out->subscribers = o->subscribers;
    out->threads = o->threads;
    r.n_lanes = o->threads > 0 ? o->threads : 1;
    pthread_mutex_init(&r.src_mu, NULL);
    int rc = script(&r);
    if (!o->quiet && isatty(2))
        fprintf(stderr, "\r\033[K");
    teardown(&r, rc == 0);
    return rc;
}
