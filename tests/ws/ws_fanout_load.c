/* A load tool, not a test: starts pushlab-server, holds N WebSocket
 * subscribers in one room, publishes R msg/s over HTTP for D seconds and
 * prints the server's CPU time per 1000 deliveries (from /proc/PID/stat).
 * Usage: ws_fanout_load SERVER [N=1000] [RATE=50] [SECONDS=10] [IDLE=0]
 * IDLE more subscribers sit in another room: what do they cost? */
#include <fcntl.h>
#include <sys/epoll.h>
#include "spawn.h"
#include "ws_raw.h"

/* One subscriber: a socket and the bytes of a frame not yet complete. */
struct sub {
    int fd;
    size_t len;
    unsigned char buf[8192];
    uint64_t frames;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of `pid`, in seconds. */
static double cpu_s(pid_t pid)
{
    char path[64], line[1024];
    unsigned long ut = 0, st = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')');
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int subscribe(struct sub *s, int port, const char *room)
{
    char req[512];
    int len = snprintf(req, sizeof req,
                       "GET /ws/%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n",
                       room);
    s->fd = ws_raw_tcp(port);
    if (s->fd < 0 || ws_raw_send_all(s->fd, req, (size_t)len) != 0)
        return -1;
    while (!memmem(s->buf, s->len, "\r\n\r\n", 4)) {
        ssize_t r = recv(s->fd, s->buf + s->len, sizeof s->buf - s->len, 0);
        if (r <= 0)
            return -1;
        s->len += (size_t)r;
    }
    if (strncmp((char *)s->buf, "HTTP/1.1 101", 12) != 0)
        return -1;
    s->len = 0; /* nothing can follow the 101 before the first publish */
    return fcntl(s->fd, F_SETFL, O_NONBLOCK);
}

/* Counts the complete frames in s->buf and keeps the partial tail. */
static void count_frames(struct sub *s)
{
    size_t off = 0;
    while (s->len - off >= 2) {
        size_t head = 2, len = s->buf[off + 1] & 0x7f;
        if (len == 126) {
            if (s->len - off < 4)
                break;
            head = 4;
            len = ((size_t)s->buf[off + 2] << 8) | s->buf[off + 3];
        }
        if (s->len - off < head + len)
            break;
        if ((s->buf[off] & 0x0f) == WS_OP_TEXT)
            s->frames++;
        off += head + len;
    }
    memmove(s->buf, s->buf + off, s->len - off);
    s->len -= off;
}

static void drain(int ep, int timeout_ms)
{
    struct epoll_event ev[256];
    int n = epoll_wait(ep, ev, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        struct sub *s = ev[i].data.ptr;
        ssize_t r;
        while ((r = recv(s->fd, s->buf + s->len, sizeof s->buf - s->len, 0)) > 0) {
            s->len += (size_t)r;
            count_frames(s);
        }
    }
}

/* A keep-alive HTTP connection publishing into room "load". */
static int publish(int fd, int i)
{
    char req[512], resp[2048];
    char body[96];
    int blen = snprintf(body, sizeof body, "{\"user\":\"load\",\"text\":\"message %d\"}", i);
    int len = snprintf(req, sizeof req,
                       "POST /api/rooms/load/messages HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                       blen, body);
    if (ws_raw_send_all(fd, req, (size_t)len) != 0)
        return -1;
    ssize_t r = recv(fd, resp, sizeof resp, 0); /* one small response, one read */
    return r > 0 && strncmp(resp, "HTTP/1.1 201", 12) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SERVER [N] [RATE] [SECONDS]\n", argv[0]);
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 1000, rate = argc > 3 ? atoi(argv[3]) : 50;
    int secs = argc > 4 ? atoi(argv[4]) : 10, idle = argc > 5 ? atoi(argv[5]) : 0;
    static const char *const extra[] = {"--max-connections", "20000", NULL};
    pl_test_server srv;
    if (pl_test_server_start(&srv, argv[1], extra) != 0)
        return 1;
    struct sub *subs = calloc((size_t)(n + idle), sizeof *subs);
    int ep = epoll_create1(0), pub = ws_raw_tcp(srv.http_port), ok = 0;
    for (int i = 0; subs && i < n + idle; i++, ok++) {
        if (subscribe(&subs[i], srv.ws_port, i < n ? "load" : "idle") != 0)
            break;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &subs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
    }
    if (ok < n + idle || pub < 0) {
        fprintf(stderr, "only %d of %d subscribers connected\n", ok, n + idle);
        pl_test_server_stop(&srv, SIGKILL);
        return 1;
    }
    double cpu0 = cpu_s(srv.pid), t0 = now_s();
    int sent = 0;
    for (int i = 0; i < rate * secs; i++) {
        double due = t0 + (double)i / rate;
        while (now_s() < due)
            drain(ep, (int)((due - now_s()) * 1000) + 1);
        if (publish(pub, i) == 0)
            sent++;
    }
    uint64_t want = (uint64_t)sent * (uint64_t)n, got = 0;
    for (double end = now_s() + 5; now_s() < end;) {
        drain(ep, 50);
        got = 0;
        for (int i = 0; i < n; i++)
            got += subs[i].frames;
        if (got >= want)
            break;
    }
    double cpu = cpu_s(srv.pid) - cpu0, wall = now_s() - t0;
    printf("subscribers %d (+%d idle), published %d in %.1f s, delivered %llu/%llu\n", n, idle,
           sent, wall, (unsigned long long)got, (unsigned long long)want);
    printf("server cpu %.3f s (%.1f%% of one core), %.3f ms per 1000 deliveries\n", cpu,
           100 * cpu / wall, got ? cpu * 1e6 / (double)got : 0.0);
    for (int i = 0; i < n + idle; i++)
        close(subs[i].fd);
    free(subs);
    close(pub);
    close(ep);
    pl_test_server_stop(&srv, SIGTERM);
    return got == want ? 0 : 1;
}
