/* GET /metrics in the Prometheus text exposition format (version 0.0.4):
 * the counters of stats.h per transport, the store's, and the process's own
 * (CPU, memory, fds), rendered when scraped so keeping them costs nothing. */
#include "metrics.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "clock.h"

static const char *const tnames[] = {"short_poll", "long_poll", "sse", "ws"};
static const char *const epnames[PL_SEP_COUNT] = {"short_poll", "long_poll", "sse",
                                                  "ws",         "publish",   "other"};

static pl_transport_stats *transport(pl_stats *st, int i)
{
    pl_transport_stats *all[] = {&st->short_poll, &st->long_poll, &st->sse, &st->ws};
    return all[i];
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per transport of the counter at byte offset `off` in
 * pl_transport_stats, for the transports `mask` names (bit i: tnames[i]). */
static void per_transport(FILE *f, pl_stats *st, const char *name, size_t off, unsigned mask)
{
    for (int i = 0; i < 4; i++)
        if (mask & (1u << i)) {
            const atomic_uint_fast64_t *v =
                (const atomic_uint_fast64_t *)(const void *)((const char *)transport(st, i) + off);
            fprintf(f, "%s{transport=\"%s\"} %llu\n", name, tnames[i],
                    (unsigned long long)atomic_load(v));
        }
}

#define ALL        0xfu
#define HTTP_POLLS 0x7u /* short poll, long poll, SSE: the HTTP requests */
#define STREAMS    0xcu /* SSE, WebSocket */

static void transports(FILE *f, pl_stats *st)
{
    head(f, "pushlab_requests_total", "counter", "HTTP requests per transport.");
    per_transport(f, st, "pushlab_requests_total", offsetof(pl_transport_stats, requests),
                  HTTP_POLLS);
    head(f, "pushlab_open_connections", "gauge",
         "Connections open now: SSE streams, WebSockets, long polls parked.");
    fprintf(f, "pushlab_open_connections{transport=\"long_poll\"} %lld\n",
            (long long)atomic_load(&st->long_poll.waiting));
    fprintf(f, "pushlab_open_connections{transport=\"sse\"} %lld\n",
            (long long)atomic_load(&st->sse.connections));
    fprintf(f, "pushlab_open_connections{transport=\"ws\"} %lld\n",
            (long long)atomic_load(&st->ws.connections));
    head(f, "pushlab_messages_sent_total", "counter", "Messages handed to subscribers' sockets.");
    per_transport(f, st, "pushlab_messages_sent_total", offsetof(pl_transport_stats, messages_out),
                  ALL);
    head(f, "pushlab_sent_bytes_total", "counter",
         "Bytes handed to the kernel for subscribers, HTTP heads and framing included.");
    per_transport(f, st, "pushlab_sent_bytes_total", offsetof(pl_transport_stats, bytes_out), ALL);
    head(f, "pushlab_gaps_served_total", "counter",
         "Answers or deliveries that skipped ids trimmed from the history.");
    per_transport(f, st, "pushlab_gaps_served_total", offsetof(pl_transport_stats, gaps), ALL);
    head(f, "pushlab_coalesced_total", "counter",
         "Times a subscriber was found behind at a write, its next writes left to Nagle.");
    per_transport(f, st, "pushlab_coalesced_total", offsetof(pl_transport_stats, coalesced),
                  STREAMS);
}

static void errors(FILE *f, pl_stats *st)
{
    head(f, "pushlab_errors_total", "counter",
         "Refused requests and frames by endpoint and HTTP status (status 0: a bad WebSocket "
         "frame).");
    for (int ep = 0; ep < PL_SEP_COUNT; ep++)
        for (int k = 0; k < PL_ERR_KINDS; k++) {
            const char *key;
            int status = pl_stats_err_status(k, &key);
            unsigned long long n = atomic_load(&st->errors_at[ep][k]);
            if (n) /* absent series read as 0 in PromQL: keep the page short */
                fprintf(f, "pushlab_errors_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
                        epnames[ep], status, n);
        }
}

/* What the listeners refused before any endpoint saw it, and subscribers
 * cut for falling behind (see /api/stats and docs/protocol.md). */
static void connections(FILE *f, pl_stats *st)
{
    static const int kinds[] = {PL_ERR_HTTP_BAD_HEAD, PL_ERR_HTTP_INCOMPLETE, PL_ERR_HTTP_TIMEOUT,
                                PL_ERR_WS_BAD_HANDSHAKE, PL_ERR_WS_ABNORMAL};
    head(f, "pushlab_connection_errors_total", "counter",
         "Connections that broke off or broke the protocol before an answer, by kind.");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *key;
        pl_stats_err_status(kinds[i], &key);
        fprintf(f, "pushlab_connection_errors_total{kind=\"%s\"} %llu\n", key,
                (unsigned long long)atomic_load(&st->errors[kinds[i]]));
    }
    head(f, "pushlab_slow_consumers_dropped_total", "counter",
         "Subscribers cut for falling more than --max-lag messages behind.");
    per_transport(f, st, "pushlab_slow_consumers_dropped_total",
                  offsetof(pl_transport_stats, slow_consumers_dropped), STREAMS);
}

