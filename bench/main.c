/* pushlab-bench: runs a scenario per target and transport (pushlab-server,
 * nchan or a WebSocket relay; our own on free ports unless --url) and
 * prints what it measured, or the `overhead`, `floor` or `merge` output.
 * Wiring only; the work is in scenario.c. */
#include "client.h"
#include "env.h"
#include "floor.h"
#include "launch.h"
#include "merge.h"
#include "opts.h"
#include "overhead.h"
#include "report.h"
#include "scenario.h"
#include "target.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Thousands of sockets need more than the usual 1024 descriptors. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

typedef struct config_wait {
    char ws_url[256];
    int rc;
    bool done;
} config_wait;

static void on_config(void *ud, const char *ws_url, const pl_client_err *err)
{
    config_wait *w = ud;
    w->done = true;
    w->rc = err && err->rc ? err->rc : 0;
    if (!w->rc)
        snprintf(w->ws_url, sizeof w->ws_url, "%s", ws_url);
}

/* --url without --ws-url: ask the server where its WebSocket listener is. */
static int fetch_ws_url(const char *url, const pl_tls_opts *tls, char *out, size_t len)
{
    pl_loop *l;
    config_wait w = {.rc = -EIO};
    int rc = pl_loop_new(&l);
    if (rc)
        return rc;
    if ((rc = pl_loop_set_tls(l, tls)) == 0 && (rc = pl_fetch_config(l, url, on_config, &w)) == 0) {
        for (int i = 0; i < 100 && !w.done; i++)
            pl_loop_run(l, 100);
        rc = w.done ? w.rc : -ETIMEDOUT;
    }
    pl_loop_free(l);
    if (!rc)
        snprintf(out, len, "%s", w.ws_url);
    return rc;
}

static void warn_saturation(const pl_bench_result *r)
{
    double share = r->window_s > 0 ? r->busiest_lane_cpu_s / r->window_s : 0;
    /* Past ~80 % of a core the bench's own queueing shows in the latencies. */
    if (share > 0.8)
        fprintf(stderr,
                "pushlab-bench: WARNING: a subscriber thread of the bench used %.0f%% of a core "
                "during %s: its latency figures include its own queueing; lower --subscribers "
                "or --rate, or raise --threads (%d now) where there are cores for it\n",
                share * 100, pl_bench_transport_name(r->transport), r->threads);
}

static int write_outputs(const pl_bench_opts *o, const pl_bench_result *res, int n)
{
    int rc = 0;
    if (o->radio)
        pl_bench_print_radio_table(stdout, res, n);
    else
        pl_bench_print_table(stdout, res, n);
    if (o->json_path) {
        json_t *j = pl_bench_json(o, pl_bench_env(), res, n);
        if (!j || json_dump_file(j, o->json_path, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "pushlab-bench: cannot write %s\n", o->json_path);
            rc = -EIO;
        }
        json_decref(j);
    }
    if (o->csv_path && pl_bench_write_csv(o->csv_path, o, res, n) != 0) {
        fprintf(stderr, "pushlab-bench: cannot write %s\n", o->csv_path);
        rc = -EIO;
    }
    return rc;
}

/* Every --url and --publish-to with its WebSocket base (--ws-url, else
 * GET /api/config), written into `ws` (one 256-byte slot each). */
static int find_nodes(const pl_bench_opts *o, pl_btarget_addr *tg, char ws[][256])
{
    tg->n_nodes = o->n_urls;
    for (int i = 0; i <= o->n_urls; i++) {
        const char *url = i < o->n_urls ? o->urls[i] : o->publish_to;
        if (!url || (i == 0 && o->ws_url))
            continue;
        if (fetch_ws_url(url, &o->tls, ws[i], sizeof ws[i]) != 0) {
            fprintf(stderr, "pushlab-bench: GET %s/api/config failed\n", url);
            return -EIO;
        }
    }
    for (int i = 0; i < o->n_urls; i++) {
        tg->node_url[i] = o->urls[i];
        tg->node_ws[i] = i == 0 && o->ws_url ? o->ws_url : ws[i];
    }
    tg->ws_url = tg->node_ws[0];
    if (o->publish_to) {
        tg->pub_url = o->publish_to;
        tg->pub_ws = ws[o->n_urls];
    }
    return 0;
}

