/* Output of pushlab-bench; see report.h. Every figure is computed once,
 * here, from the raw counts, so the table, JSON and CSV always agree. */
#include "report.h"
#include <errno.h>
#include <string.h>

double pl_bench_per_msg(const pl_bench_result *r, double x)
{
    return r->delivered ? x / (double)r->delivered : 0.0;
}

void pl_bench_result_add(pl_bench_result *dst, const pl_bench_result *src)
{
    uint64_t *add[][2] = {
        {&dst->published, (uint64_t *)&src->published},
        {&dst->publish_failed, (uint64_t *)&src->publish_failed},
        {&dst->publish_retries, (uint64_t *)&src->publish_retries},
        {&dst->expected, (uint64_t *)&src->expected},
        {&dst->delivered, (uint64_t *)&src->delivered},
        {&dst->duplicated, (uint64_t *)&src->duplicated},
        {&dst->out_of_order, (uint64_t *)&src->out_of_order},
        {&dst->gaps, (uint64_t *)&src->gaps},
        {&dst->reconnects, (uint64_t *)&src->reconnects},
        {&dst->restarts, (uint64_t *)&src->restarts},
        {&dst->http_requests, (uint64_t *)&src->http_requests},
        {&dst->tcp_connections, (uint64_t *)&src->tcp_connections},
        {&dst->bytes_in, (uint64_t *)&src->bytes_in},
        {&dst->bytes_out, (uint64_t *)&src->bytes_out},
        {&dst->http_requests_total, (uint64_t *)&src->http_requests_total},
        {&dst->tcp_connections_total, (uint64_t *)&src->tcp_connections_total},
    };
    for (size_t i = 0; i < sizeof add / sizeof *add; i++)
        *add[i][0] += *add[i][1];
    dst->subscribers += src->subscribers;
    dst->opened += src->opened;
    dst->subscribers_failed += src->subscribers_failed;
    dst->bench_cpu_s += src->bench_cpu_s;
    dst->bench_cpu_sys_s += src->bench_cpu_sys_s;
    if (src->busiest_lane_cpu_s > dst->busiest_lane_cpu_s)
        dst->busiest_lane_cpu_s = src->busiest_lane_cpu_s;
    if (src->window_s > dst->window_s)
        dst->window_s = src->window_s;
    if (src->publisher_max_behind_us > dst->publisher_max_behind_us)
        dst->publisher_max_behind_us = src->publisher_max_behind_us;
    pl_hist_merge(&dst->latency, &src->latency);
    pl_hist_merge(&dst->latency_intended, &src->latency_intended);
    pl_bradio_merge(&dst->radio, &src->radio);
    dst->lost = dst->expected > dst->delivered ? dst->expected - dst->delivered : 0;
}

static double bench_us_per_delivery(const pl_bench_result *r)
{
    return pl_bench_per_msg(r, r->bench_cpu_s * 1e6);
}

static double bench_sys_us_per_delivery(const pl_bench_result *r)
{
    return pl_bench_per_msg(r, r->bench_cpu_sys_s * 1e6);
}

static double server_ms_per_1000(const pl_bench_result *r)
{
    return pl_bench_per_msg(r, r->server_cpu_s * 1e6);
}

/* Server CPU per HTTP request of the subscribers: for long polling, one
 * request-response cycle, whether it carried one message or a batch. */
static double server_us_per_request(const pl_bench_result *r)
{
    return r->http_requests ? r->server_cpu_s * 1e6 / (double)r->http_requests : 0.0;
}

static double server_bytes_per_msg(const pl_bench_result *r)
{
    return pl_bench_per_msg(r, (double)r->server_bytes_out);
}

/* The target column shows when a table holds another server than ours,
 * or several. */
static bool target_column(const pl_bench_result *r, int n)
{
    for (int i = 0; i < n; i++)
        if (r[i].target != r[0].target || r[i].target != PL_TARGET_PUSHLAB)
            return true;
    return false;
}

