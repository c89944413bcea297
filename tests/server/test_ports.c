/* A port in use is an error at start: a second pushlab-server on the HTTP
 * or the WebSocket port of a running one exits non-zero with one clear
 * line, and the first keeps serving its own store. A restart on the same
 * ports right after a kill -9 still comes up. --bind ::1 listens on IPv6.
 * argv[1] is the server. */
#include <signal.h>
#include <stdlib.h>
#include "check.h"
#include "http_raw.h"
#include "spawn.h"

static const char *server_bin;
static char resp[8192];

/* A second server: its pid and the pipe carrying its stdout and stderr. */
typedef struct second {
    pid_t pid;
    int fd;
    char out[4096];
} second;

static int second_start(second *sc, const char *const *args)
{
    const char *argv[16] = {server_bin};
    int argc = 1, fds[2];
    for (; *args && argc < 15; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    if (pipe(fds) != 0 || (sc->pid = fork()) < 0)
        return -1;
    if (sc->pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execv(server_bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    sc->fd = fds[0];
    return 0;
}

/* Collects its output until it exits or `ms` pass. Returns its exit
 * status, or -1 while it is still running. */
static int second_wait(second *sc, int ms)
{
    size_t len = 0;
    int status;
    long long end = raw_now_ms() + ms;
    struct pollfd p = {.fd = sc->fd, .events = POLLIN};
    while (raw_now_ms() < end && len + 1 < sizeof sc->out) {
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(sc->fd, sc->out + len, sizeof sc->out - 1 - len);
        if (n <= 0)
            break; /* it exited: the pipe closed */
        len += (size_t)n;
    }
    sc->out[len] = '\0';
    for (int i = 0; i < 20; i++, usleep(10000))
        if (waitpid(sc->pid, &status, WNOHANG) == sc->pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return -1;
}

static void second_kill(second *sc)
{
    close(sc->fd);
    if (kill(sc->pid, SIGKILL) == 0)
        waitpid(sc->pid, NULL, 0);
}

/* Publishes one message to `port`; returns its id, or -1. */
static long long publish(int port)
{
    static const char body[] = "{\"user\":\"p\",\"text\":\"t\"}";
    if (raw_request(port, "POST", "/api/rooms/ports/messages", "Content-Type: application/json\r\n",
                    body, resp, sizeof resp) != 201)
        return -1;
    const char *p = strstr(raw_body(resp), "\"id\":");
    return p ? atoll(p + 5) : -1;
}

/* A second server on one of `first`'s ports (`which`: "--http-port" or
 * "--ws-port", the other port free) must refuse to start, and `first`
 * must still answer with its own next ids, on every connection. */
static void second_server_on_a_busy_port_exits(pl_test_server *first, const char *which)
{
    char port[16], line[128];
    int busy = strcmp(which, "--http-port") == 0 ? first->http_port : first->ws_port;
    snprintf(port, sizeof port, "%d", busy);
    const char *args[] = {
        which, port, strcmp(which, "--http-port") == 0 ? "--ws-port" : "--http-port", "0", NULL};
    second sc;
    long long before = publish(first->http_port), ids[6];
    CHECK(second_start(&sc, args) == 0);
    int rc = second_wait(&sc, 3000);
    /* With a shared port the kernel sends some of these to a running
     * second server's empty store: its ids start over. */
    for (int i = 0; i < 6; i++)
        ids[i] = publish(first->http_port);
    second_kill(&sc);
    snprintf(line, sizeof line, "pushlab-server: cannot listen on 127.0.0.1:%d: address in use\n",
             busy);
    printf("# ids after %lld:", before);
    for (int i = 0; i < 6; i++)
        printf(" %lld", ids[i]);
    printf("\n");
    if (!strstr(sc.out, line)) {
        printf("# exit status %d\n", rc);
        check_comment("its output", sc.out);
    }
    CHECK(before > 0);
    CHECK(rc > 0);
    CHECK(strstr(sc.out, line) != NULL);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(ids[i], before + 1 + i);
}

TEST(second_server_on_a_busy_http_port_exits_and_the_first_keeps_its_ids)
{
    pl_test_server a;
    CHECK(pl_test_server_start(&a, server_bin, NULL) == 0);
    second_server_on_a_busy_port_exits(&a, "--http-port");
    int stopped = pl_test_server_stop(&a, SIGTERM);
    CHECK_EQ_INT(stopped, 0);
}

TEST(second_server_on_a_busy_ws_port_exits_and_the_first_keeps_its_ids)
{
    pl_test_server a;
    CHECK(pl_test_server_start(&a, server_bin, NULL) == 0);
    second_server_on_a_busy_port_exits(&a, "--ws-port");
    int stopped = pl_test_server_stop(&a, SIGTERM);
    CHECK_EQ_INT(stopped, 0);
}

/* kill -9 with clients connected leaves the old connections on the ports
 * (TIME_WAIT, FIN_WAIT); a new server must still bind them at once. */
TEST(restart_on_the_same_ports_right_after_kill_9_comes_up)
{
    pl_test_server a, b;
    char hp[16], wp[16];
    CHECK(pl_test_server_start(&a, server_bin, NULL) == 0);
    snprintf(hp, sizeof hp, "%d", a.http_port);
    snprintf(wp, sizeof wp, "%d", a.ws_port);
    /* A keep-alive connection the server has answered, so it is the
     * server's end that closes first and lingers on the port. */
    static const char req[] = "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    size_t len = 0;
    int held = raw_connect(a.http_port), ws = raw_connect(a.ws_port);
    bool answered = held >= 0 && raw_send(held, req, sizeof req - 1) == 0 &&
                    raw_read_until(held, resp, sizeof resp, &len, "\r\n\r\n", 5000);
    CHECK(publish(a.http_port) == 1);
    pl_test_server_stop(&a, SIGKILL);
    if (held >= 0)
        close(held);
    if (ws >= 0)
        close(ws);
    const char *same[] = {"--http-port", hp, "--ws-port", wp, NULL};
    int up = pl_test_server_start(&b, server_bin, same);
    long long id = up == 0 ? publish(b.http_port) : -1;
    if (up == 0)
        pl_test_server_stop(&b, SIGTERM);
    CHECK(answered && ws >= 0);
    CHECK_EQ_INT(up, 0);
    CHECK_EQ_INT(b.http_port, a.http_port);
    CHECK_EQ_INT(b.ws_port, a.ws_port);
    CHECK_EQ_INT(id, 1);
}

/* A connection to [::1]:port, or -1. */
static int connect6(int port)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                             .sin6_port = htons((uint16_t)port),
                             .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Sends `req` on a new connection to [::1]:port; true when the answer's
 * head contains `want`. */
static bool ask6(int port, const char *req, const char *want)
{
    size_t len = 0;
    int fd = connect6(port);
    bool ok = fd >= 0 && raw_send(fd, req, strlen(req)) == 0 &&
              raw_read_until(fd, resp, sizeof resp, &len, "\r\n\r\n", 5000) &&
              strstr(resp, want) != NULL;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The listening line and /api/config name it in brackets, and a browser
 * on the server's own page (Origin http://[::1]:PORT) may open a
 * WebSocket. */
TEST(a_server_bound_to_ipv6_loopback_serves_there_and_names_itself_in_brackets)
{
    const char *args[] = {"--bind", "::1", NULL};
    char http[64], ws[64], upgrade[512];
    pl_test_server s;
    CHECK(pl_test_server_start(&s, server_bin, args) == 0);
    snprintf(http, sizeof http, "http://[::1]:%d", s.http_port);
    snprintf(ws, sizeof ws, "ws://[::1]:%d", s.ws_port);
    snprintf(upgrade, sizeof upgrade,
             "GET /ws/lobby HTTP/1.1\r\nHost: [::1]:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n",
             s.ws_port, http);
    bool healthy = ask6(s.http_port, "GET /healthz HTTP/1.1\r\nHost: [::1]\r\n\r\n", " 200 ");
    bool upgraded = ask6(s.ws_port, upgrade, " 101 ");
    pl_test_server_stop(&s, SIGTERM);
    CHECK_EQ_STR(s.http, http);
    CHECK_EQ_STR(s.ws, ws);
    CHECK(healthy);
    CHECK(upgraded);
}

static bool have_ipv6_loopback(void)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("1..0 # SKIP usage: test_ports SERVER\n");
        return 0;
    }
    server_bin = argv[1];
    signal(SIGPIPE, SIG_IGN);
    RUN(second_server_on_a_busy_http_port_exits_and_the_first_keeps_its_ids);
    RUN(second_server_on_a_busy_ws_port_exits_and_the_first_keeps_its_ids);
    RUN(restart_on_the_same_ports_right_after_kill_9_comes_up);
    if (have_ipv6_loopback())
        RUN(a_server_bound_to_ipv6_loopback_serves_there_and_names_itself_in_brackets);
    else
        printf("# SKIP the IPv6 test: this machine has no ::1\n");
    return CHECK_DONE();
}
