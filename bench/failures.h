/* Why subscriptions could not open: distinct reasons with their counts,
 * so thousands of failures print as a few lines instead of thousands, and
 * none is left out. Plain data, used from the bench's thread. */
#ifndef PL_BENCH_FAILURES_H
#define PL_BENCH_FAILURES_H
#include <stdint.h>
#include <stdio.h>

#define PL_FAIL_REASONS 16

typedef struct pl_failures {
    char reason[PL_FAIL_REASONS][192];
    uint64_t count[PL_FAIL_REASONS];
    int n;
    uint64_t total;
} pl_failures;

/* Counts one failure for `reason` (the 16th distinct one and later are
 * counted under "other reasons"). */
void pl_failures_add(pl_failures *f, const char *reason);

/* Adds every count of `src` into `dst` (one lane's into the run's). */
void pl_failures_merge(pl_failures *dst, const pl_failures *src);

/* One line per reason: "pushlab-bench: <what>: N subscriptions could not
 * open: <reason>". Nothing when there was no failure. */
void pl_failures_print(const pl_failures *f, FILE *out, const char *what);

#endif
