/* Opening a lane's subscriptions; see scenario_internal.h. Each takes a
 * source address from the run's plan (srcaddr.h, shared by the lanes under
 * its mutex) and the descriptor limit's room; one whose address the kernel
 * refuses moves to the next; one that cannot open is counted as failed,
 * with its reason, and closed. Runs on the lane's thread, but for
 * pl_bsubs_report (main thread). */
#include "scenario_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Refusals in a row (no connection, or a 429/5xx) before a subscription
 * counts as failed; a cut connection is always retried. */
#define SUB_MAX_FAILS 5

static int open_one(lane *l, bsub *b);

static int plan_take(run *r)
{
    pthread_mutex_lock(&r->src_mu);
    int i = pl_srcplan_take(&r->src);
    pthread_mutex_unlock(&r->src_mu);
    return i;
}

static const char *plan_why_none(run *r, char *out, size_t len)
{
    pthread_mutex_lock(&r->src_mu);
    pl_srcplan_why_none(&r->src, out, len);
    pthread_mutex_unlock(&r->src_mu);
    return out;
}

static void plan_release(run *r, int i)
{
    pthread_mutex_lock(&r->src_mu);
    pl_srcplan_release(&r->src, i);
    pthread_mutex_unlock(&r->src_mu);
}

int pl_bsubs_radio_devices(const pl_bench_opts *o)
{
    return o->radio_sample < o->subscribers ? o->radio_sample : o->subscribers;
}

/* Subscription i is sampled phone k when it is one of radio_sample spread
 * evenly over the subscribers; -1 when it is not one. */
static int radio_device(const run *r, int i)
{
    int n = pl_bsubs_radio_devices(r->o), subs = r->o->subscribers;
    for (int k = 0; k < n; k++)
        if ((int)((int64_t)k * subs / n) == i)
            return k;
    return -1;
}

/* Watches subscription `b` as its phone (again, after a move), or stops
 * watching it once it failed. */
static void watch_radio(lane *l, bsub *b)
{
    int k = radio_device(l->run, b->idx);
    if (k >= 0)
        pl_bradio_watch(l->radio, k, b->sub);
}

/* A subscription that cannot open: counted, its place in the room's
 * expected deliveries given up, closed. Safe inside its own callback. */
static void sub_failed(bsub *b, const char *why)
{
    lane *l = b->lane;
    run *r = l->run;
    if (b->failed)
        return;
    b->failed = true;
    l->failed++;
    atomic_store(&l->failed_seen, l->failed);
    l->res.subscribers_failed++;
    atomic_fetch_sub(&r->subs_in_room[b->room], 1);
    pl_failures_add(&l->why, why);
    if (atomic_fetch_add(&r->named_failures, 1) < 3) /* the first few by name */
        fprintf(stderr, "pushlab-bench: %s: subscription %d could not open: %s\n",
                pl_bench_transport_name(r->t), b->idx, why);
    plan_release(r, b->src);
    if (b->open)
        l->opened--;
    b->open = false;
    pl_sub_close(b->sub);
    b->sub = NULL;
    watch_radio(l, b);
}

/* The kernel has no port left on this subscription's address: retire
 * the address and open the subscription again from the next one. */
static void move_off(bsub *b, const pl_client_err *err)
{
    lane *l = b->lane;
    run *r = l->run;
    char why[200], addr[16];
    pthread_mutex_lock(&r->src_mu);
    pl_src *from = &r->src.a[b->src];
    bool first = !from->full;
    snprintf(addr, sizeof addr, "%s", from->addr);
    if (first)
        pl_srcplan_full(&r->src, b->src, err->message);
    pl_srcplan_release(&r->src, b->src);
    pl_srcplan_why_none(&r->src, why, sizeof why);
    pthread_mutex_unlock(&r->src_mu);
    if (first)
        fprintf(stderr,
                "pushlab-bench: %s: source address %s refused (%s: no port left, or not local); "
                "moving on\n",
                pl_bench_transport_name(r->t), addr, strerror(-err->rc));
    pl_sub_close(b->sub);
    b->sub = NULL;
    int rc = open_one(l, b);
    if (rc)
        sub_failed(b, rc == -EADDRNOTAVAIL ? why : strerror(-rc));
    else
        l->moved++;
}

