/* Specification of pushlab-bench end to end: the real binary runs a short
 * scenario per transport against its own real server and its --json and
 * --csv say every message arrived once, with plausible request and wire
 * byte counts. Asserts counts, never timings.
 * Usage: test_scenario <pushlab-bench> <pushlab-server> */
#include "check.h"
#include "spawn.h"
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUBS 4
#define SIZE 100

static const char *bench_exe, *server_exe;
static char json_path[64] = "/tmp/pl-bench-test-XXXXXX";
static char csv_path[sizeof json_path + 8];
static json_t *report;
static int bench_status = -1;

/* Runs the bench with `args` (NULL-terminated, after the binary) writing
 * JSON to `path`; returns its exit status or -1, and the parsed report. */
static int run_with(const char *const *args, const char *path, json_t **out)
{
    const char *argv[40] = {bench_exe};
    int n = 1;
    for (; *args && n < 36; args++)
        argv[n++] = *args;
    argv[n++] = "--json";
    argv[n++] = path;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(2, 1); /* its table is not TAP: keep it out of our stdout */
        execv(bench_exe, (char *const *)argv);
        _exit(127);
    }
    int st = 0, status = -1;
    if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
        status = WEXITSTATUS(st);
    *out = json_load_file(path, 0, NULL);
    return status;
}

/* Runs the bench once for all transports; every TEST reads its report. */
static void run_bench(void)
{
    int fd = mkstemp(json_path);
    if (fd >= 0)
        close(fd);
    snprintf(csv_path, sizeof csv_path, "%s.csv", json_path);
    char subs[16], size[16];
    snprintf(subs, sizeof subs, "%d", SUBS);
    snprintf(size, sizeof size, "%d", SIZE);
    const char *args[] = {"--server-bin",    server_exe, "--subscribers", subs,
                          "--size",          size,       "--rate",        "20",
                          "--duration",      "1",        "--warmup",      "0.3",
                          "--poll-interval", "100",      "--rooms",       "2",
                          "--csv",           csv_path,   "--quiet",       NULL};
    bench_status = run_with(args, json_path, &report);
}

static json_t *result_for(const char *transport)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "results"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "transport")), transport) == 0)
            return r;
    }
    return NULL;
}

static double num(json_t *r, const char *key) { return json_number_value(json_object_get(r, key)); }

TEST(bench_exits_zero_and_writes_json_with_env_and_params)
{
    CHECK_EQ_INT(bench_status, 0);
    CHECK(report != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(report, "pushlab_bench")), 1);
    json_t *env = json_object_get(report, "env");
    CHECK(json_is_string(json_object_get(env, "kernel")));
    CHECK(json_is_string(json_object_get(env, "cpu_model")));
    CHECK(json_is_object(json_object_get(env, "libs")));
    json_t *params = json_object_get(report, "params");
    CHECK_EQ_INT(json_integer_value(json_object_get(params, "subscribers")), SUBS);
    CHECK_EQ_INT(json_integer_value(json_object_get(params, "size")), SIZE);
    CHECK_EQ_INT(json_array_size(json_object_get(params, "transports")), 4);
    CHECK_EQ_INT(json_array_size(json_object_get(report, "results")), 4);
}

/* The checks every transport must pass: all delivered, once, in order, and
 * each delivery carried at least the message text in. */
static void check_transport(const char *name)
{
    json_t *r = result_for(name);
    CHECK(r != NULL);
    CHECK(num(r, "published") > 0);
    CHECK_EQ_INT(num(r, "expected"), num(r, "published") * SUBS / 2);
    CHECK_EQ_INT(num(r, "delivered"), num(r, "expected"));
    CHECK_EQ_INT(num(r, "lost"), 0);
    CHECK_EQ_INT(num(r, "duplicated"), 0);
    CHECK_EQ_INT(num(r, "out_of_order"), 0);
    CHECK(num(r, "bytes_in_per_msg") > SIZE);
    CHECK(num(r, "http_requests_total") >= SUBS);
    CHECK(num(r, "tcp_connections_total") >= SUBS);
    json_t *buckets = json_object_get(json_object_get(r, "histogram"), "buckets");
    size_t i;
    json_t *b;
    double counted = 0, prev = -1;
    json_array_foreach(buckets, i, b)
    {
        CHECK(json_number_value(json_array_get(b, 0)) > prev);
        prev = json_number_value(json_array_get(b, 0));
        counted += json_number_value(json_array_get(b, 1));
    }
    CHECK_EQ_INT(counted, num(r, "delivered"));
    CHECK(json_is_object(json_object_get(r, "latency_intended_us")));
}

