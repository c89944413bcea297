/* pushlab-bench's source addresses: ports held on an address (TIME_WAIT
 * too) are counted before it is used; a subscription whose address the
 * kernel refuses moves to the next one; one that cannot open anywhere is
 * reported with its reason and counted as subscribers_failed, not lost.
 * Usage: test_source_addrs <pushlab-bench> <pushlab-server> */
#include "check.h"
#include "spawn.h"
#include "srcaddr.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *bench_exe, *server_exe;

/* ------------------------------------------------------------ counting */

TEST(ports_held_in_every_state_count_against_their_address_and_range)
{
    static const char text[] =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
        "   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0\n"
        "   2: 0100007F:9C41 0100007F:1F90 06 00000000:00000000 03:00000a3c 00000000     0\n"
        "   3: 0200007F:9C42 0100007F:1F90 06 00000000:00000000 03:00000a3c 00000000     0\n"
        "   4: 0100007F:EE48 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0\n"
        /* accepted on a listener at 40000 (in range): many sockets, one port */
        "   5: 0100007F:9C40 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0\n"
        "   6: 0100007F:9C40 0100007F:A001 06 00000000:00000000 03:00000a3c 00000000     0\n";
    uint32_t one, two;
    inet_pton(AF_INET, "127.0.0.1", &one);
    inet_pton(AF_INET, "127.0.0.2", &two);
    /* 40000..60999: the listener on 8080 and the socket on 61000 are out */
    CHECK_EQ_INT(pl_srcaddr_count(text, one, 40000, 60999), 2);
    CHECK_EQ_INT(pl_srcaddr_count(text, two, 40000, 60999), 1);
    CHECK_EQ_INT(pl_srcaddr_count(text, one, 1, 65535), 4);
    CHECK_EQ_INT(pl_srcaddr_count(text, one, 40000, 40000), 1);
}

/* Leaves `n` sockets in TIME_WAIT on `from`: connections to a listener
 * that the client side closes first. Returns how many it made. */
static int make_time_wait(const char *from, int n)
{
    struct sockaddr_in to = {.sin_family = AF_INET}, src = {.sin_family = AF_INET};
    socklen_t len = sizeof to;
    int made = 0, l = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    inet_pton(AF_INET, from, &src.sin_addr);
    if (l < 0 || bind(l, (struct sockaddr *)&to, sizeof to) || listen(l, n) ||
        getsockname(l, (struct sockaddr *)&to, &len))
        return 0;
    for (int i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c >= 0 && bind(c, (struct sockaddr *)&src, sizeof src) == 0 &&
            connect(c, (struct sockaddr *)&to, sizeof to) == 0) {
            int a = accept(l, NULL, NULL);
            close(c); /* first: this side keeps the TIME_WAIT */
            if (a >= 0) {
                char b;
                (void)!read(a, &b, 1);
                close(a);
            }
            made++;
        } else if (c >= 0) {
            close(c);
        }
    }
    close(l);
    return made;
}

TEST(time_wait_on_an_address_leaves_it_fewer_free_ports)
{
    pl_srcplan p;
    char a[32], b[32], list[64];
    /* Addresses of our own: no earlier run's TIME_WAIT on them. */
    int net = 2 + (int)(getpid() % 250);
    snprintf(a, sizeof a, "127.%d.0.77", net);
    snprintf(b, sizeof b, "127.%d.0.78", net);
    snprintf(list, sizeof list, "%s,%s", a, b);
    pl_bench_opts o = {.source_list = list};
    int made = make_time_wait(a, 40);
    CHECK_EQ_INT(made, 40);
    CHECK_EQ_INT(pl_srcplan_init(&p, &o, "http://127.0.0.1:8080"), 0);
    CHECK_EQ_INT(p.n, 2);
    CHECK_EQ_INT(p.a[1].free_ports - p.a[0].free_ports, 40);
    CHECK(p.a[0].capacity < p.a[0].free_ports); /* a reserve is kept */
    CHECK(p.a[0].bind && p.a[1].bind);
}

