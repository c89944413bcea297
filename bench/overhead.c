/* The overhead table; see overhead.h. Each client gets one message per
 * poll interval, so a run at 4 msg/s with a 250 ms poll interval costs
 * the same bytes per message as 1 msg/s with 1 s polling, in a quarter of
 * the time. */
#include "overhead.h"
#include "env.h"
#include "report.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int clients[] = {1000, 10000, 100000};

static void print_table(const pl_bench_result *r, int n, int size, const pl_bench_opts *run)
{
    printf("Wire cost per client of one message with %d bytes of text plus the bench's meta\n"
           "(TCP payload both ways, from TCP_INFO; TCP/IP headers and ACKs come on top),\n"
           "measured with %d clients at %g msg/s and %d ms polling (one message per poll\n"
           "interval, as at 1 msg/s with 1 s polling); Mbit/s at one message per second each:\n\n",
           size, run->subscribers, run->rate, run->poll_interval_ms);
    printf("%-10s %8s %9s %9s %9s %12s %12s %12s\n", "transport", "req/msg", "B_in/msg",
           "B_out/msg", "B/msg", "Mbit/s@1k", "Mbit/s@10k", "Mbit/s@100k");
    for (int i = 0; i < n; i++) {
        double in = pl_bench_per_msg(&r[i], (double)r[i].bytes_in);
        double out = pl_bench_per_msg(&r[i], (double)r[i].bytes_out);
        printf("%-10s %8.3f %9.1f %9.1f %9.1f", pl_bench_transport_name(r[i].transport),
               pl_bench_per_msg(&r[i], (double)r[i].http_requests), in, out, in + out);
        for (int c = 0; c < 3; c++)
            printf(" %12.2f", (in + out) * 8.0 * clients[c] / 1e6);
        printf("%s\n", r[i].lost ? "  (messages lost: figures unreliable)" : "");
    }
}

static int write_json(const pl_bench_opts *o, const pl_bench_opts *run, const pl_bench_result *r,
                      int n)
{
    json_t *j = pl_bench_json(run, pl_bench_env(), r, n);
    int rc = j ? 0 : -ENOMEM;
    if (j)
        json_object_set_new(j, "mode", json_string("overhead"));
    if (j && json_dump_file(j, o->json_path, JSON_INDENT(1)) != 0)
        rc = -EIO;
    json_decref(j);
    return rc;
}

int pl_bench_overhead(const pl_bench_opts *o, const pl_btarget_addr *tg)
{
    pl_bench_opts run = *o;
    run.subscribers = 20;
    run.rooms = 1;
    run.rate = 4;
    run.poll_interval_ms = 250;
    run.duration_s = 3;
    run.warmup_s = 1;
    pl_bench_result *res = calloc(PL_BENCH_TRANSPORTS, sizeof *res);
    int n = 0, rc = 0;
    if (!res)
        return -ENOMEM;
    for (int t = 0; t < PL_BENCH_TRANSPORTS && rc == 0; t++) {
        if (o->transports[t] && (rc = pl_bench_run(&run, (pl_transport)t, tg, &res[n])) == 0)
            n++;
    }
    if (rc == 0) {
        print_table(res, n, run.size, &run);
        if (o->json_path)
            rc = write_json(o, &run, res, n);
        if (rc == 0 && o->csv_path)
            rc = pl_bench_write_csv(o->csv_path, &run, res, n);
    }
    free(res);
    return rc;
}
