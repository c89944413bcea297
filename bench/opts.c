/* Command line parsing for pushlab-bench; see opts.h. Every number is
 * range-checked here so the runner can size its buffers from them. */
#include "opts.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const names[PL_BENCH_TRANSPORTS] = {"short_poll", "long_poll", "sse", "ws"};

const char *pl_bench_transport_name(pl_transport t) { return names[t]; }

static const char *const target_names[PL_TARGET_COUNT] = {"pushlab", "nchan", "ws-broadcast"};

const char *pl_bench_target_name(pl_bench_target t) { return target_names[t]; }

bool pl_bench_target_serves(pl_bench_target g, pl_transport t)
{
    return g != PL_TARGET_WS_BROADCAST || t == PL_TRANSPORT_WS;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: pushlab-bench [overhead|floor|radio] [options]\n"
            "       pushlab-bench merge A.json B.json ... --json OUT\n"
            "Runs one scenario per transport against pushlab-server (or nchan, or a WebSocket\n"
            "relay) and reports delivery, latency (actual and from the intended send time),\n"
            "requests, connections, wire bytes (kernel TCP_INFO) and CPU per delivered message.\n"
            "\n"
            "  merge                    adds up runs taken at the same time by several bench\n"
            "                           processes or machines: counts add, histograms merge\n"
            "  overhead                 bytes and Mbit/s per message at 1k/10k/100k clients,\n"
            "                           from a short real run per transport\n"
            "  floor                    the least CPU per delivery a subscriber can spend here:\n"
            "                           bare SSE sockets that only recv() and count (one room)\n"
            "  radio                    a quiet chat as phones see it: every subscriber's socket\n"
            "                           activity through LTE and 3G radio models (defaults: 4\n"
            "                           subscribers, --rate 0.05, --duration 120, --warmup 0,\n"
            "                           --poll-interval 3000, --threads 1)\n"
            "  --transports LIST        short-poll,long-poll,sse,ws (default: all, in turn)\n"
            "  --subscribers N          subscriptions per transport (default 100)\n"
            "  --rate R                 messages per second published, 0: none (default 50)\n"
            "  --duration S             measured seconds (default 5)\n"
            "  --warmup S               seconds published but not counted (default 1)\n"
            "  --size B                 bytes of text per message (default 64)\n"
            "  --rooms K                rooms; subscribers and messages spread evenly (default 1)\n"
            "  --poll-interval MS       short-poll interval (default 1000)\n"
            "  --publish-over http|ws   how the publisher sends (default http)\n"
            "  --seed X                 seed for the message text (default 1)\n"
            "  --source-addrs K|LIST    connect from 127.0.0.1..K, or from the listed addresses\n"
            "                           (a,b,...); default: as many loopback addresses as the\n"
            "                           ports free on each require (TIME_WAIT counted)\n"
            "  --open-window N          subscriptions connecting at once, at most (default 1000)\n"
            "  --radio-sample N         subscriptions observed as phones: their socket activity\n"
            "                           runs through LTE and 3G radio models (default 4, 0: off)\n"
            "  --heartbeat S            heartbeat of the server we start, and of the subscribers\n"
            "                           (they ask it of any server; default: the server's)\n"
            "  --client-ping S          WebSocket subscribers send {\"type\":\"ping\"} every S s;\n"
            "                           0: never (default: every heartbeat)\n"
            "  --json FILE              every figure, the environment and the histograms\n"
            "  --csv FILE               one line per transport\n"
            "  --target LIST            pushlab,nchan,ws-broadcast: the servers to run against,\n"
            "                           in turn, one table (default pushlab)\n"
            "  --threads N              N subscriber event loops on N threads, the subscribers\n"
            "                           shared out; the publisher has its own (default: one\n"
            "                           per CPU online, as a loop that saturates a core puts\n"
            "                           its own queueing in the latencies)\n"
            "  --url URL                use this server instead of starting one (one target;\n"
            "                           ws-broadcast: its ws:// URL); pushlab, again: one\n"
            "                           more server of the same rooms (up to 8, e.g. nodes\n"
            "                           over one Redis): subscriptions are spread over them\n"
            "                           and server CPU is their sum\n"
            "  --ws-url URL             with one --url, its WebSocket base (default: from\n"
            "                           GET /api/config)\n"
            "  --publish-to URL         the server the publisher sends to (default: the\n"
            "                           first --url); another node: cross-node latency\n"
            "  --server-pid PID         with --url: read that process's CPU and memory (and its\n"
            "                           children's) from /proc, for servers without /api/stats\n"
            "  --server-bin PATH        the pushlab-server to start\n"
            "  --nginx PATH             the nginx to start for nchan (default /usr/sbin/nginx)\n"
            "  --nchan-module PATH      its nchan module, or 'none' when built in (default\n"
            "                           /usr/lib/nginx/modules/ngx_nchan_module.so)\n"
            "  --nchan-conf FILE        the server block to run (default: the shipped\n"
            "                           bench/targets/nchan.conf)\n"
            "  --nginx-workers N        its worker processes (default 0: auto, one per CPU)\n"
            "  --nchan-pub T, --nchan-ws T, --nchan-sse T, --nchan-lp T, --nchan-poll T\n"
            "                           nchan's publish and subscriber URL paths, {room} for the\n"
            "                           room (default /pub?id={room}, /sub/ws?id={room}, ...)\n"
            "  --relay-bin PATH         a ws-broadcast server to start (it prints\n"
            "                           '... listening ws://HOST:PORT' first)\n"
            "  --cacert FILE            https/wss: trust the CAs in this PEM file\n"
            "  --insecure               https/wss: accept any certificate\n"
            "  --quiet                  no progress line\n"
            "  --help                   this text\n");
}