TEST(automatic_plan_fills_addresses_in_order_and_skips_full_ones)
{
    pl_srcplan p;
    pl_bench_opts o = {0};
    CHECK_EQ_INT(pl_srcplan_init(&p, &o, "http://127.0.0.1:8080"), 0);
    CHECK(p.n >= 2);
    CHECK(!p.a[0].bind); /* 127.0.0.1: the kernel's choice, port per destination */
    CHECK_EQ_STR(p.a[0].addr, "127.0.0.1");
    p.a[0].capacity = 2;
    CHECK_EQ_INT(pl_srcplan_take(&p), 0);
    CHECK_EQ_INT(pl_srcplan_take(&p), 0);
    CHECK_EQ_INT(pl_srcplan_take(&p), 1);
    pl_srcplan_full(&p, 1, "test");
    CHECK_EQ_INT(pl_srcplan_take(&p), 2);
    CHECK_EQ_STR(pl_srcplan_addr(&p, 2), "127.0.0.3");
    CHECK(pl_srcaddr_exhausted(-EADDRNOTAVAIL) && pl_srcaddr_exhausted(-EADDRINUSE));
    CHECK(!pl_srcaddr_exhausted(-ECONNREFUSED));
}

/* Subscriptions of every thread that find no address give one reason:
 * the address the kernel refused last and its words. */
TEST(no_address_left_names_the_one_refused_last)
{
    pl_srcplan p;
    pl_bench_opts o = {0};
    char why[256];
    CHECK_EQ_INT(pl_srcplan_init(&p, &o, "http://127.0.0.1:8080"), 0);
    pl_srcplan_why_none(&p, why, sizeof why);
    CHECK(strstr(why, "no source address has a free port left") == why);
    pl_srcplan_full(&p, 0, "bind failed");
    pl_srcplan_full(&p, 1, "connect failed: Cannot assign requested address");
    pl_srcplan_full(&p, 0, "again"); /* already retired: changes nothing */
    pl_srcplan_why_none(&p, why, sizeof why);
    CHECK_EQ_STR(why, "no source address left (last: 127.0.0.2: connect failed: Cannot assign "
                      "requested address)");
}

/* ---------------------------------------------------------- end to end */

/* What a test reads of one transport's result (plain values, so a
 * failed check leaks no JSON). */
typedef struct result {
    char transport[16], src0[16];
    double failed, open, published, expected, delivered, lost;
    double src0_free, src0_subs, src1_subs;
    bool src0_refused;
    int n_src;
} result;

static double num(json_t *r, const char *key) { return json_number_value(json_object_get(r, key)); }

static void read_result(json_t *r, result *out)
{
    json_t *src = json_object_get(r, "source_addresses"), *s0 = json_array_get(src, 0);
    snprintf(out->transport, sizeof out->transport, "%s",
             json_string_value(json_object_get(r, "transport")) ?: "");
    snprintf(out->src0, sizeof out->src0, "%s",
             json_string_value(json_object_get(s0, "addr")) ?: "");
    out->failed = num(r, "subscribers_failed");
    out->open = num(r, "subscribers_open");
    out->published = num(r, "published");
    out->expected = num(r, "expected");
    out->delivered = num(r, "delivered");
    out->lost = num(r, "lost");
    out->src0_free = num(s0, "free_ports");
    out->src0_subs = num(s0, "subscribers");
    out->src1_subs = num(json_array_get(src, 1), "subscribers");
    out->src0_refused = json_is_true(json_object_get(s0, "refused"));
    out->n_src = (int)json_array_size(src);
}

/* Runs the bench with its own server (unless `args` has --url) and
 * `args`; its stdout and stderr go to `err`, up to `max` results to
 * `res`. Returns its exit status or -1; *n the results read. */
static int run_bench(const char *const *args, char *err, size_t errcap, result *res, int max,
                     int *n)
{
    char json[] = "/tmp/pl-src-test-XXXXXX", errf[] = "/tmp/pl-src-err-XXXXXX";
    const char *argv[48] = {bench_exe, "--server-bin", server_exe, "--json", json, "--quiet"};
    int argc = 6, st = 0, status = -1, jfd = mkstemp(json), efd = mkstemp(errf);
    for (; *args && argc < 46; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(efd, 2);
        dup2(efd, 1); /* the table is not TAP */
        execv(bench_exe, (char *const *)argv);
        _exit(127);
    }
    if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
        status = WEXITSTATUS(st);
    ssize_t got = pread(efd, err, errcap - 1, 0);
    err[got > 0 ? got : 0] = '\0';
    json_t *rep = json_load_file(json, 0, NULL), *results = json_object_get(rep, "results");
    for (*n = 0; *n < max && *n < (int)json_array_size(results); (*n)++)
        read_result(json_array_get(results, (size_t)*n), &res[*n]);
    json_decref(rep);
    close(jfd), close(efd);
    unlink(json), unlink(errf);
    return status;
}

