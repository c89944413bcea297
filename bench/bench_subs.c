/* Opening a run's subscriptions; see scenario_internal.h. Each takes a
 * source address from the plan (srcaddr.h) and the descriptor limit's
 * room; one whose address the kernel refuses moves to the next; one that
 * cannot open is counted as failed, with its reason, and closed. */
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

static int open_one(run *r, bsub *b);

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
static void watch_radio(run *r, bsub *b)
{
    int k = radio_device(r, (int)(b - r->subs));
    if (k >= 0)
        pl_bradio_watch(r->radio, k, b->sub);
}

/* A subscription that cannot open: counted, its place in the room's
 * expected deliveries given up, closed. Safe inside its own callback. */
static void sub_failed(bsub *b, const char *why)
{
    run *r = b->run;
    if (b->failed)
        return;
    b->failed = true;
    r->failed++;
    r->res->subscribers_failed++;
    r->subs_in_room[b->room]--;
    pl_failures_add(&r->why, why);
    if (r->why.total <= 3) /* the first few by name, the rest in the summary */
        fprintf(stderr, "pushlab-bench: %s: subscription %d could not open: %s\n",
                pl_bench_transport_name(r->t), (int)(b - r->subs), why);
    pl_srcplan_release(&r->src, b->src);
    if (b->open)
        r->opened--;
    b->open = false;
    pl_sub_close(b->sub);
    b->sub = NULL;
    watch_radio(r, b);
}

/* The kernel has no port left on this subscription's address: retire
 * the address and open the subscription again from the next one. */
static void move_off(bsub *b, const pl_client_err *err)
{
    run *r = b->run;
    pl_src *from = &r->src.a[b->src];
    char why[200];
    if (!from->full) {
        pl_srcplan_full(&r->src, b->src, err->message);
        fprintf(stderr,
                "pushlab-bench: %s: source address %s refused (%s: no port left, or not local); "
                "moving on\n",
                pl_bench_transport_name(r->t), from->addr, strerror(-err->rc));
    }
    snprintf(why, sizeof why, "no source address left (last: %s: %.120s)", from->addr,
             err->message);
    pl_srcplan_release(&r->src, b->src);
    pl_sub_close(b->sub);
    b->sub = NULL;
    int rc = open_one(r, b);
    if (rc)
        sub_failed(b, rc == -EADDRNOTAVAIL ? why : strerror(-rc));
    else
        r->moved++;
}

static void on_state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *err,
                     void *ud)
{
    bsub *b = ud;
    (void)s, (void)detail;
    if (st == PL_SUB_OPEN && !b->open) {
        b->open = true;
        b->run->opened++;
    } else if (st == PL_SUB_RESTARTED) {
        /* A new server numbers from 1 again: not out of order. */
        b->last_id = 0;
        b->run->res->restarts++;
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
static int open_one(run *r, bsub *b)
{
    const pl_bench_opts *o = r->o;
    if ((b->src = pl_srcplan_take(&r->src)) < 0)
        return -EADDRNOTAVAIL;
    const pl_btarget_addr *tg = r->tg;
    int node = tg->n_nodes > 1 ? (int)(b - r->subs) % tg->n_nodes : 0;
    pl_sub_opts so = {.transport = r->t,
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
                      .own_connections = radio_device(r, (int)(b - r->subs)) >= 0,
                      .max_fails = SUB_MAX_FAILS,
                      .source_addr = pl_srcplan_addr(&r->src, b->src),
                      .cb = {.on_message = r->cb.on_message, .on_state = on_state},
                      .ud = b};
    int rc = pl_sub_open(r->loop, &so, &b->sub);
    if (rc)
        pl_srcplan_release(&r->src, b->src);
    else
        watch_radio(r, b);
    return rc;
}

/* Subscriptions the descriptor limit leaves room for: one socket each,
 * two descriptors per 64 (a libcurl multi handle's wake-up pair), and
 * some kept for the publisher, the stats requests, the loop and stdio. */
static int fd_room(const run *r)
{
    struct rlimit rl;
    long keep = 2L * r->o->rooms + 64, n = r->o->subscribers;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return (int)n;
    long room = ((long)rl.rlim_cur - keep) * 64 / 66;
    return room < n ? (int)(room > 0 ? room : 0) : (int)n;
}

int pl_bsubs_open(run *r)
{
    int rc = pl_srcplan_init(&r->src, r->o,
                             r->tg->ws_url && r->t == PL_TRANSPORT_WS ? r->tg->ws_url : r->tg->url);
    int room = fd_room(r);
    for (int i = 0; rc == 0 && i < r->o->subscribers; i++) {
        bsub *b = &r->subs[i];
        b->run = r;
        b->room = i % r->o->rooms;
        b->src = -1;
        if (!(b->seen = calloc(1, r->seen_bytes)))
            return -ENOMEM;
        if (i >= room) /* a publisher without a descriptor would fail them all */
            sub_failed(b, "no file descriptor left for it (RLIMIT_NOFILE; raise ulimit -n)");
        else if ((rc = open_one(r, b)) == -EADDRNOTAVAIL) {
            sub_failed(b, "no source address has a free port left (ports in use counted from "
                          "/proc/net/tcp, TIME_WAIT included)");
            rc = 0;
        }
    }
    return rc;
}

/* After the open phase: whatever has not even sent its first request is
 * a subscription that could not open, with the last reason it was given. */
void pl_bsubs_fail_unready(run *r, double waited_s)
{
    char why[200];
    for (int i = 0; i < r->o->subscribers; i++) {
        bsub *b = &r->subs[i];
        pl_sub_counters c;
        if (b->open || !b->sub)
            continue;
        pl_sub_counters_get(b->sub, &c);
        if (c.http_requests > 0)
            continue;
        snprintf(why, sizeof why, "not connected after %.0f s%s%s", waited_s, b->why[0] ? ": " : "",
                 b->why);
        sub_failed(b, why);
    }
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
    if (!r->o->quiet && isatty(2) && (r->failed || r->moved))
        fprintf(stderr, "\n");
    if (r->moved)
        fprintf(stderr, "pushlab-bench: %s: %d subscription%s moved to another source address\n", t,
                r->moved, r->moved == 1 ? "" : "s");
    pl_failures_print(&r->why, stderr, t);
    if (r->failed)
        fprintf(stderr, "pushlab-bench: %s: %d of %d subscriptions could not open\n", t, r->failed,
                r->o->subscribers);
}

void pl_bsubs_report(run *r)
{
    report_open(r);
    keep_sources(r);
}
