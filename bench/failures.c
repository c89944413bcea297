/* The failure tally; see failures.h. Fills the caller's pl_failures;
 * owns no memory and touches nothing else. */
#include "failures.h"
#include <stdio.h>
#include <string.h>

/* Counts `n` failures for `reason`. */
static void add_n(pl_failures *f, const char *reason, uint64_t n)
{
    int i = 0;
    while (i < f->n && strcmp(f->reason[i], reason) != 0)
        i++;
    if (i == f->n && f->n < PL_FAIL_REASONS) {
        /* The last slot gathers everything past the first 15 reasons. */
        snprintf(f->reason[i], sizeof f->reason[i], "%s",
                 i == PL_FAIL_REASONS - 1 ? "other reasons" : reason);
        f->n++;
    }
    f->count[i < PL_FAIL_REASONS ? i : PL_FAIL_REASONS - 1] += n;
    f->total += n;
}

void pl_failures_add(pl_failures *f, const char *reason) { add_n(f, reason, 1); }

void pl_failures_merge(pl_failures *dst, const pl_failures *src)
{
    for (int i = 0; i < src->n; i++)
        add_n(dst, src->reason[i], src->count[i]);
}

void pl_failures_print(const pl_failures *f, FILE *out, const char *what)
{
    for (int i = 0; i < f->n; i++)
        fprintf(out, "pushlab-bench: %s: %llu subscription%s could not open: %s\n", what,
                (unsigned long long)f->count[i], f->count[i] == 1 ? "" : "s", f->reason[i]);
}