void pl_bench_print_table(FILE *f, const pl_bench_result *r, int n)
{
    bool tcol = target_column(r, n);
    if (tcol)
        fprintf(f, "%-12s ", "target");
    fprintf(f,
            "%-10s %6s %5s %9s %9s %5s %4s %4s %8s %8s %8s %8s %9s %7s %7s %8s %8s %8s %8s %8s "
            "%7s %6s %6s %6s\n",
            "transport", "subs", "fail", "expected", "delivered", "lost", "dup", "ooo", "p50_us",
            "p99_us", "p999_us", "max_us", "p99_int", "req/msg", "tcp/msg", "B_in/msg", "B_out/msg",
            "srvB/msg", "cpu_us/d", "sys_us/d", "srv_ms/k", "lte_on", "lte_mW", "3g_mW");
    for (int i = 0; i < n; i++) {
        const pl_bench_result *x = &r[i];
        if (tcol)
            fprintf(f, "%-12s ", pl_bench_target_name(x->target));
        fprintf(f,
                "%-10s %6d %5d %9llu %9llu %5llu %4llu %4llu %8llu %8llu %8llu %8llu %9llu %7.3f "
                "%7.4f %8.1f %8.1f %8.1f %8.2f %8.2f %7.2f",
                pl_bench_transport_name(x->transport), x->subscribers, x->subscribers_failed,
                (unsigned long long)x->expected, (unsigned long long)x->delivered,
                (unsigned long long)x->lost, (unsigned long long)x->duplicated,
                (unsigned long long)x->out_of_order,
                (unsigned long long)pl_hist_percentile(&x->latency, 50),
                (unsigned long long)pl_hist_percentile(&x->latency, 99),
                (unsigned long long)pl_hist_percentile(&x->latency, 99.9),
                (unsigned long long)x->latency.max,
                (unsigned long long)pl_hist_percentile(&x->latency_intended, 99),
                pl_bench_per_msg(x, (double)x->http_requests),
                pl_bench_per_msg(x, (double)x->tcp_connections),
                pl_bench_per_msg(x, (double)x->bytes_in), pl_bench_per_msg(x, (double)x->bytes_out),
                x->server_bytes_known ? server_bytes_per_msg(x) : -1.0, bench_us_per_delivery(x),
                bench_sys_us_per_delivery(x), x->server_stats ? server_ms_per_1000(x) : -1.0);
        if (x->radio.devices)
            fprintf(f, " %5.1f%% %6.0f %6.0f\n", 100 * x->radio.lte.connected_share,
                    x->radio.lte.avg_mw, x->radio.g3.avg_mw);
        else
            fprintf(f, " %6s %6s %6s\n", "-", "-", "-");
    }
    for (int i = 0; i < n; i++)
        if (r[i].transport == PL_TRANSPORT_LONG_POLL && r[i].server_stats && r[i].http_requests)
            fprintf(f,
                    "%s%s%s: server CPU per request-response cycle %.2f us (%llu requests, "
                    "%.3f messages each)\n",
                    tcol ? pl_bench_target_name(r[i].target) : "", tcol ? " " : "",
                    pl_bench_transport_name(r[i].transport), server_us_per_request(&r[i]),
                    (unsigned long long)r[i].http_requests,
                    (double)r[i].delivered / (double)r[i].http_requests);
    for (int i = 0; i < n; i++)
        if (r[i].restarts)
            fprintf(f,
                    "%s: %llu subscriptions found the server restarted (its ids began again); "
                    "what it had stored and not delivered is in `lost`.\n",
                    pl_bench_transport_name(r[i].transport), (unsigned long long)r[i].restarts);
    fprintf(f, "fail: subscriptions that could not open (not in expected; see stderr for why).\n"
               "latency: delivery time minus actual send time; p99_int: minus the scheduled time.\n"
               "bytes: TCP payload per delivered message, subscriber sockets, from TCP_INFO;\n"
               "srvB/msg: the server's own bytes_out for the transport per delivered message "
               "(pushlab only; -1: unknown).\n"
               "cpu_us/d: this bench's CPU per delivery, sys_us/d: its kernel part (see "
               "`pushlab-bench floor`);\n"
               "srv_ms/k: server CPU ms per 1000 deliveries (pushlab: /api/stats; others: /proc "
               "of its processes).\n"
               "lte_on, lte_mW, 3g_mW: the sampled subscribers as phones (--radio-sample): share "
               "of time an LTE radio is\n"
               "not idle, and mean radio power under ARO's LTE and 3G models (a model, not a "
               "measurement).\n");
}

