/* Internals shared by scenario.c (the phases and the deliveries) and
 * bench_subs.c (opening the subscriptions: source addresses, the
 * descriptor limit, failures): one run's state. Not for other modules;
 * everything runs on the bench's one thread. */
#ifndef PL_BENCH_SCENARIO_INTERNAL_H
#define PL_BENCH_SCENARIO_INTERNAL_H
#include "client.h"
#include "failures.h"
#include "publisher.h"
#include "radio_sample.h"
#include "scenario.h"
#include "srcaddr.h"
#include "target.h"
#include "validate.h"

struct run;

/* One subscription and what it has received of the measured window. */
typedef struct bsub {
    pl_sub *sub; /* NULL once it failed */
    struct run *run;
    int room;
    int src; /* its source-address candidate, -1: none */
    bool open;
    bool failed;
    char why[160];    /* the last error before it opened */
    uint64_t last_id; /* highest server id seen: order is the server's */
    uint8_t *seen;    /* a bit per window index of this sub's room */
    pl_sub_counters base;
} bsub;

/* One transport's run: its loop, publisher, subscriptions and result. */
typedef struct run {
    const pl_bench_opts *o;
    const pl_btarget_addr *tg;
    pl_transport t;
    pl_loop *loop;
    pl_bpub *pub;
    pl_bradio *radio; /* the sampled subscriptions as phones */
    bsub *subs;
    int opened; /* reached OPEN */
    int ready;  /* OPEN, or its first request is on its way */
    int failed; /* could not open (counted in res->subscribers_failed) */
    int moved;  /* reopened from an address that ran out of ports */
    pl_srcplan src;
    pl_failures why;
    pl_sub_callbacks cb; /* scenario.c's on_message; on_state is bench_subs.c's */
    char (*rooms)[PL_ROOM_MAX + 1];
    const char **room_names;
    int *subs_in_room;
    char *text;
    uint64_t warm_msgs, total_msgs; /* window: seq warm_msgs .. total_msgs-1 */
    const char *phase;              /* for the progress line */
    size_t seen_bytes;              /* per subscription */
    uint64_t foreign;               /* deliveries without our meta */
    pl_bench_result *res;
} run;

/* How many subscriptions are watched as phones (--radio-sample). */
int pl_bsubs_radio_devices(const pl_bench_opts *o);

/* Opens every subscription of `r` (callbacks r->cb), each from the next
 * source address with room; those that cannot get a descriptor or an
 * address are failed at once. Returns 0 or a negative code. */
int pl_bsubs_open(run *r);

/* After the open phase: subscriptions not yet subscribed are failed, with
 * the last reason they were given (`waited_s`: how long they had). */
void pl_bsubs_fail_unready(run *r, double waited_s);

/* Says on stderr what the open phase could not do and keeps the source
 * addresses used in r->res. */
void pl_bsubs_report(run *r);

#endif
