/* One subscriber thread (a lane): its loop and share of the
 * subscriptions (opened by bench_subs.c), the deliveries counted as they
 * come, and the commands of the main thread (scenario.c): readiness, the
 * window's two snapshots. Runs on the lane's own thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "meta.h"
#include "scenario_internal.h"

/* The bench's meta of a delivered message: pushlab's (its text from a
 * lean subscription, the parsed object when the scan could not read a
 * message and the full parse did), or the one inside a foreign server's body, which is our publish
 * JSON verbatim. Returns 0 or -EINVAL. */
static int meta_of(const run *r, const pl_client_msg *m, pl_meta *out)
{
    if (r->dialect != PL_DIALECT_PUSHLAB)
        return pl_meta_scan_body(m->text, m->text_len, out);
    if (m->meta_raw)
        return pl_meta_scan(m->meta_raw, m->meta_raw_len, out);
    return pl_meta_parse(m->meta, out);
}

static void on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    bsub *b = ud;
    lane *l = b->lane;
    run *r = l->run;
    /* When the loop woke for it, not when its turn came among the sockets
     * ready together: the bench's own parsing stays out of the latency. */
    int64_t now = pl_loop_wake_us(l->loop);
    pl_meta mt;
    (void)s;
    if (l->window_closed)
        return;
    if (meta_of(r, m, &mt) != 0 || mt.seq % (uint64_t)r->o->rooms != (uint64_t)b->room) {
        l->foreign++;
        return;
    }
    if (mt.seq < r->warm_msgs || mt.seq >= r->total_msgs)
        return; /* warm-up traffic */
    uint64_t idx = (mt.seq - r->warm_msgs) / (uint64_t)r->o->rooms;
    uint8_t bit = (uint8_t)(1u << (idx & 7));
    if (b->seen[idx >> 3] & bit) {
        l->res.duplicated++;
    } else {
        b->seen[idx >> 3] |= bit;
        l->res.delivered++;
        /* pushlab's room ids say the order it stored them in (concurrent
         * publishes may be stored in another order than sent); another
         * server's are not ours to see on every transport, so there the
         * publisher's order is the measure. */
        uint64_t order = r->dialect == PL_DIALECT_PUSHLAB ? m->id : mt.seq + 1;
        if (order < b->order)
            l->res.out_of_order++;
        else
            b->order = order;
        pl_hist_record(&l->res.latency, now - mt.sent_us);
        pl_hist_record(&l->res.latency_intended, now - mt.intended_us);
    }
    atomic_store_explicit(&l->delivered_seen, l->res.delivered + l->res.duplicated,
                          memory_order_relaxed);
}

/* Adds the subscriptions' counter deltas since their base into res. */
static void counter_deltas(lane *l, bool set_base)
{
    pl_bench_result *res = &l->res;
    for (int j = 0; j < l->n; j++) {
        bsub *b = &l->subs[j];
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

static void command(void *ud, int cmd)
{
    lane *l = ud;
    switch (cmd) {
    case CMD_READY: pl_bsubs_count_ready(l); break;
    case CMD_FAIL_UNREADY:
        pl_bsubs_fail_unready(l);
        pl_bsubs_count_ready(l);
        break;
    case CMD_BASE:
        counter_deltas(l, true);
        l->cpu0_s = pl_clock_thread_cpu_s();
        break;
    case CMD_FINISH:
        l->window_closed = true;
        l->cpu_s = pl_clock_thread_cpu_s() - l->cpu0_s;
        l->res.busiest_lane_cpu_s = l->cpu_s;
        pl_bradio_finish(l->radio, &l->res.radio);
        counter_deltas(l, false);
        break;
    default: break;
    }
}

static int setup(void *ud, pl_loop *loop)
{
    lane *l = ud;
    run *r = l->run;
    l->loop = loop;
    l->on_message = on_message;
    l->res.transport = r->t;
    int rc = pl_bradio_new(loop, pl_bsubs_radio_devices(r->o), &l->radio);
    return rc ? rc : pl_bsubs_open(l);
}

static void teardown(void *ud)
{
    lane *l = ud;
    pl_bradio_free(l->radio);
    l->radio = NULL;
    for (int j = 0; j < l->n; j++) {
        pl_sub_close(l->subs[j].sub);
        l->subs[j].sub = NULL;
        free(l->subs[j].seen);
        l->subs[j].seen = NULL;
    }
}

const pl_bworker_ops pl_lane_ops = {.setup = setup, .command = command, .teardown = teardown};
