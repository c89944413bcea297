/* The floor run; see floor.h. Each subscriber is one socket with a GET
 * written by hand; on every readiness it makes one recv() into a shared
 * buffer and counts "\ndata:" (one per SSE event). No HTTP, SSE or JSON
 * library and no per-message bookkeeping: what remains is the kernel's
 * receive path, the event loop and the publisher, which every real
 * subscriber pays too. */
#include "floor.h"
#include "clock.h"
#include "env.h"
#include "event_count.h"
#include "publisher.h"
#include "run.h"
#include "srcaddr.h"
#include "validate.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAIL PL_EVENT_COUNT_TAIL

struct floor_run;

typedef struct fsock {
    struct floor_run *f;
    int fd;
    bool got_head; /* the response has started */
    pl_event_counter ctr;
} fsock;

typedef struct floor_run {
    const pl_bench_opts *o;
    pl_loop *loop;
    pl_bpub *pub;
    fsock *socks;
    int heads, closed;
    uint64_t events, recvs;
    uint64_t warm_msgs, total_msgs, stored, failed;
    char room[PL_ROOM_MAX + 1];
    const char *rooms[1];
    char *text;
    pl_srcplan src;
    char buf[TAIL + 65536];
} floor_run;

/* What the measured window saw. */
typedef struct floor_result {
    uint64_t expected, delivered, recvs;
    int closed;
    pl_cpu cpu;
} floor_result;

static void on_readable(pl_loop *l, int fd, int events, void *ud)
{
    fsock *s = ud;
    floor_run *f = s->f;
    (void)events;
    ssize_t n = recv(fd, f->buf + TAIL, sizeof f->buf - TAIL, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        pl_loop_unwatch_fd(l, fd);
        close(fd);
        s->fd = -1;
        f->closed++;
        return;
    }
    f->recvs++;
    f->heads += !s->got_head;
    s->got_head = true;
    f->events += pl_event_count(&s->ctr, f->buf + TAIL, (size_t)n);
}

