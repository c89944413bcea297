/* Starts the real pushlab-server for integration tests: on free ports,
 * waiting for its listening line rather than sleeping. Header-only so each
 * test executable stays one file plus this. */
#ifndef PL_SPAWN_H
#define PL_SPAWN_H
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct pl_test_server {
    pid_t pid;
    char http[128]; /* "http://127.0.0.1:PORT" */
    char ws[128];   /* "ws://127.0.0.1:PORT" */
    int http_port, ws_port;
} pl_test_server;

/* Runs `exe` with "--http-port 0 --ws-port 0" and the NULL-terminated
 * `extra` arguments; waits up to 10 s for the listening line. Returns 0 or
 * -1 (the server did not come up). */
static int pl_test_server_start(pl_test_server *s, const char *exe, const char *const *extra)
{
    int fds[2];
    const char *argv[64] = {exe, "--http-port", "0", "--ws-port", "0"};
    int argc = 5;
    for (; extra && *extra && argc < 62; extra++)
        argv[argc++] = *extra;
    argv[argc] = NULL;
    if (pipe(fds) != 0)
        return -1;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    char line[512];
    size_t n = 0;
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    while (n < sizeof line - 1 && poll(&p, 1, 10000) > 0) {
        ssize_t r = read(fds[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(fds[0]);
    if (sscanf(line, "pushlab-server listening http=%127s ws=%127s", s->http, s->ws) != 2) {
        fprintf(stderr, "# no listening line, got: '%s'\n", line);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        return -1;
    }
    const char *colon = strrchr(s->http, ':');
    s->http_port = colon ? atoi(colon + 1) : 0;
    colon = strrchr(s->ws, ':');
    s->ws_port = colon ? atoi(colon + 1) : 0;
    return 0;
}

/* Sends `sig` and waits up to 10 s. Returns the exit status, 128+signal
 * when killed by one, or -1 when it had to be killed. */
static int pl_test_server_stop(pl_test_server *s, int sig)
{
    int status;
    kill(s->pid, sig);
    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    return -1;
}

#endif
