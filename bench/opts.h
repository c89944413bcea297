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

typedef struct pl_bench_opts {
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
    int heartbeat_s;         /* --heartbeat: our server's and the subscribers'; 0: defaults */
    int client_ping_s;       /* --client-ping: WebSocket subscribers' ping; -1: default, 0: none */
    const char *json_path, *csv_path;
    const char *url;    /* NULL: start our own server; else urls[0] */
    const char *ws_url; /* with one --url: the WebSocket base, else from /api/config */
    const char *urls[PL_BENCH_NODES_MAX]; /* every --url: subscription i goes to i % n_urls */
    int n_urls;
    const char *publish_to; /* --publish-to: the publisher's server; NULL: urls[0] */
    const char *server_bin; /* NULL: next to our build dir */
    bool quiet;             /* no progress line even on a TTY */
    pl_tls_opts tls;        /* https:// and wss:// targets */
} pl_bench_opts;

/* Fills `o` from argv (defaults first). Returns 0, 1 when --help was
 * printed (the caller exits 0), or -EINVAL after printing why to stderr. */
int pl_bench_opts_parse(int argc, char **argv, pl_bench_opts *o);

/* "short_poll", "long_poll", "sse", "ws": the names in JSON and CSV. */
const char *pl_bench_transport_name(pl_transport t);

#endif
