/* A high-dynamic-range latency histogram: log-linear buckets over
 * microseconds, exact below 128 us and within 1/128 (0.8 %) relative error
 * above, up to about 71 minutes. Fixed size, no allocation, mergeable by
 * adding counts; not thread-safe (one per thread, merge afterwards). */
#ifndef PL_HISTOGRAM_H
#define PL_HISTOGRAM_H
#include <stddef.h>
#include <stdint.h>

/* Each power of two is split into 2^PL_HIST_SUB_BITS linear buckets. */
#define PL_HIST_SUB_BITS 7
/* Values at or above 2^PL_HIST_MAX_BITS land in the last bucket; `max`
 * still holds them exactly. */
#define PL_HIST_MAX_BITS 32
#define PL_HIST_BUCKETS  ((PL_HIST_MAX_BITS - PL_HIST_SUB_BITS + 1) << PL_HIST_SUB_BITS)

typedef struct pl_hist {
    uint64_t count;
    uint64_t sum; /* of recorded values, for the mean */
    uint64_t min, max;
    uint64_t counts[PL_HIST_BUCKETS];
} pl_hist;

/* Empties `h`. A zeroed pl_hist is also a valid empty histogram. */
void pl_hist_init(pl_hist *h);

/* Records one value in microseconds. Negative values (a clock step) count
 * as 0; values past the range go to the last bucket. Never fails. */
void pl_hist_record(pl_hist *h, int64_t us);

/* Adds every count of `src` into `dst`, as if all of src's values had been
 * recorded into dst. */
void pl_hist_merge(pl_hist *dst, const pl_hist *src);

/* The value at or below which `pct` percent (0..100) of the recorded values
 * lie: the highest value of the bucket holding that rank, never above the
 * exact max. So the answer is >= the exact percentile and within one bucket
 * width (< 1/128 of it) above. Returns 0 for an empty histogram. */
uint64_t pl_hist_percentile(const pl_hist *h, double pct);

/* The exact mean of the recorded values, 0 when empty. */
double pl_hist_mean(const pl_hist *h);

/* Bucket geometry, for printing: the index a value falls in, and the
 * highest value bucket `i` holds (the last bucket's is UINT64_MAX). */
size_t pl_hist_index(uint64_t us);
uint64_t pl_hist_bucket_upper(size_t i);

#endif
