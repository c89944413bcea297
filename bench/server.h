/* The server under test: starting our own pushlab-server on free ports
 * (waiting for its listening line, never sleeping) and reading its
 * GET /api/stats before and after a run. */
#ifndef PL_BENCH_SERVER_H
#define PL_BENCH_SERVER_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "client.h"

typedef struct pl_bsrv {
    pid_t pid;      /* 0 when we did not start it */
    int stdout_fd;  /* its stdout pipe, kept open so it never gets EPIPE */
    char http[128]; /* "http://127.0.0.1:PORT" */
    char ws[128];   /* "ws://127.0.0.1:PORT" */
} pl_bsrv;

/* What a run needs of GET /api/stats. */
typedef struct pl_bsrv_stats {
    double cpu_s; /* user + system */
    uint64_t rss_bytes;
} pl_bsrv_stats;

/* The pushlab-server next to this executable's build dir
 * (<build>/bench/../server/pushlab-server) into `out`. Returns 0 or
 * -ENOENT. */
int pl_bsrv_find(char *out, size_t len);

/* Starts `bin` with --http-port 0 --ws-port 0 and the NULL-terminated
 * `extra` arguments, and waits up to 10 s for its listening line. Returns
 * 0, or a negative code after killing what it started. */
int pl_bsrv_start(pl_bsrv *s, const char *bin, const char *const *extra);

/* SIGTERM, wait up to 5 s, then SIGKILL. A no-op when pid is 0. */
void pl_bsrv_stop(pl_bsrv *s);

/* GET {url}/api/stats, blocking (up to 5 s): only between measurements.
 * Returns 0, or -EIO (no answer) / -EPROTO (not the expected JSON). */
int pl_bsrv_stats_get(const char *url, const pl_tls_opts *tls, pl_bsrv_stats *out);

#endif
