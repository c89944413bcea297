/* Log-linear histogram; see histogram.h. A value's bucket is its power of
 * two (the group) plus its top PL_HIST_SUB_BITS bits below the leading one,
 * which is what bounds the relative error by 2^-PL_HIST_SUB_BITS. */
#include "histogram.h"
#include <string.h>

#define SUB_COUNT ((uint64_t)1 << PL_HIST_SUB_BITS)

void pl_hist_init(pl_hist *h) { memset(h, 0, sizeof *h); }

size_t pl_hist_index(uint64_t us)
{
    if (us < SUB_COUNT)
        return (size_t)us;
    if (us >> PL_HIST_MAX_BITS)
        return PL_HIST_BUCKETS - 1;
    unsigned msb = 63u - (unsigned)__builtin_clzll(us);
    unsigned shift = msb - PL_HIST_SUB_BITS;
    /* Group g = shift + 1 holds [2^msb, 2^(msb+1)) in SUB_COUNT steps of
     * 2^shift; group 0 is the exact range below SUB_COUNT. */
    return (size_t)(((uint64_t)(shift + 1) << PL_HIST_SUB_BITS) + ((us >> shift) - SUB_COUNT));
}

uint64_t pl_hist_bucket_upper(size_t i)
{
    if (i >= PL_HIST_BUCKETS - 1)
        return UINT64_MAX;
    if (i < SUB_COUNT)
        return i;
    unsigned shift = (unsigned)(i >> PL_HIST_SUB_BITS) - 1;
    uint64_t sub = (i & (SUB_COUNT - 1)) + SUB_COUNT;
    return ((sub + 1) << shift) - 1;
}

void pl_hist_record(pl_hist *h, int64_t us)
{
    uint64_t v = us < 0 ? 0 : (uint64_t)us;
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->count++;
    h->sum += v;
    h->counts[pl_hist_index(v)]++;
}

void pl_hist_merge(pl_hist *dst, const pl_hist *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
    for (size_t i = 0; i < PL_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
}

uint64_t pl_hist_percentile(const pl_hist *h, double pct)
{
    if (h->count == 0)
        return 0;
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    /* The rank of the nearest-rank definition: ceil(pct/100 * count),
     * at least 1. */
    double want = pct / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < PL_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t up = pl_hist_bucket_upper(i);
            return up < h->max ? up : h->max;
        }
    }
    return h->max;
}

double pl_hist_mean(const pl_hist *h) { return h->count ? (double)h->sum / (double)h->count : 0.0; }
