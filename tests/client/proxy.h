/* A small TCP proxy for the client tests, in a thread of the test
 * process: it forwards two ports (HTTP, WebSocket) to a server and breaks
 * connections on demand (all at once, frozen in place) or by itself
 * (every connection cut 100-600 ms after it opened). Test-only. */
#ifndef PL_TEST_PROXY_H
#define PL_TEST_PROXY_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROXY_PAIRS 64

/* Forwards two listening ports to two server ports; `drop` closes every
 * open connection at once. With cut_max_ms set (before proxy_start), each
 * connection is cut cut_min_ms..cut_max_ms after it was accepted, whatever
 * it carries: every other one with a reset (RST), the rest with a plain
 * close (EOF). Runs in its own thread, test-only. */
typedef struct proxy {
    int lfd[2], to_port[2], port[2];
    int a[PROXY_PAIRS], b[PROXY_PAIRS];
    bool frozen[PROXY_PAIRS]; /* open but forwarding nothing: a dead peer */
    long long cut_at[PROXY_PAIRS];
    int cut_min_ms, cut_max_ms;
    unsigned seed;
    atomic_bool drop, freeze, stop;
    atomic_int drops, cuts;
    pthread_t thread;
} proxy;

static long long proxy_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int listen_any(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 64) ||
        getsockname(fd, (struct sockaddr *)&sa, &len))
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

static int connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void pair_close(proxy *p, int i)
{
    close(p->a[i]);
    close(p->b[i]);
    p->a[i] = p->b[i] = -1;
    p->frozen[i] = false;
}

static void accept_one(proxy *p, int which)
{
    int c = accept(p->lfd[which], NULL, NULL);
    if (c < 0)
        return;
    for (int i = 0; i < PROXY_PAIRS; i++)
        if (p->a[i] < 0) {
            p->a[i] = c;
            if ((p->b[i] = connect_to(p->to_port[which])) < 0)
                pair_close(p, i);
            int span = p->cut_max_ms - p->cut_min_ms + 1;
            p->cut_at[i] = p->cut_max_ms ? proxy_now_ms() + p->cut_min_ms +
                                               (int)((unsigned)rand_r(&p->seed) % (unsigned)span)
                                         : 0;
            return;
        }
    close(c);
}

/* Cuts the connections whose time is up; the client sees an RST or EOF. */
static void cut_due(proxy *p)
{
    long long now = proxy_now_ms();
    for (int i = 0; i < PROXY_PAIRS; i++) {
        if (p->a[i] < 0 || !p->cut_max_ms || now < p->cut_at[i])
            continue;
        if (atomic_fetch_add(&p->cuts, 1) % 2 == 0) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(p->a[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        pair_close(p, i);
    }
}

/* Copies what is readable on `from` to `to`; false when either ended. */
static bool pump(int from, int to)
{
    char buf[16384];
    ssize_t n = read(from, buf, sizeof buf);
    for (ssize_t off = 0; n > 0 && off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0)
            return false;
        off += w;
    }
    return n > 0;
}

static void *proxy_run(void *arg)
{
    proxy *p = arg;
    while (!atomic_load(&p->stop)) {
        struct pollfd fds[2 + 2 * PROXY_PAIRS];
        int idx[2 + 2 * PROXY_PAIRS], n = 0;
        if (atomic_exchange(&p->drop, false)) {
            for (int i = 0; i < PROXY_PAIRS; i++)
                if (p->a[i] >= 0)
                    pair_close(p, i);
            atomic_fetch_add(&p->drops, 1);
        }
        if (atomic_exchange(&p->freeze, false)) {
            for (int i = 0; i < PROXY_PAIRS; i++)
                p->frozen[i] = p->a[i] >= 0;
            atomic_fetch_add(&p->drops, 1);
        }
        cut_due(p); /* before the poll set is built: no fd in it is stale */
        for (int k = 0; k < 2; k++, n++)
            fds[n] = (struct pollfd){.fd = p->lfd[k], .events = POLLIN}, idx[n] = -1 - k;
        for (int i = 0; i < PROXY_PAIRS; i++)
            if (p->a[i] >= 0 && !p->frozen[i]) {
                fds[n] = (struct pollfd){.fd = p->a[i], .events = POLLIN}, idx[n++] = i;
                fds[n] = (struct pollfd){.fd = p->b[i], .events = POLLIN}, idx[n++] = i;
            }
        if (poll(fds, (nfds_t)n, p->cut_max_ms ? 5 : 20) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!fds[k].revents)
                continue;
            if (idx[k] < 0) {
                accept_one(p, -1 - idx[k]);
                continue;
            }
            int i = idx[k];
            if (p->a[i] < 0)
                continue;
            bool ok = fds[k].fd == p->a[i] ? pump(p->a[i], p->b[i]) : pump(p->b[i], p->a[i]);
            if (!ok)
                pair_close(p, i);
        }
    }
    return NULL;
}

/* Starts forwarding; `cut_min_ms`/`cut_max_ms` 0: no automatic cuts. */
static inline int proxy_start(proxy *p, int http_port, int ws_port, int cut_min_ms, int cut_max_ms)
{
    memset(p, 0, sizeof *p);
    p->cut_min_ms = cut_min_ms;
    p->cut_max_ms = cut_max_ms;
    p->seed = (unsigned)proxy_now_ms();
    for (int i = 0; i < PROXY_PAIRS; i++)
        p->a[i] = p->b[i] = -1;
    p->to_port[0] = http_port;
    p->to_port[1] = ws_port;
    if ((p->lfd[0] = listen_any(&p->port[0])) < 0 || (p->lfd[1] = listen_any(&p->port[1])) < 0)
        return -1;
    return pthread_create(&p->thread, NULL, proxy_run, p) == 0 ? 0 : -1;
}

static inline void proxy_stop(proxy *p)
{
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    for (int i = 0; i < PROXY_PAIRS; i++)
        if (p->a[i] >= 0)
            pair_close(p, i);
    close(p->lfd[0]);
    close(p->lfd[1]);
}

#endif