TEST(short_poll_delivers_every_message_once) { check_transport("short_poll"); }
TEST(long_poll_delivers_every_message_once) { check_transport("long_poll"); }
TEST(sse_delivers_every_message_once) { check_transport("sse"); }
TEST(ws_delivers_every_message_once) { check_transport("ws"); }

/* Polling pays a request per message or more, and sends it; a stream pays
 * its request once, at connect, so far less than one per message. */
TEST(polling_sends_requests_per_message_and_streams_do_not)
{
    CHECK(num(result_for("short_poll"), "http_requests_per_msg") > 0);
    CHECK(num(result_for("long_poll"), "http_requests_per_msg") > 0);
    CHECK(num(result_for("short_poll"), "bytes_out_per_msg") > 0);
    CHECK(num(result_for("long_poll"), "bytes_out_per_msg") > 0);
    CHECK(num(result_for("sse"), "http_requests_per_msg") < 0.5);
    CHECK(num(result_for("ws"), "http_requests_per_msg") < 0.5);
}

TEST(server_cpu_and_memory_are_reported)
{
    json_t *r = result_for("sse");
    CHECK(r != NULL);
    CHECK(json_is_number(json_object_get(r, "server_cpu_ms_per_1000")));
    CHECK(num(r, "server_rss_bytes") > 0);
}

/* Long polling's CPU per request-response cycle is the server's CPU over
 * the window's requests; a stream transport makes none in the window. */
TEST(long_poll_server_cpu_per_request_is_reported)
{
    json_t *lp = result_for("long_poll");
    CHECK(lp != NULL);
    CHECK(num(lp, "http_requests") > 0);
    double d = num(lp, "server_cpu_us_per_request") -
               num(lp, "server_cpu_s") * 1e6 / num(lp, "http_requests");
    CHECK(num(lp, "server_cpu_us_per_request") > 0);
    CHECK(d < 1e-3 && d > -1e-3);
    CHECK(json_object_get(result_for("sse"), "server_cpu_us_per_request") == NULL);
}

/* The server's own count of what it wrote for a transport, per delivered
 * message, agrees with what the subscribers' sockets received (both are
 * kernel counts, at the two ends of the same connections). */
TEST(server_bytes_out_per_message_matches_what_subscribers_received)
{
    const char *names[] = {"short_poll", "long_poll", "sse", "ws"};
    for (int i = 0; i < 4; i++) {
        json_t *r = result_for(names[i]);
        double srv = num(r, "server_bytes_out_per_msg"), in = num(r, "bytes_in_per_msg");
        CHECK(json_is_integer(json_object_get(r, "server_bytes_out")));
        CHECK(srv > SIZE);
        CHECK(srv > in * 0.97 && srv < in * 1.03);
    }
}

/* The bench's own CPU comes with its kernel part, so a reader can tell
 * the network stack's cost from the libraries'. */
TEST(bench_cpu_is_reported_with_its_kernel_part)
{
    const char *names[] = {"short_poll", "long_poll", "sse", "ws"};
    for (int i = 0; i < 4; i++) {
        json_t *r = result_for(names[i]);
        CHECK(json_is_number(json_object_get(r, "bench_cpu_sys_s")));
        CHECK(json_is_number(json_object_get(r, "bench_sys_us_per_delivery")));
        CHECK(num(r, "bench_cpu_sys_s") >= 0);
        CHECK(num(r, "bench_cpu_sys_s") <= num(r, "bench_cpu_s"));
    }
}