static void delivery(FILE *f, pl_stats *st)
{
    head(f, "pushlab_delivery_seconds", "histogram",
         "Time from the store taking a message to its bytes being handed to a socket.");
    for (int i = 0; i < 4; i++) {
        pl_delivery_hist *h = &transport(st, i)->delivery;
        unsigned long long cum = 0;
        for (int b = 0; b < PL_DELIVERY_BUCKETS; b++) {
            cum += atomic_load(&h->bucket[b]);
            fprintf(f, "pushlab_delivery_seconds_bucket{transport=\"%s\",le=\"%g\"} %llu\n",
                    tnames[i], pl_delivery_bounds_s[b], cum);
        }
        cum += atomic_load(&h->bucket[PL_DELIVERY_BUCKETS]);
        fprintf(f, "pushlab_delivery_seconds_bucket{transport=\"%s\",le=\"+Inf\"} %llu\n",
                tnames[i], cum);
        fprintf(f, "pushlab_delivery_seconds_sum{transport=\"%s\"} %.6f\n", tnames[i],
                (double)atomic_load(&h->sum_us) / 1e6);
        fprintf(f, "pushlab_delivery_seconds_count{transport=\"%s\"} %llu\n", tnames[i], cum);
    }
}

static void store(FILE *f, pl_stats *st, const pl_metrics_store *s)
{
    head(f, "pushlab_publishes_total", "counter",
         "Publishes over HTTP and WebSocket by outcome: stored, duplicate (a repeated cid), "
         "refused.");
    fprintf(f, "pushlab_publishes_total{result=\"stored\"} %llu\n",
            (unsigned long long)atomic_load(&st->publishes.stored));
    fprintf(f, "pushlab_publishes_total{result=\"duplicate\"} %llu\n",
            (unsigned long long)atomic_load(&st->publishes.duplicate));
    fprintf(f, "pushlab_publishes_total{result=\"refused\"} %llu\n",
            (unsigned long long)atomic_load(&st->publishes.refused));
    head(f, "pushlab_ws_messages_received_total", "counter",
         "Publish frames taken over WebSocket.");
    fprintf(f, "pushlab_ws_messages_received_total %llu\n",
            (unsigned long long)atomic_load(&st->ws.messages_in));
    head(f, "pushlab_rooms", "gauge", "Rooms in the store.");
    fprintf(f, "pushlab_rooms %zu\n", s->rooms);
    head(f, "pushlab_history_trimmed_total", "counter",
         "Messages dropped from the oldest end of a full room history.");
    fprintf(f, "pushlab_history_trimmed_total %llu\n", (unsigned long long)s->trimmed);
}

static long open_fds(void)
{
    long n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the one opendir itself holds */
}

static void process(FILE *f, pl_stats *st)
{
    struct rusage ru;
    struct rlimit rl;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    double up = (double)(pl_clock_mono_us() - st->started_mono_us) / 1e6;
    head(f, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
    fprintf(f, "process_cpu_seconds_total %.3f\n", cpu);
    head(f, "process_resident_memory_bytes", "gauge", "Resident memory size.");
    fprintf(f, "process_resident_memory_bytes %ld\n", pl_stats_rss_bytes());
    head(f, "process_open_fds", "gauge", "Open file descriptors.");
    fprintf(f, "process_open_fds %ld\n", open_fds());
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        head(f, "process_max_fds", "gauge", "The open file descriptor limit.");
        fprintf(f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
    head(f, "process_start_time_seconds", "gauge", "Start time since the Unix epoch.");
    fprintf(f, "process_start_time_seconds %.3f\n", (double)pl_clock_real_us() / 1e6 - up);
    head(f, "pushlab_build_info", "gauge", "The running version, as a label.");
    fprintf(f, "pushlab_build_info{version=\"%s\"} 1\n", PUSHLAB_VERSION);
}

char *pl_metrics_text(pl_stats *st, const pl_metrics_store *s, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    transports(f, st);
    errors(f, st);
    connections(f, st);
    delivery(f, st);
    store(f, st, s);
    process(f, st);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
