/* Worker threads; see worker.h. A command is an int under the worker's
 * mutex plus a write to its eventfd; the loop's fd callback runs it and
 * signals the condition. The stop command is ours (negative), the others
 * the caller's. */
#include "worker.h"
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define CMD_STOP (-1)

static void on_command(pl_loop *l, int fd, int events, void *ud)
{
    pl_bworker *w = ud;
    uint64_t n;
    (void)events;
    if (read(fd, &n, sizeof n) != sizeof n)
        return;
    pthread_mutex_lock(&w->mu);
    int cmd = w->cmd;
    pthread_mutex_unlock(&w->mu);
    if (cmd == CMD_STOP)
        pl_loop_stop(l);
    else if (cmd > 0)
        w->ops->command(w->ud, cmd);
    pthread_mutex_lock(&w->mu);
    w->cmd = 0;
    w->done++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Tells the starter setup's outcome. */
static void set_up(pl_bworker *w, int rc)
{
    pthread_mutex_lock(&w->mu);
    w->setup_rc = rc;
    w->set_up = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void *thread_main(void *arg)
{
    pl_bworker *w = arg;
    int rc = pl_loop_new(&w->loop);
    if (rc == 0 && w->tls)
        rc = pl_loop_set_tls(w->loop, w->tls);
    if (rc == 0)
        rc = pl_loop_watch_fd(w->loop, w->efd, PL_FD_READ, on_command, w);
    if (rc == 0)
        rc = w->ops->setup(w->ud, w->loop);
    set_up(w, rc);
    if (rc == 0) {
        while (pl_loop_run(w->loop, -1) == 0)
            ; /* only our stop command ends it */
        w->ops->teardown(w->ud);
    }
    if (w->loop)
        pl_loop_unwatch_fd(w->loop, w->efd);
    pl_loop_free(w->loop);
    w->loop = NULL;
    return NULL;
}

int pl_bworker_start(pl_bworker *w, const pl_bworker_ops *ops, void *ud, const pl_tls_opts *tls)
{
    memset(w, 0, sizeof *w);
    w->ops = ops;
    w->ud = ud;
    w->tls = tls;
    if ((w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return -errno;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc = pthread_create(&w->thread, NULL, thread_main, w);
    if (rc) {
        close(w->efd);
        return -rc;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->set_up)
        pthread_cond_wait(&w->cv, &w->mu);
    rc = w->setup_rc;
    pthread_mutex_unlock(&w->mu);
    w->running = true;
    if (rc) {
        pthread_join(w->thread, NULL);
        close(w->efd);
        w->running = false;
    }
    return rc;
}

void pl_bworker_post(pl_bworker *w, int cmd)
{
    uint64_t one = 1;
    pthread_mutex_lock(&w->mu);
    w->cmd = cmd;
    pthread_mutex_unlock(&w->mu);
    if (write(w->efd, &one, sizeof one) != sizeof one)
        return; /* only fails on a counter overflow: never, one at a time */
}

void pl_bworker_wait(pl_bworker *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->cmd != 0)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

double pl_bworker_cpu(const pl_bworker *w)
{
    clockid_t id;
    struct timespec ts;
    if (!w->running || pthread_getcpuclockid(w->thread, &id) != 0 || clock_gettime(id, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pl_bworker_stop(pl_bworker *w)
{
    if (!w->running)
        return;
    pl_bworker_post(w, CMD_STOP);
    pthread_join(w->thread, NULL);
    close(w->efd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    w->running = false;
}
