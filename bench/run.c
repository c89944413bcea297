/* The run skeleton; see run.h. Slices of the loop rather than one long
 * pl_loop_run so the caller's condition and progress line are checked
 * four times a second, never in a busy loop. */
#include "run.h"
#include "clock.h"

pl_brun_window pl_brun_window_of(const pl_bench_opts *o)
{
    pl_brun_window w;
    w.warm_msgs = (uint64_t)(o->warmup_s * o->rate + 0.5);
    w.total_msgs = w.warm_msgs + (uint64_t)(o->duration_s * o->rate + 0.5);
    if (w.total_msgs == w.warm_msgs && o->rate > 0)
        w.total_msgs++;
    return w;
}

pl_bpub_cfg pl_brun_publisher(const pl_bench_opts *o, pl_loop *l, const pl_btarget_addr *tg,
                              pl_brun_window w)
{
    return (pl_bpub_cfg){.loop = l,
                         .tls = &o->tls,
                         .url = tg->pub_url ? tg->pub_url : tg->url,
                         .ws_url = tg->pub_url ? tg->pub_ws : tg->ws_url,
                         .rate = o->rate,
                         .total = w.total_msgs,
                         .pause_at = w.warm_msgs,
                         .pause_us = PL_BRUN_PAUSE_US,
                         .over_ws = o->publish_over_ws};
}

int64_t pl_brun_open_deadline(int n) { return pl_clock_mono_us() + 30000000 + (int64_t)n * 2000; }

int64_t pl_brun_snapshot_at(int64_t window_us) { return window_us - PL_BRUN_PAUSE_US * 3 / 4; }

void pl_brun_until(pl_loop *l, int64_t deadline_us, bool (*done)(void *ud),
                   void (*progress)(void *ud, int64_t started_us), void *ud)
{
    int64_t start = pl_clock_mono_us();
    for (;;) {
        int64_t left = deadline_us - pl_clock_mono_us();
        if (left <= 0 || (done && done(ud)))
            return;
        pl_loop_run(l, (int)(left > 250000 ? 250 : (left + 999) / 1000));
        if (progress)
            progress(ud, start);
    }
}