#define SUBS "6"
static const char *const all[] = {"short_poll", "long_poll", "sse", "ws"};

/* 192.0.2.1 (TEST-NET-1) is on no interface: binding it fails with
 * EADDRNOTAVAIL, as an address whose ports are all taken does. */
TEST(subscriptions_move_off_a_source_address_the_kernel_refuses)
{
    static char err[65536];
    result res[4];
    int n;
    const char *args[] = {"--subscribers",
                          SUBS,
                          "--rate",
                          "20",
                          "--duration",
                          "0.5",
                          "--warmup",
                          "0.2",
                          "--poll-interval",
                          "100",
                          "--source-addrs",
                          "192.0.2.1,127.0.0.1",
                          NULL};
    int rc = run_bench(args, err, sizeof err, res, 4, &n);
    if (rc != 0 || n != 4)
        check_comment("bench output", err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(n, 4);
    for (int i = 0; i < 4; i++) {
        result *r = &res[i];
        printf("# %s: failed %g, expected %g, delivered %g\n", all[i], r->failed, r->expected,
               r->delivered);
        CHECK_EQ_STR(r->transport, all[i]);
        CHECK_EQ_INT(r->failed, 0);
        CHECK_EQ_INT(r->open, 6);
        CHECK(r->expected > 0);
        CHECK_EQ_INT(r->delivered, r->expected);
        CHECK_EQ_STR(r->src0, "192.0.2.1");
        CHECK(r->src0_refused);
        CHECK_EQ_INT(r->src1_subs, 6);
    }
    CHECK(strstr(err, "sse: source address 192.0.2.1 refused (Cannot assign requested address") !=
          NULL);
    CHECK(strstr(err, "ws: source address 192.0.2.1 refused") != NULL);
}

TEST(subscriptions_that_cannot_open_are_counted_failed_with_a_reason_not_lost)
{
    static char err[65536];
    result res[2];
    int n;
    const char *args[] = {"--subscribers",
                          SUBS,
                          "--rate",
                          "20",
                          "--duration",
                          "0.5",
                          "--warmup",
                          "0.2",
                          "--transports",
                          "sse,ws",
                          "--source-addrs",
                          "192.0.2.1",
                          NULL};
    int rc = run_bench(args, err, sizeof err, res, 2, &n);
    if (rc != 0 || n != 2)
        check_comment("bench output", err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(n, 2);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(res[i].failed, 6);
        CHECK_EQ_INT(res[i].open, 0);
        CHECK(res[i].published > 0);
        CHECK_EQ_INT(res[i].expected, 0);
        CHECK_EQ_INT(res[i].lost, 0);
    }
    CHECK(strstr(err, "sse: 6 subscriptions could not open: no source address left (last: "
                      "192.0.2.1: ") != NULL);
    CHECK(strstr(err, "ws: 6 subscriptions could not open: no source address left (last: "
                      "192.0.2.1: WebSocket connect failed: Unable to connect (Cannot assign "
                      "requested address))") != NULL);
}

/* WebSocket subscriptions to a closed port: a server that refuses them,
 * the way a busy one does. They are failures with a reason, and the
 * messages they could not get are no loss. */
TEST(refused_subscriptions_are_failed_with_a_reason_not_hidden_in_lost)
{
    static char err[65536];
    pl_test_server srv;
    result r = {0};
    int n = 0;
    CHECK(pl_test_server_start(&srv, server_exe, NULL) == 0);
    const char *args[] = {"--url",
                          srv.http,
                          "--ws-url",
                          "ws://127.0.0.1:1",
                          "--transports",
                          "ws",
                          "--subscribers",
                          SUBS,
                          "--rate",
                          "20",
                          "--duration",
                          "0.5",
                          "--warmup",
                          "0.2",
                          NULL};
    int rc = run_bench(args, err, sizeof err, &r, 1, &n);
    pl_test_server_stop(&srv, SIGTERM);
    printf("# ws to a closed port: failed %g, expected %g, lost %g\n", r.failed, r.expected,
           r.lost);
    if (n != 1 || r.failed != 6)
        check_comment("bench output", err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(n, 1);
    CHECK(r.published > 0);
    CHECK_EQ_INT(r.failed, 6);
    CHECK_EQ_INT(r.expected, 0);
    CHECK_EQ_INT(r.lost, 0);
    CHECK(strstr(err, "ws: 6 subscriptions could not open: WebSocket connect failed") != NULL);
}

/* ---------------------------------------------- real exhaustion (netns) */

#define RANGE_PORTS 400

/* A private network namespace whose ephemeral range is 400 ports: real
 * addresses running out, without touching the machine's. Needs
 * CAP_SYS_ADMIN; false when it cannot be had (then the test skips). */
static bool small_port_range(void)
{
    struct ifreq ifr = {0};
    char range[32];
    if (unshare(CLONE_NEWNET) != 0)
        return false;
    int s = socket(AF_INET, SOCK_DGRAM, 0),
        fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY);
    int n = snprintf(range, sizeof range, "40000 %d\n", 40000 + RANGE_PORTS - 1);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    bool ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 &&
              (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) == 0) && fd >= 0 &&
              write(fd, range, (size_t)n) == n;
    if (s >= 0)
        close(s);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Back-to-back runs of 300 subscriptions on 400 ports: WebSocket, then
 * SSE, then WebSocket again. Each run finds the earlier ones' TIME_WAIT
 * on 127.0.0.1 and must go elsewhere; every one opens, every message
 * arrives. */
TEST(back_to_back_runs_move_past_the_time_wait_of_the_previous_ones)
{
    static char err[65536];
    static const char *const transports[] = {"ws", "sse", "ws"};
    for (int round = 0; round < 3; round++) {
        result r = {0};
        int n = 0;
        const char *args[] = {
            "--subscribers", "300",          "--rate",          "4", "--duration", "1", "--warmup",
            "0.3",           "--transports", transports[round], NULL};
        int rc = run_bench(args, err, sizeof err, &r, 1, &n);
        if (rc != 0 || n != 1 || getenv("PL_TEST_VERBOSE"))
            check_comment("bench output", err);
        printf("# %s: failed %g, %d addresses (127.0.0.1: %g free ports, %g subscriptions), "
               "delivered %g of %g\n",
               transports[round], r.failed, r.n_src, r.src0_free, r.src0_subs, r.delivered,
               r.expected);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(r.failed, 0);
        CHECK_EQ_STR(r.src0, "127.0.0.1");
        if (round == 0) { /* nothing in TIME_WAIT yet: one address holds them all */
            CHECK_EQ_INT(r.src0_subs, 300);
        } else { /* the previous run's TIME_WAIT there: fewer free, so spread */
            CHECK(r.src0_free <= RANGE_PORTS - 150);
            CHECK(r.src0_subs < 300 && r.n_src >= 2);
        }
        CHECK(r.published > 0);
        CHECK_EQ_INT(r.expected, r.published * 300);
        CHECK_EQ_INT(r.delivered, r.expected);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("1..0 # SKIP usage: test_source_addrs BENCH SERVER\n");
        return 0;
    }
    bench_exe = argv[1];
    server_exe = argv[2];
    RUN(ports_held_in_every_state_count_against_their_address_and_range);
    RUN(time_wait_on_an_address_leaves_it_fewer_free_ports);
    RUN(automatic_plan_fills_addresses_in_order_and_skips_full_ones);
    RUN(no_address_left_names_the_one_refused_last);
    RUN(subscriptions_move_off_a_source_address_the_kernel_refuses);
    RUN(subscriptions_that_cannot_open_are_counted_failed_with_a_reason_not_lost);
    RUN(refused_subscriptions_are_failed_with_a_reason_not_hidden_in_lost);
    if (small_port_range()) {
        RUN(back_to_back_runs_move_past_the_time_wait_of_the_previous_ones);
    } else {
        printf("ok %d - back_to_back_runs_move_past_the_time_wait_of_the_previous_ones # SKIP "
               "no CAP_SYS_ADMIN for a network namespace\n",
               ++check_run);
    }
    return CHECK_DONE();
}
