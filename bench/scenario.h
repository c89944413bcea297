/* One measured run of one transport: open the subscriptions, publish on
 * schedule through a warm-up and a measured window, drain, and fill a
 * pl_bench_result. Everything runs on one client loop in this thread. */
#ifndef PL_BENCH_SCENARIO_H
#define PL_BENCH_SCENARIO_H
#include "opts.h"
#include "report.h"
#include "target.h"

/* Runs transport `t` with the parameters in `o` against `tg`, filling
 * *out (zeroed first). Returns 0 when the run completed (losses are
 * results, not errors), or a negative code when it could not run (no
 * memory, no loop, the publisher could not start). */
int pl_bench_run(const pl_bench_opts *o, pl_transport t, const pl_btarget_addr *tg,
                 pl_bench_result *out);

#endif
