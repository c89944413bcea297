/* The environment a benchmark ran in, for the JSON report: pushlab and
 * library versions, CPU model and count, kernel, and when it ran. */
#ifndef PL_BENCH_ENV_H
#define PL_BENCH_ENV_H
#include <jansson.h>

/* A new JSON object {"version", "cpu_model", "cpus", "kernel", "host",
 * "libs", "time_utc"}; the caller owns the reference. Unknown fields are "unknown".
 * Returns NULL on allocation failure. */
json_t *pl_bench_env(void);

#endif
