/* Measures the client's CPU per delivered message: N subscriptions of
 * one transport in one loop, while a child process publishes M messages.
 * Prints numbers; asserts nothing (it is a measurement, not a test).
 * usage: delivery_cost SERVER TRANSPORT SUBS MESSAGES [RATE_PER_S] */
#include <sys/resource.h>
#include "client.h"
#include "spawn.h"

typedef struct counter {
    pl_loop *loop;
    uint64_t delivered, want;
    int open, subs;
} counter;

static void on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    counter *c = ud;
    (void)s;
    (void)m;
    if (++c->delivered == c->want)
        pl_loop_stop(c->loop);
}

static void on_state(pl_sub *s, pl_sub_state st, const char *d, const pl_client_err *e, void *ud)
{
    counter *c = ud;
    (void)s;
    if (st == PL_SUB_OPEN && ++c->open == c->subs)
        pl_loop_stop(c->loop);
    if (st != PL_SUB_OPEN)
        fprintf(stderr, "state %s (%s) %s\n", pl_sub_state_name(st), d, e ? e->message : "");
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CPU seconds of this process: user time in *user, total returned. */
static double cpu_s(double *user)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    return *user + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void pub_done(void *ud, uint64_t id, bool dup, const pl_client_err *err)
{
    (void)id;
    (void)dup;
    (void)err;
    pl_loop_stop(ud);
}

/* The child: publishes `n` messages, one every 1/rate s, each with meta. */
static void publisher(const char *url, int n, int rate)
{
    pl_loop *l;
    pl_loop_new(&l);
    for (int i = 0; i < n; i++) {
        char meta[64];
        snprintf(meta, sizeof meta, "{\"seq\":%d,\"t\":%lld}", i, (long long)time(NULL));
        pl_pub_msg m = {.user = "bench",
                        .text = "a message of about fifty bytes of text, ok?",
                        .meta_json = meta};
        pl_publish_http(l, url, "cost", &m, NULL, pub_done, l);
        pl_loop_run(l, 5000);
        usleep((useconds_t)(1000000 / rate));
    }
    pl_loop_free(l);
}

int main(int argc, char **argv)
{
    pl_test_server srv;
    pl_transport t;
    if (argc < 5 || pl_transport_parse(argv[2], &t) != 0) {
        fprintf(stderr, "usage: delivery_cost SERVER TRANSPORT SUBS MESSAGES [RATE]\n");
        return 2;
    }
    int subs = atoi(argv[3]), msgs = atoi(argv[4]), rate = argc > 5 ? atoi(argv[5]) : 200;
    pl_client_global_init();
    const char *extra[] = {"--max-connections", "20000", NULL};
    if (pl_test_server_start(&srv, argv[1], extra) != 0)
        return 1;
    counter c = {.want = (uint64_t)subs * (uint64_t)msgs, .subs = subs};
    pl_loop_new(&c.loop);
    for (int i = 0; i < subs; i++) {
        pl_sub *s;
        pl_sub_opts o = {.transport = t,
                         .url = srv.http,
                         .ws_url = srv.ws,
                         .room = "cost",
                         .since = 0,
                         .cb = {.on_message = on_message, .on_state = on_state},
                         .ud = &c};
        pl_sub_open(c.loop, &o, &s);
    }
    pl_loop_run(c.loop, 30000); /* until all are open */
    pid_t pid = fork();
    if (pid == 0) {
        publisher(srv.http, msgs, rate);
        _exit(0);
    }
    double user0, user1;
    double cpu0 = cpu_s(&user0);
    int64_t t0 = mono_us();
    pl_loop_run(c.loop, 120000);
    double cpu = cpu_s(&user1) - cpu0, user = user1 - user0;
    double wall = (double)(mono_us() - t0) / 1e6;
    waitpid(pid, NULL, 0);
    printf("transport=%s subs=%d open=%d messages=%d deliveries=%llu wall=%.2fs client_cpu=%.3fs "
           "per_delivery=%.2fus (user %.2fus, kernel %.2fus)\n",
           argv[2], subs, c.open, msgs, (unsigned long long)c.delivered, wall, cpu,
           c.delivered ? cpu * 1e6 / (double)c.delivered : 0.0,
           c.delivered ? user * 1e6 / (double)c.delivered : 0.0,
           c.delivered ? (cpu - user) * 1e6 / (double)c.delivered : 0.0);
    pl_loop_free(c.loop);
    pl_test_server_stop(&srv, SIGTERM);
    return 0;
}