void pl_bench_print_radio_table(FILE *f, const pl_bench_result *r, int n)
{
    fprintf(f, "%-10s %7s %8s %9s | %7s %7s %8s %7s | %6s %6s %7s %7s %8s %7s\n", "transport",
            "devices", "window_s", "delivered", "LTE_on", "LTE_mW", "LTE_J/h", "prom/h", "DCH",
            "FACH", "3G_on", "3G_mW", "3G_J/h", "prom/h");
    for (int i = 0; i < n; i++) {
        const pl_bench_result *x = &r[i];
        const pl_bench_radio *d = &x->radio;
        fprintf(f,
                "%-10s %7d %8.1f %9llu | %6.1f%% %7.0f %8.0f %7.0f | %5.1f%% %5.1f%% %6.1f%% %7.0f "
                "%8.0f %7.0f\n",
                pl_bench_transport_name(x->transport), d->devices, d->window_s,
                (unsigned long long)x->delivered, 100 * d->lte.connected_share, d->lte.avg_mw,
                d->lte.joules_per_hour, d->lte.promotions_per_hour, 100 * d->g3.dch_share,
                100 * d->g3.fach_share, 100 * d->g3.connected_share, d->g3.avg_mw,
                d->g3.joules_per_hour, d->g3.promotions_per_hour);
    }
    fprintf(f, "Each subscriber is one phone; its timeline is its own socket reads and writes "
               "(kernel TCP_INFO byte\n"
               "counts after each wake-up of the bench). _on: share of the time the radio is not "
               "idle; mW, J/h: mean\n"
               "radio power and energy per hour; prom/h: promotions per hour (3G: from idle and "
               "from FACH).\n"
               "A model with published parameters (AT&T ARO's default profiles; LTE: Huang et "
               "al., MobiSys 2012;\n"
               "3G: Qian et al., IMC 2010), not a measurement of a phone.\n");
}

static json_t *latency_json(const pl_hist *h)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", "p50", (json_int_t)pl_hist_percentile(h, 50),
                     "p90", (json_int_t)pl_hist_percentile(h, 90), "p99",
                     (json_int_t)pl_hist_percentile(h, 99), "p999",
                     (json_int_t)pl_hist_percentile(h, 99.9), "max", (json_int_t)h->max, "mean",
                     pl_hist_mean(h));
}

/* Non-empty buckets, ascending: [[upper_bound_us, count], ...]. The last
 * bucket has no finite bound; it reports the exact max instead. */
static json_t *histogram_json(const pl_hist *h)
{
    json_t *buckets = json_array();
    for (size_t i = 0; buckets && i < PL_HIST_BUCKETS; i++) {
        if (!h->counts[i])
            continue;
        uint64_t up = i == PL_HIST_BUCKETS - 1 ? h->max : pl_hist_bucket_upper(i);
        json_array_append_new(buckets,
                              json_pack("[I, I]", (json_int_t)up, (json_int_t)h->counts[i]));
    }
    return json_pack("{s:s, s:i, s:o}", "unit", "us", "sub_bucket_bits", PL_HIST_SUB_BITS,
                     "buckets", buckets);
}

static json_t *server_json(const pl_bench_result *r)
{
    if (!r->server_stats)
        return json_pack("{s:n, s:n, s:n}", "server_cpu_ms_per_1000", "server_rss_bytes",
                         "server_bytes_out_per_msg");
    json_t *j =
        json_pack("{s:f, s:I, s:I, s:f, s:i}", "server_cpu_ms_per_1000", server_ms_per_1000(r),
                  "server_rss_bytes", (json_int_t)r->server_rss_after, "server_rss_bytes_before",
                  (json_int_t)r->server_rss_before, "server_cpu_s", r->server_cpu_s,
                  "server_processes", r->server_processes);
    if (j && r->server_bytes_known)
        json_object_update_new(j, json_pack("{s:f, s:I}", "server_bytes_out_per_msg",
                                            server_bytes_per_msg(r), "server_bytes_out",
                                            (json_int_t)r->server_bytes_out));
    else if (j)
        json_object_set_new(j, "server_bytes_out_per_msg", json_null());
    if (j && r->server_pss_after)
        json_object_set_new(j, "server_pss_bytes", json_integer((json_int_t)r->server_pss_after));
    if (j && r->http_requests)
        json_object_set_new(j, "server_cpu_us_per_request", json_real(server_us_per_request(r)));
    return j;
}

