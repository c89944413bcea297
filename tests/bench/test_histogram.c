/* Specification of common/histogram: percentiles agree with exact
 * nearest-rank percentiles of sorted samples within one bucket, merging
 * equals recording into one, and the edges (0, huge, empty) behave. */
#include "check.h"
#include "histogram.h"
#include <stdlib.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: a fixed seed keeps the samples the same on every run. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* Spread over 0..2^27 us with every magnitude equally likely, as latencies are. */
static uint64_t rng_latency(void)
{
    unsigned bits = (unsigned)(rng_next() % 28);
    return bits ? rng_next() % ((uint64_t)1 << bits) : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double pct)
{
    double want = pct / 100.0 * (double)n;
    size_t rank = (size_t)want;
    if ((double)rank < want)
        rank++;
    return sorted[rank ? rank - 1 : 0];
}

#define NSAMPLES 100000
static uint64_t samples[NSAMPLES];
static pl_hist h1, h2, h3;

TEST(percentiles_match_sorted_samples_within_bucket_precision)
{
    pl_hist_init(&h1);
    for (size_t i = 0; i < NSAMPLES; i++) {
        samples[i] = rng_latency();
        pl_hist_record(&h1, (int64_t)samples[i]);
    }
    qsort(samples, NSAMPLES, sizeof samples[0], cmp_u64);
    const double pcts[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
        uint64_t exact = exact_percentile(samples, NSAMPLES, pcts[i]);
        uint64_t got = pl_hist_percentile(&h1, pcts[i]);
        CHECK(got >= exact);
        CHECK(got - exact <= exact >> PL_HIST_SUB_BITS);
    }
    CHECK_EQ_INT(pl_hist_percentile(&h1, 100), samples[NSAMPLES - 1]);
}

TEST(values_below_128_us_are_exact)
{
    pl_hist_init(&h1);
    for (int v = 0; v < 128; v++)
        pl_hist_record(&h1, v);
    CHECK_EQ_INT(pl_hist_percentile(&h1, 50), 63);
    CHECK_EQ_INT(pl_hist_percentile(&h1, 1), 1);
    CHECK_EQ_INT(pl_hist_percentile(&h1, 100), 127);
}

TEST(mean_min_and_max_are_exact)
{
    pl_hist_init(&h1);
    pl_hist_record(&h1, 1000);
    pl_hist_record(&h1, 1001);
    pl_hist_record(&h1, 5003);
    CHECK(pl_hist_mean(&h1) == 7004.0 / 3.0);
    CHECK_EQ_INT(h1.min, 1000);
    CHECK_EQ_INT(h1.max, 5003);
    CHECK_EQ_INT(pl_hist_percentile(&h1, 100), 5003);
}

TEST(merge_equals_recording_everything_into_one)
{
    pl_hist_init(&h1);
    pl_hist_init(&h2);
    pl_hist_init(&h3);
    for (int i = 0; i < 10000; i++) {
        uint64_t v = rng_latency();
        pl_hist_record(i % 3 ? &h1 : &h2, (int64_t)v);
        pl_hist_record(&h3, (int64_t)v);
    }
    pl_hist_merge(&h1, &h2);
    CHECK_EQ_INT(h1.count, h3.count);
    CHECK_EQ_INT(h1.sum, h3.sum);
    CHECK_EQ_INT(h1.min, h3.min);
    CHECK_EQ_INT(h1.max, h3.max);
    CHECK(memcmp(h1.counts, h3.counts, sizeof h1.counts) == 0);
}

TEST(merging_an_empty_histogram_changes_nothing)
{
    pl_hist_init(&h1);
    pl_hist_init(&h2);
    pl_hist_record(&h1, 500);
    pl_hist_merge(&h1, &h2);
    CHECK_EQ_INT(h1.count, 1);
    CHECK_EQ_INT(h1.min, 500);
    pl_hist_merge(&h2, &h1);
    CHECK_EQ_INT(h2.min, 500);
    CHECK_EQ_INT(h2.max, 500);
}

TEST(empty_histogram_reports_zero)
{
    pl_hist_init(&h1);
    CHECK_EQ_INT(pl_hist_percentile(&h1, 50), 0);
    CHECK_EQ_INT(pl_hist_percentile(&h1, 100), 0);
    CHECK(pl_hist_mean(&h1) == 0.0);
}

TEST(zero_is_recorded_as_zero)
{
    pl_hist_init(&h1);
    pl_hist_record(&h1, 0);
    CHECK_EQ_INT(h1.counts[0], 1);
    CHECK_EQ_INT(pl_hist_percentile(&h1, 99.9), 0);
    CHECK_EQ_INT(h1.min, 0);
}

TEST(negative_value_counts_as_zero)
{
    pl_hist_init(&h1);
    pl_hist_record(&h1, -5);
    CHECK_EQ_INT(h1.counts[0], 1);
    CHECK_EQ_INT(h1.max, 0);
}

TEST(huge_value_lands_in_last_bucket_and_max_stays_exact)
{
    pl_hist_init(&h1);
    pl_hist_record(&h1, INT64_MAX);
    pl_hist_record(&h1, (int64_t)1 << PL_HIST_MAX_BITS);
    CHECK_EQ_INT(h1.counts[PL_HIST_BUCKETS - 1], 2);
    CHECK_EQ_INT(h1.max, INT64_MAX);
    CHECK_EQ_INT(pl_hist_percentile(&h1, 100), INT64_MAX);
}

TEST(bucket_bounds_tile_the_range_without_gaps)
{
    for (size_t i = 0; i + 1 < PL_HIST_BUCKETS; i++) {
        uint64_t up = pl_hist_bucket_upper(i);
        CHECK_EQ_INT(pl_hist_index(up), i);
        CHECK_EQ_INT(pl_hist_index(up + 1), i + 1);
    }
    CHECK(pl_hist_bucket_upper(PL_HIST_BUCKETS - 1) == UINT64_MAX);
}

int main(void)
{
    RUN(percentiles_match_sorted_samples_within_bucket_precision);
    RUN(values_below_128_us_are_exact);
    RUN(mean_min_and_max_are_exact);
    RUN(merge_equals_recording_everything_into_one);
    RUN(merging_an_empty_histogram_changes_nothing);
    RUN(empty_histogram_reports_zero);
    RUN(zero_is_recorded_as_zero);
    RUN(negative_value_counts_as_zero);
    RUN(huge_value_lands_in_last_bucket_and_max_stays_exact);
    RUN(bucket_bounds_tile_the_range_without_gaps);
    return CHECK_DONE();
}
