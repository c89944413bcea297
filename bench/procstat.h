/* CPU and memory of a server from /proc, for targets without
 * /api/stats (nginx with nchan, a WebSocket relay): a process and every
 * process below it (nginx's workers), whether the bench started it or was
 * given --server-pid. Plain functions, no state, any thread. */
#ifndef PL_BENCH_PROCSTAT_H
#define PL_BENCH_PROCSTAT_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct pl_bproc_stats {
    int processes;      /* the process and its descendants, as found */
    double cpu_s;       /* their user + system CPU since each started */
    uint64_t rss_bytes; /* sum of VmRSS: a page shared by two counts twice */
    uint64_t pss_bytes; /* sum of Pss: each shared page split among its users */
    bool pss_known;     /* false: smaps_rollup unreadable (another user's process) */
} pl_bproc_stats;

/* Reads the figures of `pid` and its descendants now. Returns 0, or
 * -ESRCH when `pid` does not exist, -ENOMEM. A descendant that ends while
 * it is read is left out. */
int pl_bproc_sample(pid_t pid, pl_bproc_stats *out);

/* Up to `max` descendants of `pid` into out. Returns how many, or a
 * negative code. */
int pl_bproc_children(pid_t pid, pid_t *out, int max);

/* The parent pid and CPU seconds (user + system) in the text of a
 * /proc/PID/stat file. Returns 0 or -EINVAL. Exposed for its test. */
int pl_bproc_parse_stat(const char *text, pid_t *ppid, double *cpu_s);

#endif
