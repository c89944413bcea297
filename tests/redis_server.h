/* Starts a real redis-server for the C tests: on a free port, with its
 * files in a temporary folder, nothing saved; stopped by its pid.
 * Header-only, like spawn.h. */
#ifndef PL_TEST_REDIS_SERVER_H
#define PL_TEST_REDIS_SERVER_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct pl_test_redis {
    pid_t pid;
    int port;
    char dir[64];
} pl_test_redis;

static inline int pl_test_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* True once something answers +PONG on the port. */
static inline int pl_test_redis_pong(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char buf[16] = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof buf - 1) > 0)
        ok = strncmp(buf, "+PONG", 5) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Sends one inline command (e.g. "FLUSHALL") and reads the first bytes of
 * the answer into `out` (may be NULL). Returns 0, or -1 when nothing
 * answered. */
static inline int pl_test_redis_cmd(int port, const char *cmd, char *out, size_t cap)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char buf[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0), rc = -1;
    size_t n = strlen(cmd);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, cmd, n) == (ssize_t)n && write(fd, "\r\n", 2) == 2) {
        ssize_t r = read(fd, buf, sizeof buf - 1);
        if (r > 0) {
            buf[r] = '\0';
            if (out)
                snprintf(out, cap, "%s", buf);
            rc = 0;
        }
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Sends one command as a RESP array and reads the first bytes of the
 * answer into `out` (may be NULL). Returns 0 or -1. */
static inline int pl_test_redis_argv(int port, int argc, const char **argv, char *out, size_t cap)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char head[32], buf[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0), rc = -1, ok;
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    int n = snprintf(head, sizeof head, "*%d\r\n", argc);
    ok = ok && write(fd, head, (size_t)n) == n;
    for (int i = 0; ok && i < argc; i++) {
        size_t len = strlen(argv[i]);
        n = snprintf(head, sizeof head, "$%zu\r\n", len);
        ok = write(fd, head, (size_t)n) == n && write(fd, argv[i], len) == (ssize_t)len &&
             write(fd, "\r\n", 2) == 2;
    }
    ssize_t r = ok ? read(fd, buf, sizeof buf - 1) : -1;
    if (r > 0) {
        buf[r] = '\0';
        if (out)
            snprintf(out, cap, "%s", buf);
        rc = 0;
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Starts redis-server on `port` (0: a free one). Returns 0 or -1. */
static inline int pl_test_redis_start(pl_test_redis *r, int port)
{
    snprintf(r->dir, sizeof r->dir, "/tmp/pushlab-redis-XXXXXX");
    if (!mkdtemp(r->dir))
        return -1;
    r->port = port ? port : pl_test_free_port();
    char ports[16];
    snprintf(ports, sizeof ports, "%d", r->port);
    r->pid = fork();
    if (r->pid < 0)
        return -1;
    if (r->pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || chdir(r->dir) != 0)
            _exit(126);
        execlp("redis-server", "redis-server", "--port", ports, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", "--dir", r->dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (pl_test_redis_pong(r->port))
            return 0;
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid)
            return -1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Stops it (SIGTERM, then SIGKILL after 5 s) and removes its folder. */
static inline void pl_test_redis_stop(pl_test_redis *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGTERM);
    for (int i = 0; i < 500 && waitpid(r->pid, NULL, WNOHANG) != r->pid; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (i == 499) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, NULL, 0);
        }
    }
    r->pid = 0;
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", r->dir);
}

#endif
