/* What a phone would see: a bounded sample of a run's subscriptions, each
 * one device, whose socket reads and writes (the kernel's TCP_INFO byte
 * counts, read after each loop wake-up, at most every 20 ms) feed the RRC
 * models of common/radio.h as they happen. Nothing is stored per packet,
 * so memory is a few hundred bytes per sampled device whatever the run's
 * size. Runs on the bench's one loop thread. */
#ifndef PL_BENCH_RADIO_SAMPLE_H
#define PL_BENCH_RADIO_SAMPLE_H
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include "client.h"

/* The mean over the sampled devices, per model. */
typedef struct pl_bench_radio {
    int devices;     /* sampled; 0: not measured */
    double window_s; /* mean device window: subscription opened to run end */
    struct {
        double connected_share, avg_mw, joules_per_hour, promotions_per_hour;
    } lte;
    struct {
        double connected_share, dch_share, fach_share, avg_mw, joules_per_hour, promotions_per_hour;
    } g3;
} pl_bench_radio;

typedef struct pl_bradio pl_bradio;

/* A sampler for up to `n` devices on loop `l` (it installs the loop's
 * after-wake hook). Returns 0 and *out, or -ENOMEM. n = 0 is allowed and
 * measures nothing. */
int pl_bradio_new(pl_loop *l, int n, pl_bradio **out);
/* Device `i` (< n) is subscription `s`, opened now: its window starts. */
void pl_bradio_watch(pl_bradio *r, int i, pl_sub *s);
/* Reads every device's counters one last time and fills *out with the
 * means for the windows ending now. */
void pl_bradio_finish(pl_bradio *r, pl_bench_radio *out);
/* Folds `src` into `dst`: the means weighed by their devices (one
 * subscriber thread's sample into the run's). */
void pl_bradio_merge(pl_bench_radio *dst, const pl_bench_radio *src);
/* Removes the hook and frees. NULL is a no-op. */
void pl_bradio_free(pl_bradio *r);

/* results[i].radio as JSON (docs/bench-json.md): null when not measured. */
json_t *pl_bench_radio_json(const pl_bench_radio *r);
/* The CSV columns (header names, then one line's values), comma-first. */
void pl_bench_radio_csv_header(FILE *f);
void pl_bench_radio_csv(FILE *f, const pl_bench_radio *r);

#endif
