/* nginx with the nchan module, started by the bench for `--target nchan`
 * without --url: bench/targets/nchan.conf (or --nchan-conf) as its one
 * server block, on a free port, every file under a temporary prefix
 * (never /etc/nginx), stopped by its pid. Used from the bench's main
 * thread only. */
#ifndef PL_BENCH_NGINX_H
#define PL_BENCH_NGINX_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PL_NGINX_BIN    "/usr/sbin/nginx"
#define PL_NCHAN_MODULE "/usr/lib/nginx/modules/ngx_nchan_module.so"
/* The listen line of the shipped server block, replaced by our port. */
#define PL_NCHAN_LISTEN "listen 127.0.0.1:8090;"

typedef struct pl_bnginx_cfg {
    const char *bin;    /* nginx binary; NULL: PL_NGINX_BIN */
    const char *module; /* the nchan module; NULL: PL_NCHAN_MODULE; "none": built in */
    const char *site;   /* the server block text, with PL_NCHAN_LISTEN in it */
    int connections;    /* worker_connections (and twice that for descriptors) */
    int workers;        /* worker_processes; 0: auto (one per CPU) */
} pl_bnginx_cfg;

/* One nginx we started. */
typedef struct pl_bnginx {
    pid_t pid;        /* the master; 0 when none runs */
    char prefix[256]; /* its temporary folder, removed by pl_bnginx_stop */
    char http[64];    /* "http://127.0.0.1:PORT" */
    char ws[64];      /* "ws://127.0.0.1:PORT" */
} pl_bnginx;

/* True when cfg's nginx and module (or a built-in one) are installed. */
bool pl_bnginx_available(const pl_bnginx_cfg *cfg);

/* `site` with PL_NCHAN_LISTEN replaced by a listen on 127.0.0.1:port, into
 * out. Returns 0, -EINVAL when the line is not there (a changed file
 * must fail here, not listen elsewhere), or -ENOSPC. */
int pl_bnginx_site(const char *site, int port, char *out, size_t len);

/* Makes the prefix, writes nginx.conf, starts nginx and waits (up to
 * 10 s) until its port accepts connections; a port taken meanwhile is
 * tried again with another. Returns 0, or a negative code after saying
 * why on stderr (the error log's last lines included) and cleaning up. */
int pl_bnginx_start(pl_bnginx *n, const pl_bnginx_cfg *cfg);

/* SIGTERM to the master, up to 5 s, then SIGKILL to it and any worker
 * left; removes the prefix. A no-op when nothing runs. */
void pl_bnginx_stop(pl_bnginx *n);

#endif
