/* The WebSocket transport's service threads: one listener per thread on
 * the same port (SO_REUSEPORT), so the kernel spreads new connections
 * over them and a room's fan-out runs on every core at once, as nginx's
 * workers do. A publish marks the room on every thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "addr.h"
#include "transport_ws_internal.h"

#define THREADS_MAX 16

struct pl_ws {
    int port;
    size_t n;
    pl_ws_svc *svc[THREADS_MAX];
};

static void on_publish(void *ud, pl_room *room, const pl_msg *m)
{
    pl_ws *ws = ud;
    for (size_t i = 0; i < ws->n; i++)
        pl_ws_on_publish(ws->svc[i], room, m);
}

static size_t thread_count(const pl_ws_config *cfg)
{
    long n = cfg->threads > 0 ? cfg->threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > THREADS_MAX ? THREADS_MAX : (size_t)n;
}

/* A shared port is taken by anyone else who asks for sharing too (another
 * pushlab-server of this user, say), so a fixed one is first bound alone:
 * busy, it is refused as an unshared listener would be. */
static int port_free(const pl_addr *sa)
{
    int fd = socket(pl_addr_family(sa), SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* TIME_WAIT is no use */
    int rc = bind(fd, (const struct sockaddr *)&sa->ss, sa->len) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

/* A listening socket on `sa`, with SO_REUSEPORT when `share`; fills in
 * the port when it was 0. Returns the fd or a negative errno-style code. */
static int listen_on(pl_addr *sa, bool share)
{
    int fd = socket(pl_addr_family(sa), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -errno;
    /* Accepted sockets inherit TCP_NODELAY: a frame goes out at once. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (share && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&sa->ss, sa->len) != 0 || listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa->ss, &sa->len) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static int start_threads(pl_ws *ws, const pl_ws_config *cfg, size_t want, pl_backend *backend,
                         pl_stats *st)
{
    pl_addr sa;
    bool share = want > 1;
    int rc;
    if (pl_addr_parse(&sa, cfg->bind ? cfg->bind : "127.0.0.1", cfg->port) != 0)
        return -EINVAL;
    if (share && cfg->port && (rc = port_free(&sa)) != 0)
        return rc;
    for (; ws->n < want; ws->n++) {
        int fd = listen_on(&sa, share); /* the others join port 0's pick */
        if (fd < 0)
            return fd;
        if ((rc = pl_ws_svc_start(&ws->svc[ws->n], cfg, fd, backend, st)) != 0)
            return rc;
    }
    ws->port = pl_addr_port(&sa);
    return 0;
}

static void stop_all(pl_ws *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        pl_ws_svc_stop_begin(ws->svc[i]);
    for (size_t i = 0; i < ws->n; i++)
        pl_ws_svc_stop_end(ws->svc[i]);
    free(ws);
}

int pl_ws_start(pl_ws **out, const pl_ws_config *cfg, pl_backend *backend, pl_stats *st)
{
    int rc;
    pl_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return -ENOMEM;
    if ((rc = start_threads(ws, cfg, thread_count(cfg), backend, st)) != 0 ||
        (rc = pl_store_add_hook(backend->store, on_publish, ws)) != 0)
        goto fail;
    *out = ws;
    return 0;
fail:
    stop_all(ws);
    return rc;
}

int pl_ws_port(const pl_ws *ws) { return ws->port; }

size_t pl_ws_threads(const pl_ws *ws) { return ws->n; }

size_t pl_ws_thread_connections(const pl_ws *ws, size_t i)
{
    return i < ws->n ? atomic_load(&ws->svc[i]->n_conns) : 0;
}

void pl_ws_stop(pl_ws *ws)
{
    if (ws)
        stop_all(ws);
}
