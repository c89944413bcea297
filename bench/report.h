/* What one transport's run measured, and the three ways it is written out:
 * an aligned table for people, JSON (docs/bench-json.md) and CSV. */
#ifndef PL_BENCH_REPORT_H
#define PL_BENCH_REPORT_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "histogram.h"
#include "opts.h"
#include "radio_sample.h"

typedef struct pl_bench_result {
    pl_transport transport;
    pl_bench_target target;   /* the server it ran against */
    int threads;              /* subscriber threads (--threads) */
    int subscribers, opened;  /* asked for / OPEN or first request sent */
    int subscribers_failed;   /* could not open (not in expected, not lost) */
    uint64_t published;       /* measured messages the server stored */
    uint64_t publish_failed;  /* measured messages whose publish failed */
    uint64_t publish_retries; /* publishes sent again after no answer (whole run) */
    uint64_t expected, delivered, lost, duplicated, out_of_order, gaps, reconnects;
    uint64_t restarts; /* subscriptions that found the server restarted (ids begin again) */
    pl_hist latency, latency_intended; /* us, per delivery */
    /* Subscriber-side deltas over the measured window (incl. its drain). */
    uint64_t http_requests, tcp_connections, bytes_in, bytes_out;
    /* Totals since the subscriptions were opened, setup included. */
    uint64_t http_requests_total, tcp_connections_total;
    double window_s;        /* measured window incl. drain, wall clock */
    double bench_cpu_s;     /* our user+sys CPU over the window */
    double bench_cpu_sys_s; /* its kernel part (socket receive, epoll) */
    /* The busiest subscriber thread's CPU over the window: past most of
     * a core, its own queueing is in the latencies. */
    double busiest_lane_cpu_s;
    int64_t publisher_max_behind_us;
    /* Source addresses the subscriptions used (the first 16 of the plan
     * that took any or refused them). */
    struct {
        char addr[16];
        int free_ports, subscribers;
        bool refused;
    } src[16];
    int n_src;
    bool server_stats; /* the server figures below are known */
    double server_cpu_s;
    bool server_bytes_known;   /* server_bytes_out is known (pushlab's /api/stats) */
    uint64_t server_bytes_out; /* the server's bytes_out for this transport, window delta */
    uint64_t server_rss_before, server_rss_after;
    uint64_t server_pss_after; /* /proc: shared pages split among its processes; 0: unknown */
    int server_processes;      /* processes summed (nginx: master and workers) */
    pl_bench_radio radio;      /* the sampled subscriptions as phones */
} pl_bench_result;

/* Adds `src`'s counts into `dst` (one subscriber thread's into its run's,
 * or one run's into a merge): counts and CPU add, histograms merge, the
 * window and the publisher's lateness are the larger; lost follows.
 * Server figures are not touched. */
void pl_bench_result_add(pl_bench_result *dst, const pl_bench_result *src);

/* x / delivered, 0 when nothing was delivered. */
double pl_bench_per_msg(const pl_bench_result *r, double x);

/* The human table, one row per result, and the worst warnings. */
void pl_bench_print_table(FILE *f, const pl_bench_result *r, int n);

/* The `radio` subcommand's table: per transport, the sampled devices'
 * LTE and 3G figures, and what they are (a model, not a measurement). */
void pl_bench_print_radio_table(FILE *f, const pl_bench_result *r, int n);

/* One result as JSON (an element of "results" in docs/bench-json.md).
 * Returns a new reference or NULL on allocation failure. */
json_t *pl_bench_result_json(const pl_bench_result *r);

/* The whole report as JSON (format in docs/bench-json.md); steals `env`.
 * Returns a new reference or NULL on allocation failure. */
json_t *pl_bench_json(const pl_bench_opts *o, json_t *env, const pl_bench_result *r, int n);

/* Writes the CSV header and one line per result. Returns 0 or -errno. */
int pl_bench_write_csv(const char *path, const pl_bench_opts *o, const pl_bench_result *r, int n);

#endif