/* The server's address from "http://host:port". */
static int resolve(const char *url, struct sockaddr_storage *sa, socklen_t *len)
{
    char host[256], port[16] = "80";
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    if (sscanf(url, "http://%255[^:/]:%15[0-9]", host, port) < 1)
        return -EINVAL;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -EHOSTUNREACH;
    memcpy(sa, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

/* Connects `fd` from the planned address `from` (NULL: the kernel's
 * choice); the port is picked at connect() time, per destination. */
static int connect_from(int fd, const char *from, const struct sockaddr_storage *sa,
                        socklen_t salen)
{
    struct sockaddr_in bind_to = {.sin_family = AF_INET};
    int one = 1;
    if (from && (inet_pton(AF_INET, from, &bind_to.sin_addr) != 1 ||
                 setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0 ||
                 bind(fd, (struct sockaddr *)&bind_to, sizeof bind_to) != 0))
        return -errno;
    /* Loopback connects complete at once; blocking keeps this simple. */
    return connect(fd, (const struct sockaddr *)sa, salen) == 0 ? 0 : -errno;
}

static int open_one(floor_run *f, int i, const struct sockaddr_storage *sa, socklen_t salen)
{
    char req[256];
    int fd = -1, rc = -EADDRNOTAVAIL, at;
    /* An address out of ports is retired and the next one tried. */
    while (pl_srcaddr_exhausted(rc) && (at = pl_srcplan_take(&f->src)) >= 0) {
        if (fd >= 0)
            close(fd);
        if ((fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
            return -errno;
        if (pl_srcaddr_exhausted(rc = connect_from(fd, pl_srcplan_addr(&f->src, at), sa, salen)))
            pl_srcplan_full(&f->src, at, strerror(-rc));
    }
    f->socks[i] = (fsock){.f = f, .fd = fd};
    if (fd < 0 || rc)
        return rc;
    int n = snprintf(req, sizeof req,
                     "GET /api/rooms/%s/events HTTP/1.1\r\nHost: floor\r\n"
                     "Accept: text/event-stream\r\n\r\n",
                     f->room);
    if (send(fd, req, (size_t)n, 0) != n)
        return -errno;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return pl_loop_watch_fd(f->loop, fd, PL_FD_READ, on_readable, &f->socks[i]);
}

static void on_published(void *ud, uint64_t seq, bool ok)
{
    floor_run *f = ud;
    if (seq >= f->warm_msgs)
        *(ok ? &f->stored : &f->failed) += 1;
}

static int setup(floor_run *f, const pl_btarget_addr *tg)
{
    const pl_bench_opts *o = f->o;
    struct sockaddr_storage sa;
    socklen_t salen = 0;
    int rc = resolve(tg->url, &sa, &salen);
    snprintf(f->room, sizeof f->room, "floor-%d-%ld", (int)getpid(),
             (long)(pl_clock_real_us() % 1000000));
    f->rooms[0] = f->room;
    pl_brun_window w = pl_brun_window_of(o);
    f->warm_msgs = w.warm_msgs;
    f->total_msgs = w.total_msgs;
    f->socks = calloc((size_t)o->subscribers, sizeof *f->socks);
    f->text = malloc((size_t)o->size + 1);
    if (rc || !f->socks || !f->text)
        return rc ? rc : -ENOMEM;
    if ((rc = pl_srcplan_init(&f->src, o, tg->url)) != 0)
        return rc;
    memset(f->text, 'x', (size_t)o->size);
    f->text[o->size] = '\0';
    for (int i = 0; i < o->subscribers; i++)
        if ((rc = open_one(f, i, &sa, salen)) != 0)
            return rc;
    pl_bpub_cfg pc = pl_brun_publisher(o, f->loop, tg, w);
    pc.rooms = f->rooms;
    pc.n_rooms = 1;
    pc.text = f->text;
    pc.on_done = on_published;
    pc.ud = f;
    return pl_bpub_new(&pc, &f->pub);
}

static bool all_open(void *ud)
{
    floor_run *f = ud;
    return f->heads == f->o->subscribers && pl_bpub_ready(f->pub);
}

static bool all_delivered(void *ud)
{
    floor_run *f = ud;
    uint64_t live = (uint64_t)(f->o->subscribers - f->closed);
    return pl_bpub_finished(f->pub) && f->events >= live * (f->stored + f->warm_msgs);
}

static void progress(void *ud, int64_t start_us)
{
    floor_run *f = ud;
    (void)start_us;
    if (!f->o->quiet && isatty(2))
        fprintf(stderr, "\r\033[K[floor] open %d/%d  events %llu", f->heads, f->o->subscribers,
                (unsigned long long)f->events);
}

static void run_until(floor_run *f, int64_t deadline_us, bool (*done)(void *f))
{
    pl_brun_until(f->loop, deadline_us, done, progress, f);
}

static int measure(floor_run *f, floor_result *r)
{
    int n = f->o->subscribers;
    run_until(f, pl_brun_open_deadline(n), all_open);
    if (!all_open(f))
        return -ENOTCONN;
    pl_bpub_start(f->pub, pl_clock_mono_us() + 10000);
    /* Snapshot inside the publisher's planned pause, as a scenario does. */
    run_until(f, pl_brun_snapshot_at(pl_bpub_intended(f->pub, f->warm_msgs)), NULL);
    uint64_t e0 = f->events, r0 = f->recvs;
    pl_cpu c0 = pl_clock_cpu();
    int64_t last = pl_bpub_intended(f->pub, f->total_msgs ? f->total_msgs - 1 : 0);
    run_until(f, last + 2000000, all_delivered);
    pl_cpu c1 = pl_clock_cpu();
    r->expected = f->stored * (uint64_t)(n - f->closed);
    r->delivered = f->events - e0;
    r->recvs = f->recvs - r0;
    r->closed = f->closed;
    r->cpu = (pl_cpu){c1.user_s - c0.user_s, c1.sys_s - c0.sys_s};
    return 0;
}

static double per(double x, uint64_t n) { return n ? x / (double)n : 0.0; }

static void print(const pl_bench_opts *o, const floor_result *r)
{
    printf("%-10s %6s %9s %9s %6s %8s %8s %8s\n", "floor", "subs", "expected", "delivered",
           "recv/d", "cpu_us/d", "usr_us/d", "sys_us/d");
    printf("%-10s %6d %9llu %9llu %6.3f %8.2f %8.2f %8.2f\n", "bare_sse", o->subscribers,
           (unsigned long long)r->expected, (unsigned long long)r->delivered,
           per((double)r->recvs, r->delivered),
           per((r->cpu.user_s + r->cpu.sys_s) * 1e6, r->delivered),
           per(r->cpu.user_s * 1e6, r->delivered), per(r->cpu.sys_s * 1e6, r->delivered));
    printf("floor: SSE read by bare recv() and an event count (no HTTP, SSE or JSON library),\n"
           "plus the same loop and publisher as the bench: the least CPU per delivery a\n"
           "subscriber spends here. Read the bench's cpu_us/d and sys_us/d against it.\n");
    if (r->closed)
        printf("floor: %d sockets were closed by the server: figures unreliable\n", r->closed);
}

static int write_json(const pl_bench_opts *o, const floor_result *r)
{
    json_t *j = pl_bench_json(o, pl_bench_env(), NULL, 0);
    json_t *fl =
        json_pack("{s:I, s:I, s:I, s:i, s:f, s:f, s:f, s:f}", "expected", (json_int_t)r->expected,
                  "delivered", (json_int_t)r->delivered, "recv_calls", (json_int_t)r->recvs,
                  "closed", r->closed, "cpu_user_s", r->cpu.user_s, "cpu_sys_s", r->cpu.sys_s,
                  "cpu_us_per_delivery", per((r->cpu.user_s + r->cpu.sys_s) * 1e6, r->delivered),
                  "sys_us_per_delivery", per(r->cpu.sys_s * 1e6, r->delivered));
    int rc = j && fl ? 0 : -ENOMEM;
    if (!rc &&
        (json_object_set_new(j, "mode", json_string("floor")) || json_object_set(j, "floor", fl)))
        rc = -ENOMEM;
    if (!rc && json_dump_file(j, o->json_path, JSON_INDENT(1)) != 0)
        rc = -EIO;
    json_decref(fl);
    json_decref(j);
    return rc;
}

int pl_bench_floor(const pl_bench_opts *o, const pl_btarget_addr *tg)
{
    floor_run *f = calloc(1, sizeof *f);
    floor_result r = {0};
    int rc = f ? pl_loop_new(&f->loop) : -ENOMEM;
    if (rc == 0) {
        f->o = o;
        if ((rc = setup(f, tg)) == 0)
            rc = measure(f, &r);
    }
    if (!o->quiet && isatty(2))
        fprintf(stderr, "\r\033[K");
    if (rc == 0) {
        print(o, &r);
        if (o->json_path)
            rc = write_json(o, &r);
    } else
        fprintf(stderr, "pushlab-bench: floor could not run: %s\n", strerror(-rc));
    for (int i = 0; f && f->socks && i < o->subscribers; i++)
        if (f->socks[i].fd >= 0 && f->socks[i].f) {
            pl_loop_unwatch_fd(f->loop, f->socks[i].fd);
            close(f->socks[i].fd);
        }
    if (f) {
        pl_bpub_free(f->pub);
        pl_loop_free(f->loop);
        free(f->socks);
        free(f->text);
        free(f);
    }
    return rc;
}
