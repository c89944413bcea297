/* The helpers every waiting request shares; see request.h. Touches the
 * request, its room's waiter list and the hang-up watcher. */
#include "request.h"
#include "hangup.h"
#include "server.h"
#include "wire.h"

void pl_req_list_init(pl_req_list *l, int64_t (*tick)(pl_req *q, int64_t now_us))
{
    l->tick = tick;
    pthread_mutex_init(&l->lock, NULL);
    pl_list_init(&l->head);
}

void pl_req_list_destroy(pl_req_list *l) { pthread_mutex_destroy(&l->lock); }

void pl_req_list_add(pl_req_list *l, pl_req *q)
{
    pthread_mutex_lock(&l->lock);
    pl_list_push_front(&l->head, &q->link);
    pthread_mutex_unlock(&l->lock);
}

void pl_req_list_remove(pl_req_list *l, pl_req *q)
{
    pthread_mutex_lock(&l->lock);
    pl_list_remove(&q->link);
    pthread_mutex_unlock(&l->lock);
}

int64_t pl_req_list_tick(void *list, int64_t now_us)
{
    pl_req_list *l = list;
    int64_t next = INT64_MAX;
    pthread_mutex_lock(&l->lock);
    pl_list_each(it, &l->head)
    {
        int64_t at = l->tick(pl_list_entry(it, pl_req, link), now_us);
        if (at < next)
            next = at;
    }
    pthread_mutex_unlock(&l->lock);
    return next;
}

bool pl_req_resume(pl_req *q)
{
    if (!q->room || !pl_waiter_cancel(q->room, &q->waiter))
        return false;
    MHD_resume_connection(q->conn);
    return true;
}

int pl_req_fd(const pl_req *q)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

uint64_t pl_req_wire_out(const pl_req *q)
{
    pl_wire w;
    pl_wire_read(pl_req_fd(q), &w);
    return w.out;
}

/* The client left while we waited (watcher thread, its lock held). */
static void on_hangup(void *ud)
{
    pl_req *q = ud;
    atomic_store(&q->gone, true);
    pl_req_resume(q);
}

void pl_req_watch(pl_req *q)
{
    int fd = pl_req_fd(q);
    if (pl_hangup_watch(q->srv->hangup, fd, on_hangup, q) == 0)
        q->watched_fd = fd + 1; /* 0 means unwatched */
}

void pl_req_unwatch(pl_req *q)
{
    if (q->watched_fd) {
        pl_hangup_unwatch(q->srv->hangup, q->watched_fd - 1, q);
        q->watched_fd = 0;
    }
}
