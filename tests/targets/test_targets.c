/* pushlab-bench against other servers, end to end through the real binary:
 * a real nginx with nchan (started by the bench, and started here and
 * given by --url and --server-pid) and the test's WebSocket broadcast
 * server (ws_broadcast.c) deliver every measured message once on every
 * transport they serve; --target pushlab,nchan gives one report with a
 * target column; --threads 2 delivers everything once; `merge` of two runs
 * taken at the same time adds up. Asserts counts, never timings.
 * Usage: test_targets <pushlab-bench> <pushlab-server> <ws-broadcast> */
#include "check.h"
#include "nchan_conf.h"
#include "nginx.h"
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *bench_exe, *server_exe, *relay_exe;
static char tmp[64] = "/tmp/pl-targets-XXXXXX";

/* The bench with `args` (NULL-terminated) writing --json to tmp/name,
 * started (not waited for); its table goes to our stderr, not TAP. */
static pid_t bench_start(const char *name, const char *const *args)
{
    char path[128];
    const char *argv[48] = {bench_exe, "--server-bin", server_exe, "--quiet", "--json", path};
    int n = 6;
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    for (; *args && n < 46; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(2, 1);
        execv(bench_exe, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st = 0;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *load(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    return json_load_file(path, 0, NULL);
}

/* Runs the bench to completion; its report, or NULL when it failed. */
static json_t *bench(const char *name, const char *const *args)
{
    if (wait_exit(bench_start(name, args)) != 0)
        return NULL;
    return load(name);
}

static uint64_t u(const json_t *r, const char *k)
{
    return (uint64_t)json_integer_value(json_object_get(r, k));
}

static const char *s(const json_t *r, const char *k)
{
    return json_string_value(json_object_get(r, k));
}

/* Small runs: 6 subscribers, 20 msg/s for 1 s after 0.5 s of warm-up. */
#define SMALL                                                                                      \
    "--subscribers", "6", "--rate", "20", "--duration", "1", "--warmup", "0.5", "--poll-interval", \
        "100"

/* Every result of `rep` is target `target`, delivered all it expected
 * (and something), once; `want` results. Returns false after saying why. */
static bool all_once(const json_t *rep, const char *target, size_t want)
{
    const json_t *res = json_object_get(rep, "results"), *r;
    size_t i;
    if (json_array_size(res) != want) {
        printf("# %zu results, expected %zu\n", json_array_size(res), want);
        return false;
    }
    json_array_foreach(res, i, r)
    {
        if (!s(r, "target") || strcmp(s(r, "target"), target) != 0 || u(r, "expected") == 0 ||
            u(r, "delivered") != u(r, "expected") || u(r, "lost") || u(r, "duplicated") ||
            u(r, "subscribers_failed")) {
            printf("# %s %s: expected %llu delivered %llu lost %llu dup %llu failed %llu\n",
                   s(r, "target"), s(r, "transport"), (unsigned long long)u(r, "expected"),
                   (unsigned long long)u(r, "delivered"), (unsigned long long)u(r, "lost"),
                   (unsigned long long)u(r, "duplicated"),
                   (unsigned long long)u(r, "subscribers_failed"));
            return false;
        }
    }
    return true;
}

TEST(nchan_started_by_the_bench_delivers_every_transport_once)
{
    const char *args[] = {"--target", "nchan", SMALL, "--rooms", "2", NULL};
    json_t *rep = bench("nchan.json", args);
    CHECK(rep);
    bool ok = all_once(rep, "nchan", 4);
    /* nginx's master and its worker, read from /proc */
    json_t *r0 = json_array_get(json_object_get(rep, "results"), 0);
    int procs = (int)u(r0, "server_processes");
    uint64_t rss = u(r0, "server_rss_bytes");
    json_decref(rep);
    CHECK(ok);
    CHECK(procs >= 2);
    CHECK(rss > 0);
}

TEST(nchan_given_by_url_and_server_pid_delivers_every_transport_once)
{
    pl_bnginx ngx = {0};
    pl_bnginx_cfg cfg = {.site = pl_nchan_conf, .connections = 512, .workers = 1};
    char pid[16];
    CHECK(pl_bnginx_start(&ngx, &cfg) == 0);
    snprintf(pid, sizeof pid, "%d", (int)ngx.pid);
    const char *args[] = {"--target", "nchan", "--url", ngx.http, "--server-pid", pid, SMALL, NULL};
    json_t *rep = bench("nchan-url.json", args);
    pl_bnginx_stop(&ngx);
    CHECK(rep);
    bool ok = all_once(rep, "nchan", 4);
    json_t *r0 = json_array_get(json_object_get(rep, "results"), 0);
    int procs = (int)u(r0, "server_processes");
    json_decref(rep);
    CHECK(ok);
    CHECK_EQ_INT(procs, 2); /* master and one worker */
}

TEST(ws_broadcast_started_by_the_bench_delivers_everything_once)
{
    const char *args[] = {"--target", "ws-broadcast", "--relay-bin", relay_exe, SMALL, NULL};
    json_t *rep = bench("relay.json", args);
    CHECK(rep);
    bool ok = all_once(rep, "ws-broadcast", 1); /* WebSocket only */
    const char *t = s(json_array_get(json_object_get(rep, "results"), 0), "transport");
    bool ws = t && strcmp(t, "ws") == 0;
    json_decref(rep);
    CHECK(ok);
    CHECK(ws);
}

TEST(ws_broadcast_refuses_transports_it_does_not_serve)
{
    const char *args[] = {"--target",     "ws-broadcast", "--relay-bin", relay_exe,
                          "--transports", "sse",          NULL};
    CHECK_EQ_INT(wait_exit(bench_start("relay-sse.json", args)), 2);
}

TEST(pushlab_and_nchan_run_in_turn_into_one_report)
{
    const char *args[] = {"--target", "pushlab,nchan", "--transports", "sse,ws", SMALL, NULL};
    json_t *rep = bench("both.json", args);
    CHECK(rep);
    const json_t *res = json_object_get(rep, "results");
    bool ok = json_array_size(res) == 4 &&
              strcmp(s(json_array_get(res, 0), "target"), "pushlab") == 0 &&
              strcmp(s(json_array_get(res, 3), "target"), "nchan") == 0;
    json_t *pushlab =
        json_pack("{s:[O,O]}", "results", json_array_get(res, 0), json_array_get(res, 1));
    json_t *nchan =
        json_pack("{s:[O,O]}", "results", json_array_get(res, 2), json_array_get(res, 3));
    ok = ok && all_once(pushlab, "pushlab", 2) && all_once(nchan, "nchan", 2);
    json_decref(pushlab);
    json_decref(nchan);
    json_decref(rep);
    CHECK(ok);
}

TEST(two_threads_deliver_everything_once)
{
    const char *args[] = {
        "--threads", "2",   "--subscribers",   "9",   "--rate",  "30", "--duration", "1",
        "--warmup",  "0.5", "--poll-interval", "100", "--rooms", "3",  NULL};
    json_t *rep = bench("threads.json", args);
    CHECK(rep);
    bool ok = all_once(rep, "pushlab", 4);
    json_t *r0 = json_array_get(json_object_get(rep, "results"), 0);
    int threads = (int)u(r0, "threads");
    uint64_t subs = u(r0, "subscribers"), open = u(r0, "subscribers_open");
    json_decref(rep);
    CHECK(ok);
    CHECK_EQ_INT(threads, 2);
    CHECK_EQ_INT((int)subs, 9);
    CHECK_EQ_INT((int)open, 9);
}

/* The sum of the "histogram" counts of result `r`. */
static uint64_t hist_count(const json_t *r)
{
    const json_t *b = json_object_get(json_object_get(r, "histogram"), "buckets"), *e;
    uint64_t n = 0;
    size_t i;
    json_array_foreach(b, i, e) n += (uint64_t)json_integer_value(json_array_get(e, 1));
    return n;
}

TEST(merge_of_two_runs_taken_together_adds_up)
{
    const char *a[] = {"--transports", "sse,ws", SMALL, NULL};
    const char *b[] = {"--transports", "ws", "--subscribers", "4",   "--rate", "10",
                       "--duration",   "1",  "--warmup",      "0.5", NULL};
    pid_t pa = bench_start("a.json", a), pb = bench_start("b.json", b);
    CHECK_EQ_INT(wait_exit(pa), 0);
    CHECK_EQ_INT(wait_exit(pb), 0);
    char in_a[128], in_b[128], out[128];
    snprintf(in_a, sizeof in_a, "%s/a.json", tmp);
    snprintf(in_b, sizeof in_b, "%s/b.json", tmp);
    snprintf(out, sizeof out, "%s/m.json", tmp);
    const char *argv[] = {bench_exe, "merge", in_a, in_b, "--json", out, NULL};
    pid_t pm = fork();
    if (pm == 0) {
        dup2(2, 1);
        execv(bench_exe, (char *const *)argv);
        _exit(127);
    }
    CHECK_EQ_INT(wait_exit(pm), 0);
    json_t *ja = load("a.json"), *jb = load("b.json"), *jm = load("m.json");
    CHECK(ja && jb && jm);
    const json_t *ra = json_object_get(ja, "results"), *rb = json_object_get(jb, "results");
    const json_t *rm = json_object_get(jm, "results");
    /* a: sse, ws; b: ws. Merged: sse = a's, ws = a's + b's. */
    const json_t *aw = json_array_get(ra, 1), *bw = json_array_get(rb, 0);
    const json_t *mw = json_array_get(rm, 1), *ms = json_array_get(rm, 0);
    bool shape = json_array_size(rm) == 2 && strcmp(s(ms, "transport"), "sse") == 0 &&
                 strcmp(s(mw, "transport"), "ws") == 0;
    uint64_t deliv = shape ? u(mw, "delivered") : 0, sum = u(aw, "delivered") + u(bw, "delivered");
    uint64_t exp = shape ? u(mw, "expected") : 0, exp_sum = u(aw, "expected") + u(bw, "expected");
    uint64_t subs = shape ? u(mw, "subscribers") : 0, hist = shape ? hist_count(mw) : 0;
    uint64_t sse = shape ? u(ms, "delivered") : 0, sse_a = u(json_array_get(ra, 0), "delivered");
    size_t parts = json_array_size(json_object_get(jm, "parts"));
    size_t warnings = json_array_size(json_object_get(jm, "warnings"));
    json_decref(ja);
    json_decref(jb);
    json_decref(jm);
    CHECK(shape);
    CHECK(sum > 0);
    CHECK_EQ_INT((int)deliv, (int)sum);
    CHECK_EQ_INT((int)exp, (int)exp_sum);
    CHECK_EQ_INT((int)hist, (int)sum);
    CHECK_EQ_INT((int)subs, 10);
    CHECK_EQ_INT((int)sse, (int)sse_a);
    CHECK_EQ_INT((int)parts, 2);
    CHECK(warnings >= 1); /* the server figures are each part's own */
}

TEST(merge_of_a_file_that_is_not_a_run_fails_naming_it)
{
    char bad[128], out[128];
    snprintf(bad, sizeof bad, "%s/bad.json", tmp);
    snprintf(out, sizeof out, "%s/bad-out.json", tmp);
    FILE *f = fopen(bad, "w");
    CHECK(f);
    fputs("{\"results\": 3}", f);
    fclose(f);
    const char *argv[] = {bench_exe, "merge", bad, "--json", out, NULL};
    pid_t pm = fork();
    if (pm == 0) {
        dup2(2, 1);
        execv(bench_exe, (char *const *)argv);
        _exit(127);
    }
    CHECK_EQ_INT(wait_exit(pm), 1);
    CHECK(access(out, F_OK) != 0);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    bench_exe = argv[1];
    server_exe = argv[2];
    relay_exe = argv[3];
    if (!mkdtemp(tmp))
        return 1;
    pl_bnginx_cfg cfg = {.site = pl_nchan_conf};
    if (!pl_bnginx_available(&cfg)) {
        printf("# nginx with the nchan module is not installed: scripts/deps.sh test\n");
        printf("not ok 1 - nginx_with_nchan_is_installed\n1..1\n");
        return 1;
    }
    RUN(nchan_started_by_the_bench_delivers_every_transport_once);
    RUN(nchan_given_by_url_and_server_pid_delivers_every_transport_once);
    RUN(ws_broadcast_started_by_the_bench_delivers_everything_once);
    RUN(ws_broadcast_refuses_transports_it_does_not_serve);
    RUN(pushlab_and_nchan_run_in_turn_into_one_report);
    RUN(two_threads_deliver_everything_once);
    RUN(merge_of_two_runs_taken_together_adds_up);
    RUN(merge_of_a_file_that_is_not_a_run_fails_naming_it);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0)
        return 1;
    return CHECK_DONE();
}
