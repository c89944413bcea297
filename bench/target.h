/* The target the bench drives (--target): where it listens, the protocol
 * the client speaks to it, the URLs a run subscribes and publishes to,
 * and the server's own CPU and memory before and after a run: GET
 * /api/stats for pushlab, /proc of its process tree for the others.
 * Starting a target is launch.c's. Main thread (stats) and any thread
 * (URLs). */
#ifndef PL_BENCH_TARGET_H
#define PL_BENCH_TARGET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "client.h"
#include "opts.h"

/* Where the target listens and what it is: what every run is given. */
typedef struct pl_btarget_addr {
    pl_bench_target kind;
    const char *url;    /* HTTP base (pushlab, nchan; pushlab's node 0); a relay's ws:// URL */
    const char *ws_url; /* pushlab's WebSocket base; nchan's ws:// base; the relay's URL */
    const pl_bench_nchan_paths *nchan; /* nchan's URL templates */
    int pid; /* the server's process for /proc figures (ours or --server-pid); 0: none */
    /* pushlab: several servers of the same rooms (--url repeated):
     * subscription i goes to node i % n_nodes; n_nodes 0 means just url/ws_url. */
    int n_nodes;
    const char *node_url[PL_BENCH_NODES_MAX], *node_ws[PL_BENCH_NODES_MAX];
    const char *pub_url, *pub_ws; /* the publisher's server; NULL: url/ws_url */
} pl_btarget_addr;

/* A server's own figures at one moment. */
typedef struct pl_btarget_stats {
    double cpu_s; /* user + system, all its processes */
    uint64_t rss_bytes;
    uint64_t pss_bytes; /* /proc only: shared pages split among the processes */
    bool pss_known;
    int processes;                           /* /proc: how many were summed; pushlab: 1 */
    bool have_bytes;                         /* bytes_out below is known (pushlab) */
    uint64_t bytes_out[PL_BENCH_TRANSPORTS]; /* transports.<name>.bytes_out */
} pl_btarget_stats;

/* The client dialect that speaks to target `k`. */
pl_dialect pl_btarget_dialect(pl_bench_target k);

/* A foreign target's subscribe URL for transport `t` and `room` (nchan:
 * its base and template; a relay: its URL as given) into out. Returns 0
 * or -ENOSPC. */
int pl_btarget_endpoint(const pl_btarget_addr *a, pl_transport t, const char *room, char *out,
                        size_t len);

/* nchan's publish URL for `room` into out. Returns 0 or -ENOSPC. */
int pl_btarget_pub_url(const pl_btarget_addr *a, const char *room, char *out, size_t len);

/* The server's figures now: GET {url}/api/stats for pushlab, summed over
 * its nodes and the publisher's server, each once (blocking, up to 5 s
 * each: only between measurements), else /proc of a->pid and its
 * children. Returns 0, -ENOENT (no pid to read), -ESRCH (it is gone),
 * -EIO (no answer) or -EPROTO (not the expected JSON). */
int pl_btarget_stats_get(const pl_btarget_addr *a, const pl_tls_opts *tls, pl_btarget_stats *out);

#endif