static int parse_list(char *list, pl_bench_opts *o)
{
    memset(o->transports, 0, sizeof o->transports);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        for (char *c = t; *c; c++)
            if (*c == '-')
                *c = '_';
        int i = 0;
        while (i < PL_BENCH_TRANSPORTS && strcmp(t, names[i]) != 0)
            i++;
        if (i == PL_BENCH_TRANSPORTS) {
            fprintf(stderr, "pushlab-bench: unknown transport '%s'\n", t);
            return -EINVAL;
        }
        o->transports[i] = true;
    }
    return 0;
}

/* Parses a number in [lo, hi]; prints the option name on failure. */
static int num(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "pushlab-bench: --%s wants a number in [%g, %g], got '%s'\n", name, lo, hi,
                s);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* One subscriber loop per CPU: one libcurl loop, at ~50 us a long-poll
 * cycle, saturates a core at 10,000 pollers x 2 messages a second. */
static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static void defaults(pl_bench_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < PL_BENCH_TRANSPORTS; i++)
        o->transports[i] = true;
    o->subscribers = 100;
    o->rate = 50;
    o->duration_s = 5;
    o->warmup_s = 1;
    o->size = 64;
    o->rooms = 1;
    o->poll_interval_ms = 1000;
    o->seed = 1;
    o->radio_sample = 4;
    o->open_window = 1000;
    o->client_ping_s = -1;
    o->targets[0] = PL_TARGET_PUSHLAB;
    o->n_targets = 1;
    o->threads = default_threads();
    o->nchan.pub = "/pub?id={room}";
    o->nchan.sub[PL_TRANSPORT_SHORT_POLL] = "/sub/poll?id={room}";
    o->nchan.sub[PL_TRANSPORT_LONG_POLL] = "/sub/lp?id={room}";
    o->nchan.sub[PL_TRANSPORT_SSE] = "/sub/sse?id={room}";
    o->nchan.sub[PL_TRANSPORT_WS] = "/sub/ws?id={room}";
}

/* A quiet chat: one message every 20 s, 2 minutes per transport, a few
 * subscribers, all of them observed, polling every 3 s as the tutorial's
 * chat did. Flags given after `radio` override these. */