static void on_state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *err,
                     void *ud)
{
    bsub *b = ud;
    (void)s, (void)detail;
    if (st == PL_SUB_OPEN && !b->open) {
        b->open = true;
        b->lane->opened++;
    } else if (st == PL_SUB_RESTARTED) {
        /* A new server numbers from 1 again: not out of order. */
        b->order = 0;
        b->lane->res.restarts++;
    } else if (!b->open && err && pl_srcaddr_exhausted(err->rc) && b->src >= 0 &&
               (st == PL_SUB_RECONNECTING || st == PL_SUB_FAILED)) {
        move_off(b, err);
    } else if (st == PL_SUB_RECONNECTING && err && !b->open) {
        snprintf(b->why, sizeof b->why, "%.159s", err->message);
    } else if (st == PL_SUB_FAILED) {
        sub_failed(b, err ? err->message : "failed");
    }
}

/* Opens subscription `b` from the next source address with room.
 * Returns 0, -EADDRNOTAVAIL when no address has room, or pl_sub_open's. */
static int open_one(lane *l, bsub *b)
{
    run *r = l->run;
    const pl_bench_opts *o = r->o;
    if ((b->src = plan_take(r)) < 0)
        return -EADDRNOTAVAIL;
    const pl_btarget_addr *tg = r->tg;
    int node = tg->n_nodes > 1 ? b->idx % tg->n_nodes : 0;
    pl_sub_opts so = {.transport = r->t,
                      .dialect = r->dialect,
                      .endpoint = r->endpoints ? r->endpoints[b->room] : NULL,
                      .url = node ? tg->node_url[node] : tg->url,
                      .ws_url = node ? tg->node_ws[node] : tg->ws_url,
                      .room = r->room_names[b->room],
                      /* Our rooms are new and empty until every sub is open, so
                       * 0 means "new only" without a probe request (and its
                       * idle keep-alive socket) per subscription. */
                      .since = 0,
                      .interval_ms = o->poll_interval_ms,
                      .heartbeat_s = o->heartbeat_s,
                      .ping_s = o->client_ping_s < 0    ? 0
                                : o->client_ping_s == 0 ? -1
                                                        : o->client_ping_s,
                      .own_connections = radio_device(r, b->idx) >= 0,
                      .max_fails = SUB_MAX_FAILS,
                      .lean = true, /* id and meta are all it reads */
                      .cb = {.on_message = l->on_message, .on_state = on_state},
                      .ud = b};
    char addr[16];
    pthread_mutex_lock(&r->src_mu);
    const char *a = pl_srcplan_addr(&r->src, b->src);
    snprintf(addr, sizeof addr, "%s", a ? a : "");
    pthread_mutex_unlock(&r->src_mu);
    so.source_addr = addr[0] ? addr : NULL;
    int rc = pl_sub_open(l->loop, &so, &b->sub);
    if (rc)
        plan_release(r, b->src);
    else
        watch_radio(l, b);
    return rc;
}

/* Subscribed: OPEN, or for a long poll (OPEN only after its first
 * answer) its first request sent. Every subscription asks from id 0 in a
 * room still empty, so none can miss a message then. The others are OPEN
 * at once (their first bytes); a request they made is no sign (after a
 * refusal it is the restart probe, over HTTP). */
static bool sub_ready(const lane *l, const bsub *b)
{
    pl_sub_counters c;
    if (b->open || !b->sub)
        return b->open;
    if (l->run->t != PL_TRANSPORT_LONG_POLL)
        return false;
    pl_sub_counters_get(b->sub, &c);
    return c.http_requests > 0;
}

/* Opens the lane's next subscriptions while fewer than its share of
 * --open-window are on their way (not yet subscribed); one without a
 * descriptor or a source address fails at once. l->ready must be
 * current. Opened all at once, thousands of handshakes queue behind each
 * other in the server's accept queue and our loop, past libwebsockets'
 * timeouts, and every retry is one more socket. */
