/* pushlab-bench command line: the scenario parameters and where the server
 * is. Parsed once in main; everything else reads the struct. */
#ifndef PL_BENCH_OPTS_H
#define PL_BENCH_OPTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "client.h"

/* A bench runs the client's transports (client.h), all but PL_TRANSPORT_AUTO. */
#define PL_BENCH_TRANSPORTS PL_TRANSPORT_AUTO
/* Servers one run may spread its subscribers over (--url, repeated). */
#define PL_BENCH_NODES_MAX 8

/* The servers a bench can drive (--target). */
typedef enum pl_bench_target {
    PL_TARGET_PUSHLAB,      /* pushlab-server: its protocol, /api/stats */
    PL_TARGET_NCHAN,        /* nginx with nchan, bench/targets/nchan.conf's layout */
    PL_TARGET_WS_BROADCAST, /* a WebSocket relay: every text frame to every connection */
    PL_TARGET_COUNT
} pl_bench_target;

/* nchan's URL templates (--nchan-*): "{room}" stands for the room. */
typedef struct pl_bench_nchan_paths {
    const char *pub;                      /* default "/pub?id={room}" */
    const char *sub[PL_BENCH_TRANSPORTS]; /* "/sub/poll?id={room}", lp, sse, ws */
} pl_bench_nchan_paths;

typedef struct pl_bench_opts {
    bool merge;    /* the `merge` subcommand: inputs in merge_in */
    bool overhead; /* the `overhead` subcommand */
    bool floor;    /* the `floor` subcommand */
    bool radio;    /* the `radio` subcommand: a quiet chat seen as phones */
    bool transports[PL_BENCH_TRANSPORTS];
    int subscribers;
    double rate;       /* messages per second, all rooms together */
    double duration_s; /* measured window */
    double warmup_s;   /* published and delivered, not counted */
    int size;          /* bytes of text per message */
    int rooms;
    int poll_interval_ms;
    bool publish_over_ws;
    uint64_t seed;
    int source_addrs;        /* loopback source addresses to spread sockets over, 0 = auto */
    const char *source_list; /* or these addresses ("a,b,..."), NULL: none given */
    int radio_sample;        /* subscriptions observed as phones (radio model) */
    int open_window;         /* subscriptions on their way at once, at most */
    int heartbeat_s;         /* --heartbeat: our server's and the subscribers'; 0: defaults */
    int client_ping_s;       /* --client-ping: WebSocket subscribers' ping; -1: default, 0: none */
    const char *json_path, *csv_path;
    const char *url;    /* NULL: start our own server; else urls[0] */
    const char *ws_url; /* with one --url: the WebSocket base, else from /api/config */
    const char *urls[PL_BENCH_NODES_MAX]; /* every --url: subscription i goes to i % n_urls */
    int n_urls;
    const char *publish_to; /* --publish-to: the publisher's server; NULL: urls[0] */
    const char *server_bin; /* NULL: next to our build dir */
    pl_bench_target targets[PL_TARGET_COUNT]; /* --target, in order */
    int n_targets;
    int threads;    /* subscriber loops, one thread each (default: CPUs online) */
    int server_pid; /* --server-pid: the server's process for /proc figures; 0: none */
    const char *nginx_bin, *nchan_module, *nchan_conf; /* NULL: the defaults (nginx.h) */
    int nginx_workers;                                 /* 0: auto */
    const char *relay_bin;                             /* a ws-broadcast server to start, or NULL */
    pl_bench_nchan_paths nchan;
    char **merge_in; /* `merge`: the JSON files */
    int n_merge;
    bool quiet;      /* no progress line even on a TTY */
    pl_tls_opts tls; /* https:// and wss:// targets */
} pl_bench_opts;

/* Fills `o` from argv (defaults first). Returns 0, 1 when --help was
 * printed (the caller exits 0), or -EINVAL after printing why to stderr. */
int pl_bench_opts_parse(int argc, char **argv, pl_bench_opts *o);

/* "short_poll", "long_poll", "sse", "ws": the names in JSON and CSV. */
const char *pl_bench_transport_name(pl_transport t);
/* "pushlab", "nchan", "ws-broadcast". */
const char *pl_bench_target_name(pl_bench_target t);
/* True when target `g` serves transport `t` (a relay: WebSocket only). */
bool pl_bench_target_serves(pl_bench_target g, pl_transport t);

#endif
