/* Stopping under load: SIGTERM while both HTTP threads are busy ends the
 * server with exit 0. The shim (argv[2], preloaded) widens the window of
 * MHD 0.9.75's quiesce race, which used to abort it. argv[1] is the
 * server binary. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "check.h"
#include "http_raw.h"
#include "spawn.h"

#define CLIENTS 4

static const char *server_bin, *shim;
static pl_test_server srv;
static atomic_bool done;
static atomic_int answered;

/* Keep-alive GETs as fast as the server answers, until the server ends. */
static void *hammer(void *arg)
{
    (void)arg;
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    char buf[4096];
    int fd = raw_connect(srv.http_port);
    while (fd >= 0 && !atomic_load(&done)) {
        if (raw_send(fd, get, sizeof get - 1) != 0 || recv(fd, buf, sizeof buf, 0) <= 0)
            break;
        atomic_fetch_add(&answered, 1);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int shim_loaded(const char *log)
{
    char buf[64] = {0};
    FILE *f = fopen(log, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    return n > 0 && strstr(buf, "loaded") != NULL;
}

TEST(sigterm_while_both_http_threads_are_busy_exits_zero)
{
    char log[] = "/tmp/pushlab-stop-XXXXXX";
    int lfd = mkstemp(log);
    CHECK(lfd >= 0);
    close(lfd);
    const char *asan = getenv("ASAN_OPTIONS");
    char asan_opts[512];
    /* The shim comes first in the preload list, ahead of ASan's runtime. */
    snprintf(asan_opts, sizeof asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
             asan ? ":" : "");
    setenv("ASAN_OPTIONS", asan_opts, 1);
    setenv("PL_SHIM_LOG", log, 1);
    setenv("LD_PRELOAD", shim, 1);
    const char *args[] = {"--http-threads", "2", NULL};
    int started = pl_test_server_start(&srv, server_bin, args);
    unsetenv("LD_PRELOAD");
    CHECK(started == 0);
    char resp[4096];
    CHECK_EQ_INT(raw_request(srv.http_port, "GET", "/healthz", NULL, NULL, resp, sizeof resp), 200);
    CHECK(strstr(raw_body(resp), "ok") != NULL);
    pthread_t t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    usleep(300000);
    int rc = pl_test_server_stop(&srv, SIGTERM);
    atomic_store(&done, true);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    int loaded = shim_loaded(log);
    unlink(log);
    CHECK(loaded);
    CHECK(atomic_load(&answered) > CLIENTS); /* the threads were busy */
    CHECK_EQ_INT(rc, 0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_stop SERVER_BIN SHIM\n");
        return 2;
    }
    server_bin = argv[1];
    shim = argv[2];
    signal(SIGPIPE, SIG_IGN);
    RUN(sigterm_while_both_http_threads_are_busy_exits_zero);
    return CHECK_DONE();
}