static void pump(lane *l)
{
    run *r = l->run;
    char why[200];
    int window = r->o->open_window / r->n_lanes > 0 ? r->o->open_window / r->n_lanes : 1;
    while (l->started < l->n && l->started - l->ready - l->failed < window) {
        bsub *b = &l->subs[l->started++];
        int rc = b->idx >= r->fd_room ? -EMFILE : open_one(l, b);
        if (rc == -EMFILE) /* a publisher without a descriptor would fail them all */
            sub_failed(b, "no file descriptor left for it (RLIMIT_NOFILE; raise ulimit -n)");
        else if (rc == -EADDRNOTAVAIL)
            sub_failed(b, plan_why_none(r, why, sizeof why));
        else if (rc)
            sub_failed(b, strerror(-rc));
    }
}

int pl_bsubs_open(lane *l)
{
    run *r = l->run;
    for (int j = 0; j < l->n; j++) {
        bsub *b = &l->subs[j];
        b->lane = l;
        b->idx = j * r->n_lanes + l->k;
        b->room = b->idx % r->o->rooms;
        b->src = -1;
        if (!(b->seen = calloc(1, r->seen_bytes)))
            return -ENOMEM;
    }
    pump(l);
    return 0;
}

/* After the open phase: whatever is not subscribed yet could not open,
 * with the last reason it was given. */
void pl_bsubs_fail_unready(lane *l)
{
    char why[200];
    for (int j = 0; j < l->n; j++) {
        bsub *b = &l->subs[j];
        if (b->failed || sub_ready(l, b))
            continue;
        if (j >= l->started)
            snprintf(why, sizeof why, "the open phase ended (%.0f s) before its turn",
                     l->run->waited_s);
        else
            snprintf(why, sizeof why, "not connected after %.0f s%s%s", l->run->waited_s,
                     b->why[0] ? ": " : "", b->why);
        sub_failed(b, why);
    }
    l->started = l->n;
}

void pl_bsubs_count_ready(lane *l)
{
    l->ready = 0;
    for (int j = 0; j < l->started; j++)
        l->ready += sub_ready(l, &l->subs[j]);
    pump(l);
    atomic_store(&l->ready_seen, l->ready);
}

/* The plan as it stood after the open phase, for the report. */
static void keep_sources(run *r)
{
    pl_bench_result *res = r->res;
    for (int i = 0; i < r->src.n && res->n_src < (int)(sizeof res->src / sizeof res->src[0]); i++) {
        const pl_src *a = &r->src.a[i];
        if (!a->assigned && !a->full)
            continue;
        snprintf(res->src[res->n_src].addr, sizeof res->src[0].addr, "%s", a->addr);
        res->src[res->n_src].free_ports = a->free_ports;
        res->src[res->n_src].subscribers = a->assigned;
        res->src[res->n_src++].refused = a->full;
    }
}

/* What the open phase could not do, in a few lines. */
static void report_open(const run *r)
{
    const char *t = pl_bench_transport_name(r->t);
    pl_failures why = {0};
    int failed = 0, moved = 0;
    for (int k = 0; k < r->n_lanes; k++) {
        pl_failures_merge(&why, &r->lanes[k].why);
        failed += r->lanes[k].failed;
        moved += r->lanes[k].moved;
    }
    if (!r->o->quiet && isatty(2) && (failed || moved))
        fprintf(stderr, "\n");
    if (moved)
        fprintf(stderr, "pushlab-bench: %s: %d subscription%s moved to another source address\n", t,
                moved, moved == 1 ? "" : "s");
    pl_failures_print(&why, stderr, t);
    if (failed)
        fprintf(stderr, "pushlab-bench: %s: %d of %d subscriptions could not open\n", t, failed,
                r->o->subscribers);
}

void pl_bsubs_report(run *r)
{
    report_open(r);
    keep_sources(r);
}