static void radio_defaults(pl_bench_opts *o)
{
    o->radio = true;
    o->subscribers = 4;
    o->radio_sample = 1000;
    o->rate = 0.05;
    o->duration_s = 120;
    o->warmup_s = 0;
    o->poll_interval_ms = 3000;
    o->threads = 1; /* a few quiet phones: one loop has room to spare */
}

/* The options without a letter of their own. */
enum {
    O_TARGET = 256,
    O_THREADS,
    O_SERVER_PID,
    O_NGINX,
    O_MODULE,
    O_CONF,
    O_WORKERS,
    O_RELAY,
    O_PUB,
    O_SUB, /* + transport */
};

static int parse_targets(char *list, pl_bench_opts *o)
{
    o->n_targets = 0;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int i = 0;
        while (i < PL_TARGET_COUNT && strcmp(t, target_names[i]) != 0)
            i++;
        if (i == PL_TARGET_COUNT) {
            fprintf(stderr, "pushlab-bench: unknown target '%s' (pushlab, nchan, ws-broadcast)\n",
                    t);
            return -EINVAL;
        }
        for (int k = 0; k < o->n_targets; k++)
            if (o->targets[k] == (pl_bench_target)i) {
                fprintf(stderr, "pushlab-bench: target '%s' given twice\n", t);
                return -EINVAL;
            }
        o->targets[o->n_targets++] = (pl_bench_target)i;
    }
    return o->n_targets ? 0 : -EINVAL;
}

/* A URL template: a path with {room} in it. */
static int path_template(const char *name, const char *arg, const char **out)
{
    if (arg[0] != '/' || !strstr(arg, "{room}") || strlen(arg) > 200) {
        fprintf(stderr, "pushlab-bench: --%s wants a path starting with / and holding {room}\n",
                name);
        return -EINVAL;
    }
    *out = arg;
    return 0;
}

/* The target options; returns 0 or -EINVAL. */
static int apply_target(int c, char *arg, pl_bench_opts *o)
{
    static const char *const sub_names[] = {"nchan-poll", "nchan-lp", "nchan-sse", "nchan-ws"};
    double v = 0;
    int rc = 0;
    switch (c) {
    case O_TARGET: return parse_targets(arg, o);
    case O_THREADS: rc = num("threads", arg, 1, 64, &v), o->threads = (int)v; break;
    case O_SERVER_PID: rc = num("server-pid", arg, 1, 1 << 22, &v), o->server_pid = (int)v; break;
    case O_NGINX: o->nginx_bin = arg; break;
    case O_MODULE: o->nchan_module = arg; break;
    case O_CONF: o->nchan_conf = arg; break;
    case O_WORKERS: rc = num("nginx-workers", arg, 0, 256, &v), o->nginx_workers = (int)v; break;
    case O_RELAY: o->relay_bin = arg; break;
    case O_PUB: return path_template("nchan-pub", arg, &o->nchan.pub);
    default: return path_template(sub_names[c - O_SUB], arg, &o->nchan.sub[c - O_SUB]);
    }
    return rc;
}

