/* `pushlab-bench merge A.json B.json ... --json OUT`: runs taken at the
 * same time by several bench processes or machines, as one report. Per
 * target and transport the counts add up and the histograms merge (the
 * percentiles are read from the merged histogram); the bench's CPU adds,
 * its window is the longest. Each part's environment and parameters are
 * kept under "parts", and "warnings" says what the merge cannot vouch
 * for: latency across machines needs their clocks in step, and one
 * server seen by several parts has its own figures counted once per part
 * (the merged server figures are null). Main thread, no loop. */
#ifndef PL_BENCH_MERGE_H
#define PL_BENCH_MERGE_H
#include "opts.h"

/* Reads o->merge_in, writes o->json_path and prints the table. Returns 0,
 * or a negative code after one stderr line naming the file at fault. */
int pl_bench_merge(const pl_bench_opts *o);

#endif
