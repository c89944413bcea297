/* pushlab-bench: runs a scenario per transport against a pushlab-server
 * (our own on free ports unless --url) and prints what it measured, or
 * the `overhead` table. Wiring only; the work is in scenario.c. */
#include "client.h"
#include "env.h"
#include "floor.h"
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

static int start_server(const pl_bench_opts *o, pl_btarget *srv)
{
    char bin[4096], conns[32], beat[16];
    if (o->server_bin)
        snprintf(bin, sizeof bin, "%s", o->server_bin);
    else if (pl_btarget_find(bin, sizeof bin) != 0) {
        fprintf(stderr, "pushlab-bench: no pushlab-server next to the bench; use --server-bin "
                        "or --url\n");
        return -ENOENT;
    }
    snprintf(conns, sizeof conns, "%d", o->subscribers + o->rooms + 256);
    snprintf(beat, sizeof beat, "%d", o->heartbeat_s);
    const char *extra[5] = {NULL};
    int n = 0;
    if (o->subscribers + o->rooms + 256 > 10000) {
        extra[n++] = "--max-connections";
        extra[n++] = conns;
    }
    if (o->heartbeat_s > 0) {
        extra[n++] = "--heartbeat";
        extra[n++] = beat;
    }
    return pl_btarget_start(srv, bin, extra);
}

static void warn_saturation(const pl_bench_result *r)
{
    double share = r->window_s > 0 ? r->bench_cpu_s / r->window_s : 0;
    /* Past ~80 % of a core the bench's own queueing shows in the latencies. */
    if (share > 0.8)
        fprintf(stderr,
                "pushlab-bench: WARNING: the bench used %.0f%% of a core during %s: its latency "
                "figures include its own queueing; lower --subscribers or --rate\n",
                share * 100, pl_bench_transport_name(r->transport));
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

/* A fresh server of our own for each transport: the previous transport's
 * connections (a suspended long poll only notices its client left at its
 * timeout) must not use up this one's connection slots, and the server's
 * CPU and memory figures then belong to one transport. */
static int restart_server(const pl_bench_opts *o, pl_btarget *srv, pl_btarget_addr *tg)
{
    pl_btarget_stop(srv);
    memset(srv, 0, sizeof *srv);
    int rc = start_server(o, srv);
    tg->url = srv->http;
    tg->ws_url = srv->ws;
    return rc;
}

static int run_all(const pl_bench_opts *o, pl_btarget_addr *tg, pl_btarget *own)
{
    pl_bench_result *res = calloc(PL_BENCH_TRANSPORTS, sizeof *res);
    int n = 0, rc = 0, runs = 0;
    if (!res)
        return -ENOMEM;
    for (int t = 0; t < PL_BENCH_TRANSPORTS && rc == 0; t++) {
        if (!o->transports[t])
            continue;
        if (own && runs++ > 0 && (rc = restart_server(o, own, tg)) != 0)
            break;
        rc = pl_bench_run(o, (pl_transport)t, tg, &res[n]);
        if (rc)
            fprintf(stderr, "pushlab-bench: %s could not run: %s\n", pl_bench_transport_name(t),
                    strerror(-rc));
        else
            warn_saturation(&res[n++]);
    }
    if (n && write_outputs(o, res, n) != 0 && rc == 0)
        rc = -EIO;
    free(res);
    return rc;
}

int main(int argc, char **argv)
{
    pl_bench_opts o;
    pl_btarget srv = {0};
    char ws[PL_BENCH_NODES_MAX + 1][256];
    int rc = pl_bench_opts_parse(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    raise_nofile();
    if (pl_client_global_init() != 0)
        return 1;
    pl_btarget_addr tg = {.url = o.url, .ws_url = o.ws_url};
    if (!o.url) {
        if ((rc = start_server(&o, &srv)) != 0)
            goto done;
        tg.url = srv.http;
        tg.ws_url = srv.ws;
    } else if ((rc = find_nodes(&o, &tg, ws)) != 0) {
        goto done;
    }
    if (o.floor && strncmp(tg.url, "http://", 7) != 0) {
        fprintf(stderr, "pushlab-bench: floor reads bare sockets and needs an http:// --url\n");
        rc = -EINVAL;
        goto done;
    }
    rc = o.overhead ? pl_bench_overhead(&o, &tg)
         : o.floor  ? pl_bench_floor(&o, &tg)
                    : run_all(&o, &tg, o.url ? NULL : &srv);
done:
    pl_btarget_stop(&srv);
    pl_client_global_cleanup();
    return rc ? 1 : 0;
}
