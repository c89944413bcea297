/* The hang-up watcher; see hangup.h. Events carry the fd and a generation
 * number, so an event for a socket that was closed and its number reused
 * meanwhile is recognised and dropped. */
#include "hangup.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct slot {
    pl_hangup_fn fn; /* NULL: not watched */
    void *ud;
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

/* The peer of `fd` left: forget it and tell its watcher. Lock held. */
static void hang_up(pl_hangup *h, slot *s, int fd)
{
    pl_hangup_fn fn = s->fn;
    s->fn = NULL;
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
    fn(s->ud);
}

static void *watch_main(void *arg)
{
    pl_hangup *h = arg;
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
            if (s && s->fn && s->gen == gen)
                hang_up(h, s, fd);
            pthread_mutex_unlock(&h->lock);
        }
    }
}

int pl_hangup_start(pl_hangup **out)
{
    struct rlimit rl;
    pl_hangup *h = calloc(1, sizeof *h);
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
    if (pthread_create(&h->thread, NULL, watch_main, h) != 0) {
        pthread_mutex_destroy(&h->lock);
        goto fail;
    }
    *out = h;
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

void pl_hangup_stop(pl_hangup *h)
{
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
}

int pl_hangup_watch(pl_hangup *h, int fd, pl_hangup_fn fn, void *ud)
{
    if (!h || fd < 0 || (size_t)fd >= h->len)
        return -EBADF;
    int rc = 0;
    pthread_mutex_lock(&h->lock);
    slot *s = &h->table[fd];
    *s = (slot){.fn = fn, .ud = ud, .gen = ++h->gen};
    struct epoll_event ev = {.events = EPOLLRDHUP,
                             .data.u64 = ((uint64_t)s->gen << 32) | (uint32_t)fd};
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 &&
        epoll_ctl(h->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
        s->fn = NULL;
        rc = -errno;
    }
    pthread_mutex_unlock(&h->lock);
    return rc;
}

void pl_hangup_unwatch(pl_hangup *h, int fd, void *ud)
{
    if (!h || fd < 0 || (size_t)fd >= h->len)
        return;
    pthread_mutex_lock(&h->lock);
    if (h->table[fd].fn && h->table[fd].ud == ud) {
        h->table[fd].fn = NULL;
        epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
    }
    pthread_mutex_unlock(&h->lock);
}