/* The saturation warning reads the busiest subscriber thread: with one
 * lane it did work in the window and is no more than the process. */
TEST(busiest_subscriber_thread_cpu_is_reported_within_the_process_cpu)
{
    const char *names[] = {"short_poll", "long_poll", "sse", "ws"};
    for (int i = 0; i < 4; i++) {
        json_t *r = result_for(names[i]);
        CHECK(json_is_number(json_object_get(r, "busiest_lane_cpu_s")));
        CHECK(num(r, "busiest_lane_cpu_s") > 0);
        CHECK(num(r, "busiest_lane_cpu_s") <= num(r, "bench_cpu_s"));
        CHECK(num(r, "busiest_lane_cpu_share") <= num(r, "bench_cpu_share"));
    }
}

static int commas(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == ',';
    return n;
}

TEST(csv_has_a_header_and_one_line_per_transport)
{
    FILE *f = fopen(csv_path, "r");
    CHECK(f != NULL);
    char line[2048], header[2048] = "";
    int lines = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (!lines++)
            snprintf(header, sizeof header, "%s", line);
        else
            bad += commas(line) != commas(header);
    }
    fclose(f);
    CHECK_EQ_INT(lines, 5);
    CHECK_EQ_INT(bad, 0);
    CHECK(strstr(header, ",lte_connected_share,lte_avg_mw,") != NULL);
    CHECK(strstr(header, ",3g_dch_share,3g_fach_share,3g_avg_mw,") != NULL);
}

/* Every subscription of the run is sampled (default 4) as a phone. The
 * figures are a model's on a real timeline, so only their shape is
 * checked: shares are shares, power is positive, and each phone was
 * woken at least once (its connect). */
static void check_radio(json_t *radio, int devices)
{
    json_t *lte = json_object_get(radio, "lte"), *g3 = json_object_get(radio, "3g");
    CHECK_EQ_INT(json_integer_value(json_object_get(radio, "devices")), devices);
    CHECK(num(radio, "window_s") > 0);
    CHECK(num(lte, "connected_share") > 0 && num(lte, "connected_share") <= 1);
    CHECK(num(lte, "avg_mw") > 0);
    CHECK(num(lte, "joules_per_hour") > 0);
    CHECK(num(lte, "promotions_per_hour") > 0);
    CHECK(num(g3, "dch_share") >= 0 && num(g3, "fach_share") >= 0);
    CHECK(num(g3, "dch_share") + num(g3, "fach_share") <= num(g3, "connected_share") + 1e-9);
    CHECK(num(g3, "avg_mw") > 0);
    CHECK(num(g3, "promotions_per_hour") > 0);
}

TEST(every_transport_reports_its_sampled_subscribers_as_phones)
{
    const char *names[] = {"short_poll", "long_poll", "sse", "ws"};
    for (int i = 0; i < 4; i++) {
        json_t *r = result_for(names[i]);
        CHECK(r != NULL);
        check_radio(json_object_get(r, "radio"), SUBS);
        if (check_failed_now)
            printf("# in %s\n", names[i]);
    }
}

/* `radio` with --rate 0 and --heartbeat 2: no message, a window of
 * exactly --duration, and the WebSocket subscribers' own pings as
 * --client-ping says: at 0 none, so nothing but the server's 2-byte ping
 * frames comes in (a {"type":"pong"} answer is 17 bytes); at 1, a
 * ping a second goes out. */
static int radio_ws_run(const char *ping, json_t **rep)
{
    char path[64] = "/tmp/pl-bench-radio-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0)
        close(fd);
    const char *args[] = {
        "radio", "--server-bin", server_exe, "--transports",  "ws", "--rate",
        "0",     "--duration",   "3",        "--subscribers", "2",  "--client-ping",
        ping,    "--heartbeat",  "2",        "--quiet",       NULL};
    int status = run_with(args, path, rep);
    unlink(path);
    return status;
}