static const struct option longopts[] = {{"transports", required_argument, 0, 't'},
                                         {"subscribers", required_argument, 0, 'n'},
                                         {"rate", required_argument, 0, 'r'},
                                         {"duration", required_argument, 0, 'd'},
                                         {"warmup", required_argument, 0, 'w'},
                                         {"size", required_argument, 0, 's'},
                                         {"rooms", required_argument, 0, 'k'},
                                         {"poll-interval", required_argument, 0, 'i'},
                                         {"publish-over", required_argument, 0, 'p'},
                                         {"seed", required_argument, 0, 'S'},
                                         {"source-addrs", required_argument, 0, 'a'},
                                         {"radio-sample", required_argument, 0, 'R'},
                                         {"open-window", required_argument, 0, 'O'},
                                         {"heartbeat", required_argument, 0, 'H'},
                                         {"client-ping", required_argument, 0, 'P'},
                                         {"json", required_argument, 0, 'j'},
                                         {"csv", required_argument, 0, 'c'},
                                         {"url", required_argument, 0, 'u'},
                                         {"ws-url", required_argument, 0, 'W'},
                                         {"publish-to", required_argument, 0, 'T'},
                                         {"server-bin", required_argument, 0, 'b'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"cacert", required_argument, 0, 'C'},
                                         {"insecure", no_argument, 0, 'K'},
                                         {"target", required_argument, 0, O_TARGET},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"server-pid", required_argument, 0, O_SERVER_PID},
                                         {"nginx", required_argument, 0, O_NGINX},
                                         {"nchan-module", required_argument, 0, O_MODULE},
                                         {"nchan-conf", required_argument, 0, O_CONF},
                                         {"nginx-workers", required_argument, 0, O_WORKERS},
                                         {"relay-bin", required_argument, 0, O_RELAY},
                                         {"nchan-pub", required_argument, 0, O_PUB},
                                         {"nchan-poll", required_argument, 0, O_SUB},
                                         {"nchan-lp", required_argument, 0, O_SUB + 1},
                                         {"nchan-sse", required_argument, 0, O_SUB + 2},
                                         {"nchan-ws", required_argument, 0, O_SUB + 3},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};

/* One option; returns 0, 1 for --help or -EINVAL. */
static int apply(int c, char *arg, pl_bench_opts *o)
{
    double v = 0;
    int rc = 0;
    switch (c) {
    case 't': return parse_list(arg, o);
    case 'n': rc = num("subscribers", arg, 1, 200000, &v), o->subscribers = (int)v; break;
    case 'r': rc = num("rate", arg, 0, 1000000, &o->rate); break;
    case 'd': rc = num("duration", arg, 0.1, 86400, &o->duration_s); break;
    case 'w': rc = num("warmup", arg, 0, 3600, &o->warmup_s); break;
    case 's': rc = num("size", arg, 1, 4096, &v), o->size = (int)v; break;
    case 'k': rc = num("rooms", arg, 1, 10000, &v), o->rooms = (int)v; break;
    case 'i': rc = num("poll-interval", arg, 1, 600000, &v), o->poll_interval_ms = (int)v; break;
    case 'S': rc = num("seed", arg, 0, 1e18, &v), o->seed = (uint64_t)v; break;
    case 'a':
        if (strchr(arg, '.'))
            o->source_list = arg;
        else
            rc = num("source-addrs", arg, 0, 250, &v), o->source_addrs = (int)v;
        break;
    case 'R': rc = num("radio-sample", arg, 0, 1000, &v), o->radio_sample = (int)v; break;
    case 'O': rc = num("open-window", arg, 1, 1000000, &v), o->open_window = (int)v; break;
    case 'H': rc = num("heartbeat", arg, 1, 3600, &v), o->heartbeat_s = (int)v; break;
    case 'P': rc = num("client-ping", arg, 0, 3600, &v), o->client_ping_s = (int)v; break;
    case 'p':
        if (strcmp(arg, "http") && strcmp(arg, "ws")) {
            fprintf(stderr, "pushlab-bench: --publish-over is http or ws\n");
            return -EINVAL;
        }
        o->publish_over_ws = strcmp(arg, "ws") == 0;
        break;
    case 'j': o->json_path = arg; break;
    case 'c': o->csv_path = arg; break;
    case 'u':
        if (o->n_urls == PL_BENCH_NODES_MAX) {
            fprintf(stderr, "pushlab-bench: at most %d --url\n", PL_BENCH_NODES_MAX);
            return -EINVAL;
        }
        o->urls[o->n_urls++] = arg;
        o->url = o->urls[0];
        break;
    case 'T': o->publish_to = arg; break;
    case 'W': o->ws_url = arg; break;
    case 'b': o->server_bin = arg; break;
    case 'q': o->quiet = true; break;
    case 'C':
        if (access(arg, R_OK) != 0) {
            fprintf(stderr, "pushlab-bench: cannot read --cacert '%s': %s\n", arg, strerror(errno));
            return -EINVAL;
        }
        o->tls.cacert = arg;
        break;
    case 'K': o->tls.insecure = true; break;
    case 'h': usage(stdout); return 1;
    default:
        if (c >= O_TARGET && c < O_SUB + PL_BENCH_TRANSPORTS)
            return apply_target(c, arg, o);
        usage(stderr);
        return -EINVAL;
    }
    return rc;
}