static json_t *sources_json(const pl_bench_result *r)
{
    json_t *a = json_array();
    for (int i = 0; a && i < r->n_src; i++)
        json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:b}", "addr", r->src[i].addr,
                                           "free_ports", r->src[i].free_ports, "subscribers",
                                           r->src[i].subscribers, "refused", r->src[i].refused));
    return a;
}

json_t *pl_bench_result_json(const pl_bench_result *r)
{
    json_t *j = json_pack(
        "{s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
        "s:o, s:o}",
        "transport", pl_bench_transport_name(r->transport), "subscribers", r->subscribers,
        "subscribers_open", r->opened, "subscribers_failed", r->subscribers_failed, "published",
        (json_int_t)r->published, "publish_failed", (json_int_t)r->publish_failed,
        "publish_retries", (json_int_t)r->publish_retries, "expected", (json_int_t)r->expected,
        "delivered", (json_int_t)r->delivered, "lost", (json_int_t)r->lost, "duplicated",
        (json_int_t)r->duplicated, "out_of_order", (json_int_t)r->out_of_order, "gaps",
        (json_int_t)r->gaps, "reconnects", (json_int_t)r->reconnects, "restarts",
        (json_int_t)r->restarts, "publisher_max_behind_us", (json_int_t)r->publisher_max_behind_us,
        "latency_us", latency_json(&r->latency), "latency_intended_us",
        latency_json(&r->latency_intended), "histogram", histogram_json(&r->latency));
    json_t *more = json_pack(
        "{s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:o}",
        "http_requests_per_msg", pl_bench_per_msg(r, (double)r->http_requests),
        "tcp_connections_per_msg", pl_bench_per_msg(r, (double)r->tcp_connections),
        "bytes_in_per_msg", pl_bench_per_msg(r, (double)r->bytes_in), "bytes_out_per_msg",
        pl_bench_per_msg(r, (double)r->bytes_out), "http_requests", (json_int_t)r->http_requests,
        "tcp_connections", (json_int_t)r->tcp_connections, "http_requests_total",
        (json_int_t)r->http_requests_total, "tcp_connections_total",
        (json_int_t)r->tcp_connections_total, "bytes_in", (json_int_t)r->bytes_in, "bytes_out",
        (json_int_t)r->bytes_out, "bench_cpu_us_per_delivery", bench_us_per_delivery(r),
        "bench_cpu_s", r->bench_cpu_s, "bench_cpu_sys_s", r->bench_cpu_sys_s,
        "bench_sys_us_per_delivery", bench_sys_us_per_delivery(r), "window_s", r->window_s,
        "bench_cpu_share", r->window_s > 0 ? r->bench_cpu_s / r->window_s : 0.0,
        "histogram_intended", histogram_json(&r->latency_intended));
    if (more)
        json_object_update_new(
            more, json_pack("{s:o, s:s, s:i, s:f, s:f}", "source_addresses", sources_json(r),
                            "target", pl_bench_target_name(r->target), "threads", r->threads,
                            "busiest_lane_cpu_s", r->busiest_lane_cpu_s, "busiest_lane_cpu_share",
                            r->window_s > 0 ? r->busiest_lane_cpu_s / r->window_s : 0.0));
    if (!j || !more || json_object_update(j, more) != 0 ||
        json_object_update_new(j, server_json(r)) != 0 ||
        json_object_set_new(j, "radio", pl_bench_radio_json(&r->radio)) != 0) {
        json_decref(j);
        j = NULL;
    }
    json_decref(more);
    return j;
}

static json_t *targets_json(const pl_bench_opts *o)
{
    json_t *a = json_array();
    for (int i = 0; a && i < o->n_targets; i++)
        json_array_append_new(a, json_string(pl_bench_target_name(o->targets[i])));
    return a;
}