TEST(radio_runs_a_quiet_window_and_client_ping_sets_the_websocket_pings)
{
    json_t *quiet = NULL, *pinging = NULL;
    int s0 = radio_ws_run("0", &quiet), s1 = radio_ws_run("1", &pinging);
    json_t *r0 = json_array_get(json_object_get(quiet, "results"), 0);
    json_t *r1 = json_array_get(json_object_get(pinging, "results"), 0);
    bool ok = s0 == 0 && s1 == 0 && r0 && r1;
    if (ok) {
        CHECK_EQ_STR(json_string_value(json_object_get(quiet, "mode")), "radio");
        CHECK_EQ_INT(num(json_object_get(quiet, "params"), "client_ping_s"), 0);
        CHECK_EQ_INT(num(r0, "published"), 0);
        CHECK(num(r0, "window_s") >= 3);
        CHECK(num(r0, "bytes_in") < 17);
        CHECK(num(r1, "bytes_out") >= 2 * 15); /* {"type":"ping"}, masked: more */
        check_radio(json_object_get(r0, "radio"), 2);
    }
    json_decref(quiet);
    json_decref(pinging);
    CHECK(ok);
}

TEST(radio_sample_0_reports_no_phones)
{
    char path[64] = "/tmp/pl-bench-radio-XXXXXX";
    json_t *rep = NULL;
    int fd = mkstemp(path);
    if (fd >= 0)
        close(fd);
    const char *args[] = {"--server-bin", server_exe, "--transports",   "sse", "--rate",  "0",
                          "--duration",   "1",        "--radio-sample", "0",   "--quiet", NULL};
    int status = run_with(args, path, &rep);
    unlink(path);
    json_t *r = json_array_get(json_object_get(rep, "results"), 0);
    bool is_null = r && json_is_null(json_object_get(r, "radio"));
    json_decref(rep);
    CHECK_EQ_INT(status, 0);
    CHECK(is_null);
}

/* A server keeping 2 messages per room, polled every 500 ms at 20 msg/s:
 * most messages are trimmed before a poll sees them, and the bench must
 * count them lost rather than report a clean run. Also covers --url. */
TEST(messages_trimmed_before_a_poll_are_counted_lost)
{
    pl_test_server srv;
    const char *extra[] = {"--history", "2", NULL};
    char path[] = "/tmp/pl-bench-lost-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ_INT(pl_test_server_start(&srv, server_exe, extra), 0);
    const char *args[] = {
        "--url",         srv.http, "--ws-url",        srv.ws, "--transports", "short-poll",
        "--subscribers", "2",      "--rate",          "20",   "--duration",   "1",
        "--warmup",      "0",      "--poll-interval", "500",  "--quiet",      NULL};
    json_t *rep = NULL;
    int status = run_with(args, path, &rep);
    pl_test_server_stop(&srv, SIGTERM);
    unlink(path);
    json_t *r = json_array_get(json_object_get(rep, "results"), 0);
    double lost = num(r, "lost"), delivered = num(r, "delivered"), expected = num(r, "expected");
    double gaps = num(r, "gaps");
    json_decref(rep);
    CHECK_EQ_INT(status, 0);
    CHECK(expected > 0);
    CHECK(lost > 0);
    CHECK_EQ_INT(delivered + lost, expected);
    CHECK(gaps > 0);
}

/* `floor` runs bare SSE sockets on the bench's own server and publisher:
 * it must count each event once on each socket, or its CPU per delivery
 * would be divided by the wrong number. */
TEST(floor_counts_every_event_once_on_bare_sockets)
{
    char path[] = "/tmp/pl-bench-floor-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    const char *args[] = {"floor", "--server-bin", server_exe, "--subscribers", "3",   "--rate",
                          "20",    "--duration",   "1",        "--warmup",      "0.3", "--quiet",
                          NULL};
    json_t *rep = NULL;
    int status = run_with(args, path, &rep);
    unlink(path);
    json_t *f = json_object_get(rep, "floor");
    CHECK_EQ_INT(status, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(rep, "mode")), "floor");
    CHECK_EQ_INT(num(f, "expected"), 3 * 20);
    CHECK_EQ_INT(num(f, "delivered"), num(f, "expected"));
    CHECK_EQ_INT(num(f, "closed"), 0);
    CHECK(num(f, "recv_calls") > 0);
    CHECK(json_is_number(json_object_get(f, "cpu_us_per_delivery")));
    json_decref(rep);
}

