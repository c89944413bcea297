/* The targets the bench starts itself when no --url is given: our own
 * pushlab-server on free ports, nginx with nchan (nginx.h) on a free port
 * under a temporary prefix, or the relay --relay-bin names. Each is
 * stopped by its pid. Main thread only. */
#ifndef PL_BENCH_LAUNCH_H
#define PL_BENCH_LAUNCH_H
#include <sys/types.h>
#include "nginx.h"
#include "opts.h"
#include "target.h"

/* A target process we started (pid 0 and no nginx: none). */
typedef struct pl_blaunch {
    pl_bench_target kind;
    pid_t pid;      /* pushlab-server or the relay */
    int stdout_fd;  /* its stdout pipe, kept open so it never gets EPIPE */
    pl_bnginx ngx;  /* nchan */
    char http[128]; /* "http://127.0.0.1:PORT" (pushlab, nchan) */
    char ws[128];   /* "ws://127.0.0.1:PORT" */
} pl_blaunch;

/* Starts target `kind` as `o` asks (pushlab: --server-bin, sized for
 * --subscribers, --heartbeat; nchan: --nginx, --nchan-module,
 * --nchan-conf, --nginx-workers; ws-broadcast: --relay-bin) and waits
 * until it listens. Returns 0, or a negative code after saying why on
 * stderr and stopping what it started. */
int pl_blaunch_start(pl_blaunch *s, pl_bench_target kind, const pl_bench_opts *o);

/* SIGTERM, up to 5 s, then SIGKILL (nginx: nginx.h). No-op when none. */
void pl_blaunch_stop(pl_blaunch *s);

/* Where the started target listens, for the runs. */
void pl_blaunch_addr(const pl_blaunch *s, const pl_bench_opts *o, pl_btarget_addr *a);

#endif
