/* The target the bench drives: where it listens, starting our own
 * pushlab-server on free ports (waiting for its listening line, never
 * sleeping) and reading its GET /api/stats before and after a run. Other
 * servers to compare against are meant to join here as more targets. */
#ifndef PL_BENCH_TARGET_H
#define PL_BENCH_TARGET_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "client.h"
#include "opts.h"

/* Where the target listens: what every run is given. */
typedef struct pl_btarget_addr {
    const char *url;    /* HTTP base of the server (node 0) */
    const char *ws_url; /* its WebSocket base */
    /* Several servers of the same rooms (--url repeated): subscription i
     * goes to node i % n_nodes; n_nodes 0 means just url/ws_url. */
    int n_nodes;
    const char *node_url[PL_BENCH_NODES_MAX], *node_ws[PL_BENCH_NODES_MAX];
    const char *pub_url, *pub_ws; /* the publisher's server; NULL: url/ws_url */
} pl_btarget_addr;

/* A target process we started (pid 0: one given by --url). */
typedef struct pl_btarget {
    pid_t pid;      /* 0 when we did not start it */
    int stdout_fd;  /* its stdout pipe, kept open so it never gets EPIPE */
    char http[128]; /* "http://127.0.0.1:PORT" */
    char ws[128];   /* "ws://127.0.0.1:PORT" */
} pl_btarget;

/* What a run needs of GET /api/stats. */
typedef struct pl_btarget_stats {
    double cpu_s; /* user + system */
    uint64_t rss_bytes;
    uint64_t bytes_out[PL_BENCH_TRANSPORTS]; /* transports.<name>.bytes_out */
} pl_btarget_stats;

/* The pushlab-server next to this executable's build dir
 * (<build>/bench/../server/pushlab-server) into `out`. Returns 0 or
 * -ENOENT. */
int pl_btarget_find(char *out, size_t len);

/* Starts `bin` with --http-port 0 --ws-port 0 and the NULL-terminated
 * `extra` arguments, and waits up to 10 s for its listening line. Returns
 * 0, or a negative code after killing what it started. */
int pl_btarget_start(pl_btarget *s, const char *bin, const char *const *extra);

/* SIGTERM, wait up to 5 s, then SIGKILL. A no-op when pid is 0. */
void pl_btarget_stop(pl_btarget *s);

/* GET {url}/api/stats, blocking (up to 5 s): only between measurements.
 * Returns 0, or -EIO (no answer) / -EPROTO (not the expected JSON). */
int pl_btarget_stats_get(const char *url, const pl_tls_opts *tls, pl_btarget_stats *out);

/* The same summed over every server of `tg` (its nodes and the
 * publisher's, each once). Returns 0 or the first failure. */
int pl_btarget_stats_sum(const pl_btarget_addr *tg, const pl_tls_opts *tls, pl_btarget_stats *out);

#endif