static bool has_target(const pl_bench_opts *o, pl_bench_target t)
{
    for (int i = 0; i < o->n_targets; i++)
        if (o->targets[i] == t)
            return true;
    return false;
}

/* What the targets cannot do, or not together; one line each. */
static int check_targets(const pl_bench_opts *o)
{
    const char *why = NULL;
    bool relay = has_target(o, PL_TARGET_WS_BROADCAST);
    if (o->url && o->n_targets > 1)
        why = "--url names one server: give one --target with it (the bench starts the others)";
    else if (o->server_pid && !o->url)
        why = "--server-pid is for a server given by --url";
    else if ((o->n_urls > 1 || o->publish_to) && o->targets[0] != PL_TARGET_PUSHLAB)
        why = "several --url and --publish-to are pushlab's (nodes of the same rooms)";
    else if ((o->overhead || o->floor) && (o->n_targets > 1 || o->targets[0] != PL_TARGET_PUSHLAB))
        why = "overhead and floor run against pushlab only";
    else if (o->radio && o->n_targets > 1)
        why = "radio runs against one target";
    else if (relay && o->rooms > 1)
        why = "ws-broadcast has no rooms: every frame goes to everyone (--rooms 1)";
    else if (relay && !o->transports[PL_TRANSPORT_WS])
        why = "ws-broadcast serves WebSocket only (--transports ws)";
    else if (relay && !o->url && !o->relay_bin)
        why = "ws-broadcast needs --url ws://HOST:PORT of the relay, or --relay-bin to start one";
    else if (relay && o->url && strncmp(o->url, "ws://", 5) && strncmp(o->url, "wss://", 6))
        why = "ws-broadcast's --url is its ws:// (or wss://) URL";
    else if (has_target(o, PL_TARGET_NCHAN) && o->publish_over_ws)
        why = "nchan is published to over HTTP (POST); --publish-over ws is pushlab's";
    if (why)
        fprintf(stderr, "pushlab-bench: %s\n", why);
    return why ? -EINVAL : 0;
}

/* `merge A.json B.json ... --json OUT`: the files are the arguments left. */
static int merge_inputs(int argc, char **argv, pl_bench_opts *o)
{
    o->merge_in = argv + optind;
    o->n_merge = argc - optind;
    if (o->n_merge < 1 || !o->json_path) {
        fprintf(stderr, "pushlab-bench: merge wants one or more JSON files and --json OUT\n");
        return -EINVAL;
    }
    return 0;
}

int pl_bench_opts_parse(int argc, char **argv, pl_bench_opts *o)
{
    defaults(o);
    if (argc > 1 && strcmp(argv[1], "merge") == 0) {
        o->merge = true;
        argv[1] = argv[0];
        argv++;
        argc--;
    } else if (argc > 1 && (strcmp(argv[1], "overhead") == 0 || strcmp(argv[1], "floor") == 0 ||
                            strcmp(argv[1], "radio") == 0)) {
        o->overhead = argv[1][0] == 'o';
        o->floor = argv[1][0] == 'f';
        if (argv[1][0] == 'r')
            radio_defaults(o);
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        int rc = apply(c, optarg, o);
        if (rc)
            return rc;
    }
    if (o->merge)
        return merge_inputs(argc, argv, o);
    if (optind < argc) {
        fprintf(stderr, "pushlab-bench: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if ((o->n_urls > 1 && o->ws_url) || (o->publish_to && !o->url)) {
        fprintf(stderr, "pushlab-bench: --ws-url takes one --url, --publish-to wants --url\n");
        return -EINVAL;
    }
    if (o->rooms > o->subscribers) {
        fprintf(stderr, "pushlab-bench: --rooms must not exceed --subscribers\n");
        return -EINVAL;
    }
    return check_targets(o);
}
