/* The publisher's thread (a worker of its own, worker.h): its loop runs
 * publisher.c for the run, each outcome is counted here, and the main
 * thread's commands (scenario.c) ask whether it can send and has
 * finished, start its schedule and freeze its counts. Runs on its own
 * thread only; the main thread reads the run's fields it writes after a
 * command it waited for, and `expected` (an atomic) at any time. */
#include "run.h"
#include "scenario_internal.h"

static void on_published(void *ud, uint64_t seq, bool ok)
{
    run *r = ud;
    if (seq < r->warm_msgs || r->pub_frozen)
        return;
    if (!ok) {
        r->publish_failed++;
        return;
    }
    r->published++;
    atomic_fetch_add(&r->expected,
                     (uint64_t)atomic_load(&r->subs_in_room[seq % (uint64_t)r->o->rooms]));
}

static int setup(void *ud, pl_loop *loop)
{
    run *r = ud;
    const pl_bench_opts *o = r->o;
    pl_brun_window w = {.warm_msgs = r->warm_msgs, .total_msgs = r->total_msgs};
    pl_bpub_cfg pc = pl_brun_publisher(o, loop, r->tg, w);
    pc.rooms = r->room_names;
    pc.n_rooms = o->rooms;
    pc.text = r->text;
    pc.on_done = on_published;
    pc.ud = r;
    if (r->dialect == PL_DIALECT_NCHAN)
        pc.post_urls = (const char *const *)r->post_urls;
    else if (r->dialect == PL_DIALECT_RELAY)
        pc.relay_url = r->endpoints[0];
    return pl_bpub_new(&pc, &r->pub);
}

static void command(void *ud, int cmd)
{
    run *r = ud;
    switch (cmd) {
    case CMD_READY:
    case CMD_FAIL_UNREADY:
        atomic_store(&r->pub_ready, pl_bpub_ready(r->pub));
        atomic_store(&r->pub_finished, pl_bpub_finished(r->pub));
        break;
    case CMD_START: pl_bpub_start(r->pub, r->start_us); break;
    case CMD_FINISH:
        r->pub_frozen = true;
        r->pub_counts = pl_bpub_counts_get(r->pub);
        break;
    default: break;
    }
}

static void teardown(void *ud)
{
    run *r = ud;
    pl_bpub_free(r->pub);
    r->pub = NULL;
}

const pl_bworker_ops pl_pub_lane_ops = {.setup = setup, .command = command, .teardown = teardown};