/* 150 pollers are more than one libcurl multi handle of the client loop
 * serves (64): every message still reaches every one of them, and each
 * keeps reusing one connection. */
TEST(pollers_spread_over_several_curl_shards_get_everything_on_one_connection_each)
{
    char path[] = "/tmp/pl-bench-shards-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    const char *args[] = {"--server-bin",    server_exe, "--transports", "long-poll,short-poll",
                          "--subscribers",   "150",      "--rate",       "20",
                          "--duration",      "1",        "--warmup",     "0.3",
                          "--poll-interval", "200",      "--quiet",      NULL};
    json_t *rep = NULL;
    int status = run_with(args, path, &rep);
    unlink(path);
    CHECK_EQ_INT(status, 0);
    CHECK_EQ_INT(json_array_size(json_object_get(rep, "results")), 2);
    for (int i = 0; i < 2; i++) {
        json_t *r = json_array_get(json_object_get(rep, "results"), (size_t)i);
        CHECK_EQ_INT(num(r, "expected"), 20 * 150);
        CHECK_EQ_INT(num(r, "delivered"), num(r, "expected"));
        CHECK_EQ_INT(num(r, "duplicated"), 0);
        CHECK_EQ_INT(num(r, "tcp_connections_total"), 150);
    }
    json_decref(rep);
}

/* ------------------------------------------- a proxy that eats an answer */

#define EAT_PAIRS 64

/* The child's loop: forwards each connection on `lfd` to the server. The
 * connection of the `k-1`th POST is closed after its answer, so the `k`th
 * goes on a fresh one (libcurl itself retries only on reused ones). Its
 * answer is dropped and the connection closed 200 ms later: the server
 * stored the message, but its publisher never hears so. Writes a byte to
 * `report` when done. */
static void eater_run(int lfd, int server_port, int k, int report)
{
    int cl[EAT_PAIRS], sv[EAT_PAIRS], n = 0, posts = 0, eating = -1, closing = -1;
    char buf[16384];
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)server_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (;;) {
        struct pollfd fds[1 + 2 * EAT_PAIRS] = {{.fd = lfd, .events = POLLIN}};
        for (int i = 0; i < n; i++) {
            fds[1 + 2 * i] = (struct pollfd){.fd = cl[i], .events = POLLIN};
            fds[2 + 2 * i] = (struct pollfd){.fd = sv[i], .events = POLLIN};
        }
        if (poll(fds, (nfds_t)(1 + 2 * n), eating >= 0 ? 200 : -1) == 0) {
            close(cl[eating]), close(sv[eating]);
            cl[eating] = sv[eating] = -1;
            eating = -2; /* done: never again */
            if (write(report, "x", 1) != 1)
                _exit(1);
            continue;
        }
        if ((fds[0].revents & POLLIN) && n < EAT_PAIRS) {
            cl[n] = accept(lfd, NULL, NULL);
            sv[n] = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(sv[n], (struct sockaddr *)&a, sizeof a) == 0)
                n++;
        }
        for (int i = 0; i < n; i++) {
            for (int dir = 0; dir < 2; dir++) {
                struct pollfd *f = &fds[1 + 2 * i + dir];
                if (f->fd < 0 || !(f->revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                ssize_t r = read(f->fd, buf, sizeof buf);
                if (r <= 0) {
                    close(cl[i]), close(sv[i]);
                    cl[i] = sv[i] = -1;
                    break;
                }
                if (dir == 1 && i == eating)
                    continue; /* the answer we eat */
                for (char *q = buf; dir == 0 && (q = memmem(q, (size_t)(buf + r - q), "POST /", 6));
                     q++) {
                    closing = ++posts == k - 1 ? i : closing;
                    eating = posts == k && eating == -1 ? i : eating;
                }
                if (write(dir == 0 ? sv[i] : cl[i], buf, (size_t)r) != r)
                    break;
                if (dir == 1 && i == closing) {
                    close(cl[i]), close(sv[i]);
                    cl[i] = sv[i] = closing = -1;
                    break;
                }
            }
        }
    }
}

