/* `pushlab-bench overhead`: what one message costs on the wire per
 * transport, and what that makes at 1,000 / 10,000 / 100,000 clients each
 * receiving one message per second, from bytes measured on real
 * connections by a short run per transport. */
#ifndef PL_BENCH_OVERHEAD_H
#define PL_BENCH_OVERHEAD_H
#include "opts.h"
#include "scenario.h"

/* Runs the four short scenarios against `tg`, prints the table (and writes
 * --json/--csv of the runs when asked). Returns 0 or a negative code. */
int pl_bench_overhead(const pl_bench_opts *o, const pl_btarget_addr *tg);

#endif
