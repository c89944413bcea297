/* The `merge` subcommand; see merge.h. Each result is read back into a
 * pl_bench_result (counts, both histograms from their buckets) and added
 * with pl_bench_result_add, so the merged figures come out of report.c
 * exactly as a single run's do. */
#include "merge.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "env.h"
#include "report.h"

/* Parts that started further apart than this were not run together. */
#define APART_S 60

typedef struct merged {
    pl_bench_result *res;
    int n, cap;
    json_t *parts, *warnings;
    char first_host[256];
    bool hosts_differ;
    time_t t_min, t_max;
} merged;

static uint64_t u64(const json_t *o, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(o, k));
    return v > 0 ? (uint64_t)v : 0;
}

static double dbl(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* A histogram from its JSON buckets ([[upper_us, count], ...]). */
static int hist_of(const json_t *h, pl_hist *out)
{
    const json_t *b = json_object_get(h, "buckets"), *e;
    size_t i;
    pl_hist_init(out);
    if (!json_is_array(b))
        return -EPROTO;
    json_array_foreach(b, i, e)
    {
        json_int_t up = json_integer_value(json_array_get(e, 0));
        json_int_t n = json_integer_value(json_array_get(e, 1));
        if (up < 0 || n <= 0)
            return -EPROTO;
        size_t k = pl_hist_index((uint64_t)up);
        out->counts[k] += (uint64_t)n;
        out->count += (uint64_t)n;
        out->sum += (double)up * (double)n; /* bucket bounds: the mean is approximate */
        if (out->count == (uint64_t)n || (uint64_t)up < out->min)
            out->min = (uint64_t)up;
        if ((uint64_t)up > out->max)
            out->max = (uint64_t)up;
    }
    return 0;
}

static int name_index(const char *name, const char *(*name_of)(int), int n)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, name_of(i)) == 0)
            return i;
    return -1;
}

static const char *transport_name(int i) { return pl_bench_transport_name((pl_transport)i); }
static const char *target_name(int i) { return pl_bench_target_name((pl_bench_target)i); }

static int result_of(const json_t *j, pl_bench_result *r)
{
    const char *tg = json_string_value(json_object_get(j, "target"));
    int t = name_index(json_string_value(json_object_get(j, "transport")), transport_name,
                       PL_BENCH_TRANSPORTS);
    int g = tg ? name_index(tg, target_name, PL_TARGET_COUNT) : PL_TARGET_PUSHLAB;
    memset(r, 0, sizeof *r);
    if (t < 0 || g < 0)
        return -EPROTO;
    r->transport = (pl_transport)t;
    r->target = (pl_bench_target)g;
    r->threads = (int)u64(j, "threads");
    r->subscribers = (int)u64(j, "subscribers");
    r->opened = (int)u64(j, "subscribers_open");
    r->subscribers_failed = (int)u64(j, "subscribers_failed");
    r->published = u64(j, "published");
    r->publish_failed = u64(j, "publish_failed");
    r->publish_retries = u64(j, "publish_retries");
    r->expected = u64(j, "expected");
    r->delivered = u64(j, "delivered");
    r->duplicated = u64(j, "duplicated");
    r->out_of_order = u64(j, "out_of_order");
    r->gaps = u64(j, "gaps");
    r->reconnects = u64(j, "reconnects");
    r->restarts = u64(j, "restarts");
    r->http_requests = u64(j, "http_requests");
    r->tcp_connections = u64(j, "tcp_connections");
    r->bytes_in = u64(j, "bytes_in");
    r->bytes_out = u64(j, "bytes_out");
    r->http_requests_total = u64(j, "http_requests_total");
    r->tcp_connections_total = u64(j, "tcp_connections_total");
    r->publisher_max_behind_us = (int64_t)u64(j, "publisher_max_behind_us");
    r->bench_cpu_s = dbl(j, "bench_cpu_s");
    r->bench_cpu_sys_s = dbl(j, "bench_cpu_sys_s");
    r->busiest_lane_cpu_s = dbl(j, "busiest_lane_cpu_s");
    r->window_s = dbl(j, "window_s");
    if (hist_of(json_object_get(j, "histogram"), &r->latency) ||
        hist_of(json_object_get(j, "histogram_intended"), &r->latency_intended))
        return -EPROTO;
    return 0;
}

