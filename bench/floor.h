/* `pushlab-bench floor`: the least CPU any subscriber can spend per
 * delivery on this machine and kernel, to read the bench's own cpu_us/d
 * against. Same publisher and schedule as a scenario; the subscribers are
 * bare SSE sockets that only recv() and count events. */
#ifndef PL_BENCH_FLOOR_H
#define PL_BENCH_FLOOR_H
#include "opts.h"
#include "scenario.h"

/* Runs it against `tg` with --subscribers/--rate/--duration/--warmup/
 * --size (one room), prints a table row and writes --json when asked.
 * Returns 0 when it ran (a shortfall is a result), or a negative code. */
int pl_bench_floor(const pl_bench_opts *o, const pl_btarget_addr *tg);

#endif
