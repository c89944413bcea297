/* pushlab-bench opens its subscriptions through a window (--open-window):
 * never more than N on their way at once, the next one when one is
 * subscribed, so thousands of handshakes never queue up together past
 * the timeouts (issue 10: 18,000 WebSocket subscribers).
 * Usage: test_open_window <pushlab-bench> <pushlab-server> */
#include "check.h"
#include "spawn.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bench_exe, *server_exe;

/* Starts the bench with `argv` (from argv[1] on; argv[0] is set here),
 * its output to /dev/null. Returns its pid. */
static pid_t start_bench(const char **argv)
{
    argv[0] = bench_exe;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1), dup2(null, 2);
        execv(bench_exe, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* A loopback listener that never answers: connections pile up in its
 * accept queue, one per WebSocket handshake on its way. */
static int mute_listener(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 128) ||
        getsockname(fd, (struct sockaddr *)&sa, &len))
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

/* 12 WebSocket subscribers, window 4, to a WebSocket port that never
 * answers a handshake: 4 connections arrive and no more, however long
 * they wait (without the window all 12 came at once). */
TEST(no_more_than_the_window_connect_at_once)
{
    pl_test_server srv;
    int port = 0, lfd = mute_listener(&port), got = 0;
    char ws[64];
    CHECK(lfd >= 0);
    CHECK(pl_test_server_start(&srv, server_exe, NULL) == 0);
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d", port);
    const char *argv[] = {NULL, "--url",         srv.http, "--ws-url", ws,  "--transports",
                          "ws", "--subscribers", "12",     "--rate",   "5", "--duration",
                          "1",  "--open-window", "4",      "--quiet",  NULL};
    pid_t pid = start_bench(argv);
    nanosleep(&(struct timespec){2, 0}, NULL);
    for (int c; (c = accept(lfd, NULL, NULL)) >= 0; got++)
        close(c);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pl_test_server_stop(&srv, SIGTERM);
    close(lfd);
    printf("# connections that reached the mute WebSocket port in 2 s: %d\n", got);
    CHECK_EQ_INT(got, 4);
}

/* The window moves on: 10 subscribers per transport through a window of
 * 2 all open, and every message reaches every one. */
TEST(a_window_smaller_than_the_subscribers_opens_them_all_in_turn)
{
    char json[] = "/tmp/pl-window-XXXXXX";
    int jfd = mkstemp(json), st = -1;
    const char *argv[] = {NULL,
                          "--server-bin",
                          server_exe,
                          "--json",
                          json,
                          "--transports",
                          "long-poll,sse,ws",
                          "--subscribers",
                          "10",
                          "--rate",
                          "20",
                          "--duration",
                          "0.5",
                          "--warmup",
                          "0.2",
                          "--open-window",
                          "2",
                          "--quiet",
                          NULL};
    pid_t pid = start_bench(argv);
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    json_t *rep = json_load_file(json, 0, NULL), *res = json_object_get(rep, "results");
    CHECK_EQ_INT((int)json_array_size(res), 3);
    for (size_t i = 0; i < json_array_size(res); i++) {
        json_t *r = json_array_get(res, i);
        int open = (int)json_integer_value(json_object_get(r, "subscribers_open"));
        int failed = (int)json_integer_value(json_object_get(r, "subscribers_failed"));
        json_int_t expected = json_integer_value(json_object_get(r, "expected"));
        json_int_t delivered = json_integer_value(json_object_get(r, "delivered"));
        printf("# %s: open %d, failed %d, delivered %lld/%lld\n",
               json_string_value(json_object_get(r, "transport")), open, failed,
               (long long)delivered, (long long)expected);
        CHECK_EQ_INT(open, 10);
        CHECK_EQ_INT(failed, 0);
        CHECK(expected > 0);
        CHECK(delivered == expected);
    }
    json_decref(rep);
    close(jfd);
    unlink(json);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s <pushlab-bench> <pushlab-server>\n", argv[0]);
        return 2;
    }
    bench_exe = argv[1];
    server_exe = argv[2];
    RUN(no_more_than_the_window_connect_at_once);
    RUN(a_window_smaller_than_the_subscribers_opens_them_all_in_turn);
    return CHECK_DONE();
}