/* --url's WebSocket base: --ws-url; pushlab's nodes from find_nodes;
 * nchan's the same host over ws://; a relay's URL itself. `ws` holds
 * PL_BENCH_NODES_MAX + 1 slots. */
static int url_target(const pl_bench_opts *o, pl_bench_target g, pl_btarget_addr *tg,
                      char ws[][256])
{
    tg->url = o->url;
    tg->ws_url = o->ws_url;
    tg->pid = o->server_pid;
    if (g == PL_TARGET_PUSHLAB)
        return find_nodes(o, tg, ws);
    if (o->ws_url)
        return 0;
    if (g == PL_TARGET_WS_BROADCAST) {
        tg->ws_url = o->url;
        return 0;
    }
    bool tls = strncmp(o->url, "https://", 8) == 0; /* nchan */
    snprintf(ws[0], sizeof ws[0], "%s%s", tls ? "wss" : "ws", strchr(o->url, ':'));
    tg->ws_url = ws[0];
    return 0;
}

/* The transports of target `g`, each against a fresh server of our own
 * unless --url: the previous transport's connections (a suspended long
 * poll only notices its client left at its timeout) must not use up this
 * one's connection slots, and the server's CPU and memory figures then
 * belong to one transport. Results go to res[*n...]. */
static int run_target(const pl_bench_opts *o, pl_bench_target g, pl_bench_result *res, int *n)
{
    pl_btarget_addr tg = {.kind = g, .nchan = &o->nchan};
    pl_blaunch own = {0};
    char ws[PL_BENCH_NODES_MAX + 1][256];
    int rc = 0;
    if (o->url && (rc = url_target(o, g, &tg, ws)) != 0)
        return rc;
    for (int t = 0; t < PL_BENCH_TRANSPORTS && rc == 0; t++) {
        if (!o->transports[t] || !pl_bench_target_serves(g, (pl_transport)t))
            continue;
        if (!o->url) {
            pl_blaunch_stop(&own);
            if ((rc = pl_blaunch_start(&own, g, o)) != 0)
                break;
            pl_blaunch_addr(&own, o, &tg);
        }
        rc = pl_bench_run(o, (pl_transport)t, &tg, &res[*n]);
        if (rc)
            fprintf(stderr, "pushlab-bench: %s %s could not run: %s\n", pl_bench_target_name(g),
                    pl_bench_transport_name(t), strerror(-rc));
        else
            warn_saturation(&res[(*n)++]);
    }
    pl_blaunch_stop(&own);
    return rc;
}

static int run_all(const pl_bench_opts *o)
{
    pl_bench_result *res = calloc((size_t)o->n_targets * PL_BENCH_TRANSPORTS, sizeof *res);
    int n = 0, rc = 0;
    if (!res)
        return -ENOMEM;
    for (int i = 0; i < o->n_targets && rc == 0; i++)
        rc = run_target(o, o->targets[i], res, &n);
    if (n && write_outputs(o, res, n) != 0 && rc == 0)
        rc = -EIO;
    free(res);
    return rc;
}

/* overhead and floor: against pushlab, ours unless --url. */
static int run_tool(const pl_bench_opts *o)
{
    pl_btarget_addr tg = {.kind = PL_TARGET_PUSHLAB, .nchan = &o->nchan};
    pl_blaunch own = {0};
    char ws[PL_BENCH_NODES_MAX + 1][256];
    int rc = o->url ? url_target(o, PL_TARGET_PUSHLAB, &tg, ws)
                    : pl_blaunch_start(&own, PL_TARGET_PUSHLAB, o);
    if (rc)
        return rc;
    if (!o->url)
        pl_blaunch_addr(&own, o, &tg);
    if (o->floor && strncmp(tg.url, "http://", 7) != 0) {
        fprintf(stderr, "pushlab-bench: floor reads bare sockets and needs an http:// --url\n");
        rc = -EINVAL;
    } else
        rc = o->overhead ? pl_bench_overhead(o, &tg) : pl_bench_floor(o, &tg);
    pl_blaunch_stop(&own);
    return rc;
}

int main(int argc, char **argv)
{
    pl_bench_opts o;
    int rc = pl_bench_opts_parse(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (o.merge)
        return pl_bench_merge(&o) ? 1 : 0;
    raise_nofile();
    if (pl_client_global_init() != 0)
        return 1;
    rc = o.overhead || o.floor ? run_tool(&o) : run_all(&o);
    pl_client_global_cleanup();
    return rc ? 1 : 0;
}