/* Adds `x` to the merged result of its target and transport. */
static int add(merged *m, const pl_bench_result *x)
{
    int i = 0;
    while (i < m->n && (m->res[i].target != x->target || m->res[i].transport != x->transport))
        i++;
    if (i == m->n) {
        if (m->n == m->cap) {
            int cap = m->cap ? 2 * m->cap : 8;
            pl_bench_result *p = realloc(m->res, (size_t)cap * sizeof *p);
            if (!p)
                return -ENOMEM;
            m->res = p;
            m->cap = cap;
        }
        memset(&m->res[m->n++], 0, sizeof *m->res);
        m->res[i].target = x->target;
        m->res[i].transport = x->transport;
    }
    if (x->threads > m->res[i].threads)
        m->res[i].threads = x->threads;
    pl_bench_result_add(&m->res[i], x);
    return 0;
}

/* Notes where and when part `env` ran, for the warnings. */
static void note_env(merged *m, const json_t *env)
{
    const char *host = json_string_value(json_object_get(env, "host"));
    const char *when = json_string_value(json_object_get(env, "time_utc"));
    struct tm tm = {0};
    host = host ? host : "unknown";
    if (!m->first_host[0])
        snprintf(m->first_host, sizeof m->first_host, "%s", host);
    else if (strcmp(m->first_host, host) != 0)
        m->hosts_differ = true;
    if (when && strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        time_t t = timegm(&tm);
        if (!m->t_min || t < m->t_min)
            m->t_min = t;
        if (t > m->t_max)
            m->t_max = t;
    }
}

/* One input file into m. Returns 0 or a negative code after saying why. */
static int read_part(merged *m, const char *path, json_t **params)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e), *x;
    const json_t *results = json_object_get(j, "results");
    size_t i;
    int rc = 0;
    if (!j || json_integer_value(json_object_get(j, "pushlab_bench")) != 1 ||
        !json_is_array(results) || json_object_get(j, "mode")) {
        fprintf(stderr, "pushlab-bench: merge: %s is not a pushlab-bench run's --json%s%s\n", path,
                j ? "" : ": ", j ? "" : e.text);
        json_decref(j);
        return -EPROTO;
    }
    json_array_foreach(results, i, x)
    {
        pl_bench_result r;
        if ((rc = result_of(x, &r)) != 0) {
            fprintf(stderr, "pushlab-bench: merge: %s: result %zu is not one the bench writes\n",
                    path, i);
            break;
        }
        if ((rc = add(m, &r)) != 0)
            break;
    }
    json_t *env = json_object_get(j, "env");
    note_env(m, env);
    if (!*params)
        *params = json_incref(json_object_get(j, "params"));
    json_array_append_new(m->parts, json_pack("{s:s, s:O, s:O}", "file", path, "env", env, "params",
                                              json_object_get(j, "params")));
    json_decref(j);
    return rc;
}

static void warn(merged *m, const char *text)
{
    fprintf(stderr, "pushlab-bench: merge: WARNING: %s\n", text);
    json_array_append_new(m->warnings, json_string(text));
}

static void add_warnings(merged *m)
{
    char line[300];
    warn(m, "the server figures of each part are its own view of the server (null here): a "
            "server shared by the parts would be counted once per part");
    if (m->hosts_differ)
        warn(m, "the parts ran on several hosts: each measured latency on its own clock, and "
                "they ran at the same time only as far as those clocks agree (keep them in step, "
                "e.g. with chrony)");
    if (m->t_max - m->t_min > APART_S) {
        snprintf(line, sizeof line,
                 "the parts started %lld s apart (env.time_utc): not runs taken at the same time",
                 (long long)(m->t_max - m->t_min));
        warn(m, line);
    }
}

static json_t *report(merged *m, json_t *params)
{
    json_t *results = json_array();
    for (int i = 0; results && i < m->n; i++)
        json_array_append_new(results, pl_bench_result_json(&m->res[i]));
    return json_pack("{s:i, s:s, s:o, s:O, s:O, s:O, s:o}", "pushlab_bench", 1, "mode", "merged",
                     "env", pl_bench_env(), "params", params ? params : json_null(), "parts",
                     m->parts, "warnings", m->warnings, "results", results);
}

int pl_bench_merge(const pl_bench_opts *o)
{
    merged m = {.parts = json_array(), .warnings = json_array()};
    json_t *params = NULL, *out = NULL;
    int rc = m.parts && m.warnings ? 0 : -ENOMEM;
    for (int i = 0; rc == 0 && i < o->n_merge; i++)
        rc = read_part(&m, o->merge_in[i], &params);
    if (rc == 0) {
        add_warnings(&m);
        pl_bench_print_table(stdout, m.res, m.n);
        out = report(&m, params);
        if (!out || json_dump_file(out, o->json_path, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "pushlab-bench: cannot write %s\n", o->json_path);
            rc = -EIO;
        }
    }
    json_decref(out);
    json_decref(params);
    json_decref(m.parts);
    json_decref(m.warnings);
    free(m.res);
    return rc;
}