/* Starts the proxy in a child; returns its pid and port, and the pipe it
 * reports on. */
static pid_t eater_start(int server_port, int k, int *port, int *report)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0), p[2];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) != 0 || pipe(p) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        eater_run(lfd, server_port, k, p[1]);
        _exit(0);
    }
    close(lfd);
    close(p[1]);
    *report = p[0];
    return pid;
}

/* The server stores a message whose answer never reaches the publisher:
 * the bench must send it again with the same cid, so it is stored once,
 * counted once, and the run stays clean. */
TEST(a_publish_whose_answer_is_lost_is_stored_and_counted_once)
{
    pl_test_server srv;
    char url[64], path[] = "/tmp/pl-bench-eat-XXXXXX", ate = 0;
    int port = 0, report = -1, fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ_INT(pl_test_server_start(&srv, server_exe, NULL), 0);
    /* the 10th POST: past the 6 messages of warm-up, inside the window */
    pid_t px = eater_start(srv.http_port, 10, &port, &report);
    CHECK(px > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    const char *args[] = {"--url",         url,  "--ws-url",   srv.ws, "--transports", "sse",
                          "--rate",        "20", "--duration", "1",    "--warmup",     "0.3",
                          "--subscribers", "3",  "--quiet",    NULL};
    json_t *rep = NULL;
    int status = run_with(args, path, &rep);
    bool ate_one = read(report, &ate, 1) == 1;
    kill(px, SIGKILL);
    waitpid(px, NULL, 0);
    close(report);
    pl_test_server_stop(&srv, SIGTERM);
    unlink(path);
    json_t *r = json_array_get(json_object_get(rep, "results"), 0);
    CHECK_EQ_INT(status, 0);
    CHECK(ate_one);
    CHECK(num(r, "publish_retries") >= 1);
    CHECK_EQ_INT(num(r, "publish_failed"), 0);
    CHECK_EQ_INT(num(r, "published"), 20);
    CHECK_EQ_INT(num(r, "expected"), 20 * 3);
    CHECK_EQ_INT(num(r, "delivered"), num(r, "expected"));
    CHECK_EQ_INT(num(r, "duplicated"), 0);
    CHECK_EQ_INT(num(r, "lost"), 0);
    json_decref(rep);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("Bail out! usage: test_scenario <pushlab-bench> <pushlab-server>\n");
        return 1;
    }
    bench_exe = argv[1];
    server_exe = argv[2];
    run_bench();
    RUN(bench_exits_zero_and_writes_json_with_env_and_params);
    RUN(short_poll_delivers_every_message_once);
    RUN(long_poll_delivers_every_message_once);
    RUN(sse_delivers_every_message_once);
    RUN(ws_delivers_every_message_once);
    RUN(polling_sends_requests_per_message_and_streams_do_not);
    RUN(server_cpu_and_memory_are_reported);
    RUN(long_poll_server_cpu_per_request_is_reported);
    RUN(server_bytes_out_per_message_matches_what_subscribers_received);
    RUN(bench_cpu_is_reported_with_its_kernel_part);
    RUN(busiest_subscriber_thread_cpu_is_reported_within_the_process_cpu);
    RUN(csv_has_a_header_and_one_line_per_transport);
    RUN(every_transport_reports_its_sampled_subscribers_as_phones);
    RUN(radio_runs_a_quiet_window_and_client_ping_sets_the_websocket_pings);
    RUN(radio_sample_0_reports_no_phones);
    RUN(messages_trimmed_before_a_poll_are_counted_lost);
    RUN(floor_counts_every_event_once_on_bare_sockets);
    RUN(pollers_spread_over_several_curl_shards_get_everything_on_one_connection_each);
    RUN(a_publish_whose_answer_is_lost_is_stored_and_counted_once);
    unlink(json_path);
    unlink(csv_path);
    json_decref(report);
    return CHECK_DONE();
}
