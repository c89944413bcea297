/* The hang-up watcher; see hangup.h. Events carry the fd and a generation
 * number, so an event for a socket that was closed and its number reused
 * meanwhile is recognised and dropped. */
#include "hangup.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>
#include "server.h"

typedef struct slot {
    pl_req *q;
    uint32_t gen;
} slot;

struct pl_hangup {
    int epfd, stopfd;
    pthread_t thread;
    pthread_mutex_t lock; /* the table; taken before any room lock */
    slot *table;          /* indexed by fd */
    size_t len;
    uint32_t gen;
};

static int req_fd(pl_req *q)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

/* The peer of `s->q` left: end the request wherever it is. Lock held. */
static void hang_up(pl_server *srv, slot *s, int fd)
{
    pl_req *q = s->q;
    s->q = NULL;
    epoll_ctl(srv->hangup->epfd, EPOLL_CTL_DEL, fd, NULL);
    atomic_store(&q->gone, true);
    if (q->room && pl_waiter_cancel(q->room, &q->waiter))
        MHD_resume_connection(q->conn);
}

static void *watch_main(void *arg)
{
    pl_server *srv = arg;
    struct pl_hangup *h = srv->hangup;
    struct epoll_event ev[64];
    for (;;) {
        int n = epoll_wait(h->epfd, ev, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        for (int i = 0; i < n; i++) {
            int fd = (int)(ev[i].data.u64 & 0xffffffff);
            uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
            if (fd == h->stopfd)
                return NULL;
            pthread_mutex_lock(&h->lock);
            slot *s = (size_t)fd < h->len ? &h->table[fd] : NULL;
            if (s && s->q && s->gen == gen)
                hang_up(srv, s, fd);
            pthread_mutex_unlock(&h->lock);
        }
    }
}

int pl_hangup_start(pl_server *srv)
{
    struct rlimit rl;
    struct pl_hangup *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->len = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1u << 22 ? rl.rlim_cur : 65536;
    h->table = calloc(h->len, sizeof *h->table);
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(uint32_t)h->stopfd};
    if (!h->table || h->epfd < 0 || h->stopfd < 0 ||
        epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->stopfd, &ev) != 0)
        goto fail;
    pthread_mutex_init(&h->lock, NULL);
    srv->hangup = h;
    if (pthread_create(&h->thread, NULL, watch_main, srv) != 0) {
        srv->hangup = NULL;
        pthread_mutex_destroy(&h->lock);
        goto fail;
    }
    return 0;
fail:
    if (h->epfd >= 0)
        close(h->epfd);
    if (h->stopfd >= 0)
        close(h->stopfd);
    free(h->table);
    free(h);
    return -ENOMEM;
}

void pl_hangup_stop(pl_server *srv)
{
    struct pl_hangup *h = srv->hangup;
    if (!h)
        return;
    uint64_t one = 1;
    if (write(h->stopfd, &one, sizeof one) != sizeof one)
        pthread_cancel(h->thread);
    pthread_join(h->thread, NULL);
    close(h->epfd);
    close(h->stopfd);
    pthread_mutex_destroy(&h->lock);
    free(h->table);
    free(h);
    srv->hangup = NULL;
}

void pl_hangup_watch(pl_server *srv, pl_req *q)
{
    struct pl_hangup *h = srv->hangup;
    int fd = req_fd(q);
    if (!h || fd < 0 || (size_t)fd >= h->len)
        return;
    pthread_mutex_lock(&h->lock);
    slot *s = &h->table[fd];
    s->q = q;
    s->gen = ++h->gen;
    struct epoll_event ev = {.events = EPOLLRDHUP,
                             .data.u64 = ((uint64_t)s->gen << 32) | (uint32_t)fd};
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 &&
        epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        s->q = NULL;
    q->watched_fd = fd + 1; /* 0 means unwatched */
    pthread_mutex_unlock(&h->lock);
}

void pl_hangup_unwatch(pl_server *srv, pl_req *q)
{
    struct pl_hangup *h = srv->hangup;
    int fd = q->watched_fd - 1;
    if (!h || fd < 0)
        return;
    pthread_mutex_lock(&h->lock);
    if (h->table[fd].q == q) {
        h->table[fd].q = NULL;
        epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
    }
    q->watched_fd = 0;
    pthread_mutex_unlock(&h->lock);
}