static json_t *params_json(const pl_bench_opts *o)
{
    json_t *list = json_array();
    for (int t = 0; list && t < PL_BENCH_TRANSPORTS; t++)
        if (o->transports[t])
            json_array_append_new(list, json_string(pl_bench_transport_name(t)));
    json_t *p =
        json_pack("{s:o, s:i, s:f, s:f, s:f, s:i, s:i, s:i, s:s, s:I, s:i, s:s?}", "transports",
                  list, "subscribers", o->subscribers, "rate", o->rate, "duration_s", o->duration_s,
                  "warmup_s", o->warmup_s, "size", o->size, "rooms", o->rooms, "poll_interval_ms",
                  o->poll_interval_ms, "publish_over", o->publish_over_ws ? "ws" : "http", "seed",
                  (json_int_t)o->seed, "radio_sample", o->radio_sample, "url", o->url);
    /* null: the defaults (the server's heartbeat, a client ping per heartbeat) */
    if (p)
        json_object_update_new(
            p, json_pack("{s:o, s:o, s:o, s:i}", "heartbeat_s",
                         o->heartbeat_s > 0 ? json_integer(o->heartbeat_s) : json_null(),
                         "client_ping_s",
                         o->client_ping_s >= 0 ? json_integer(o->client_ping_s) : json_null(),
                         "targets", targets_json(o), "threads", o->threads));
    return p;
}

json_t *pl_bench_json(const pl_bench_opts *o, json_t *env, const pl_bench_result *r, int n)
{
    json_t *results = json_array();
    for (int i = 0; results && i < n; i++)
        json_array_append_new(results, pl_bench_result_json(&r[i]));
    json_t *j = json_pack("{s:i, s:o, s:o, s:o}", "pushlab_bench", 1, "env", env, "params",
                          params_json(o), "results", results);
    if (j && o->radio)
        json_object_set_new(j, "mode", json_string("radio"));
    return j;
}

int pl_bench_write_csv(const char *path, const pl_bench_opts *o, const pl_bench_result *r, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "transport,subscribers,rate,size,published,expected,delivered,lost,duplicated,"
               "out_of_order,p50_us,p90_us,p99_us,p999_us,max_us,mean_us,p50_intended_us,"
               "p99_intended_us,max_intended_us,http_requests_per_msg,tcp_connections_per_msg,"
               "bytes_in_per_msg,bytes_out_per_msg,bench_cpu_us_per_delivery,"
               "server_cpu_ms_per_1000,server_rss_bytes,bench_sys_us_per_delivery,"
               "server_bytes_out_per_msg");
    pl_bench_radio_csv_header(f);
    fputs(",subscribers_failed,target\n", f);
    for (int i = 0; i < n; i++) {
        const pl_bench_result *x = &r[i];
        const pl_hist *h = &x->latency, *hi = &x->latency_intended;
        fprintf(f, "%s,%d,%g,%d,%llu,%llu,%llu,%llu,%llu,%llu,",
                pl_bench_transport_name(x->transport), x->subscribers, o->rate, o->size,
                (unsigned long long)x->published, (unsigned long long)x->expected,
                (unsigned long long)x->delivered, (unsigned long long)x->lost,
                (unsigned long long)x->duplicated, (unsigned long long)x->out_of_order);
        fprintf(f, "%llu,%llu,%llu,%llu,%llu,%.1f,%llu,%llu,%llu,",
                (unsigned long long)pl_hist_percentile(h, 50),
                (unsigned long long)pl_hist_percentile(h, 90),
                (unsigned long long)pl_hist_percentile(h, 99),
                (unsigned long long)pl_hist_percentile(h, 99.9), (unsigned long long)h->max,
                pl_hist_mean(h), (unsigned long long)pl_hist_percentile(hi, 50),
                (unsigned long long)pl_hist_percentile(hi, 99), (unsigned long long)hi->max);
        fprintf(f, "%.4f,%.4f,%.1f,%.1f,%.3f,", pl_bench_per_msg(x, (double)x->http_requests),
                pl_bench_per_msg(x, (double)x->tcp_connections),
                pl_bench_per_msg(x, (double)x->bytes_in), pl_bench_per_msg(x, (double)x->bytes_out),
                bench_us_per_delivery(x));
        if (x->server_stats)
            fprintf(f, "%.3f,%llu,", server_ms_per_1000(x),
                    (unsigned long long)x->server_rss_after);
        else
            fprintf(f, ",,");
        fprintf(f, "%.3f,", bench_sys_us_per_delivery(x));
        if (x->server_bytes_known)
            fprintf(f, "%.1f", server_bytes_per_msg(x));
        pl_bench_radio_csv(f, &x->radio);
        fprintf(f, ",%d,%s\n", x->subscribers_failed, pl_bench_target_name(x->target));
    }
    return fclose(f) == 0 ? 0 : -errno;
}
