/* Internals shared by scenario.c (the phases, on the main thread),
 * pub_lane.c (the publisher's thread), lane.c (one subscriber thread: its loop, its share of the
 * subscriptions, the deliveries) and bench_subs.c (opening a lane's
 * subscriptions: source addresses, the descriptor limit, failures). Not
 * for other modules. A lane's fields are its thread's, except the
 * atomics the main thread reads; the run's are set before any thread
 * starts, except the atomics and the source plan (under src_mu). */
#ifndef PL_BENCH_SCENARIO_INTERNAL_H
#define PL_BENCH_SCENARIO_INTERNAL_H
#include <pthread.h>
#include <stdatomic.h>
#include "client.h"
#include "failures.h"
#include "publisher.h"
#include "radio_sample.h"
#include "scenario.h"
#include "srcaddr.h"
#include "target.h"
#include "validate.h"
#include "worker.h"

struct run;
struct lane;

/* One subscription and what it has received of the measured window. */
typedef struct bsub {
    pl_sub *sub; /* NULL once it failed */
    struct lane *lane;
    int idx; /* its number in the run: lane idx % lanes, at idx / lanes */
    int room;
    int src; /* its source-address candidate, -1: none */
    bool open;
    bool failed;
    char why[160];  /* the last error before it opened */
    uint64_t order; /* highest server id (pushlab) or seq + 1 (others) seen */
    uint8_t *seen;  /* a bit per window index of this sub's room */
    pl_sub_counters base;
} bsub;

/* One subscriber thread: its loop, its share of the subscriptions and
 * what they received. */
typedef struct lane {
    struct run *run;
    int k;
    pl_bworker w;
    pl_loop *loop;
    pl_bradio *radio; /* its sampled subscriptions as phones */
    /* lane.c's delivery counter, the subscriptions' on_message */
    void (*on_message)(pl_sub *s, const pl_client_msg *m, void *ud);
    bsub *subs;
    int n;
    int opened, ready, failed, moved;
    int started; /* subscriptions opened so far; the rest wait their turn */
    pl_failures why;
    pl_bench_result res;  /* its part: deliveries, counters, radio */
    uint64_t foreign;     /* deliveries without our meta */
    bool window_closed;   /* after FINISH nothing more is counted */
    double cpu0_s, cpu_s; /* its thread's CPU: at BASE, then over the window */
    atomic_int ready_seen, failed_seen;
    atomic_uint_fast64_t delivered_seen; /* delivered + duplicated, for the main thread */
} lane;

/* One transport's run. */
typedef struct run {
    const pl_bench_opts *o;
    const pl_btarget_addr *tg;
    pl_transport t;
    pl_dialect dialect;
    lane *lanes;
    int n_lanes;
    pl_srcplan src;
    pthread_mutex_t src_mu;
    int fd_room; /* subscriptions the descriptor limit leaves room for */
    char (*rooms)[PL_ROOM_MAX + 1];
    const char **room_names;
    char **endpoints; /* a foreign target's subscribe URL per room */
    char **post_urls; /* nchan's publish URL per room */
    atomic_int *subs_in_room;
    atomic_int named_failures; /* failures printed by number so far */
    char *text;
    uint64_t warm_msgs, total_msgs; /* window: seq warm_msgs .. total_msgs-1 */
    size_t seen_bytes;              /* per subscription */
    double waited_s;                /* the open phase, for its failures */
    /* The publisher, on a worker of its own. */
    pl_bworker pw;
    pl_bpub *pub;
    int64_t start_us;
    bool pub_frozen; /* after FINISH its outcomes count no more */
    pl_bpub_counts pub_counts;
    uint64_t published, publish_failed;
    atomic_uint_fast64_t expected;
    atomic_bool pub_ready, pub_finished;
    double pub_cpu0_s, pub_cpu_s;
    const char *phase;
    pl_bench_result *res;
} run;

/* Commands to the workers (worker.h). */
enum { CMD_READY = 1, CMD_FAIL_UNREADY, CMD_BASE, CMD_FINISH, CMD_START };

/* The lanes' table of operations (lane.c) and the publisher's (pub_lane.c). */
extern const pl_bworker_ops pl_lane_ops, pl_pub_lane_ops;

/* How many subscriptions are watched as phones (--radio-sample). */
int pl_bsubs_radio_devices(const pl_bench_opts *o);

/* Prepares every subscription of lane `l` and opens the first few; the
 * rest open from pl_bsubs_count_ready, at most --open-window on their way
 * at once over all lanes, each from the next source address with room; one that
 * cannot get a descriptor or an address fails at once. Returns 0 or a
 * negative code. */
int pl_bsubs_open(lane *l);

/* After the open phase: the lane's subscriptions not yet subscribed are
 * failed, with the last reason they were given. */
void pl_bsubs_fail_unready(lane *l);

/* Counts the lane's subscriptions that are in place (l->ready): OPEN, or
 * for long polling a first request on its way; then opens the next ones
 * the window has room for. */
void pl_bsubs_count_ready(lane *l);

/* Says on stderr what the open phase could not do (all lanes) and keeps
 * the source addresses used in r->res. Main thread, lanes idle. */
void pl_bsubs_report(run *r);

#endif
