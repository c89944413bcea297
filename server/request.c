/* The helpers every waiting request shares; see request.h. Touches the
 * request, its room's waiter list and the hang-up watcher. */
#include "request.h"
#include "backend.h"
#include "hangup.h"
#include "reply.h"
#include "server.h"
#include "wire.h"

/* Orders a backend call's end against the request's suspension, so a
 * callback on another thread resumes only a suspended connection. */
static pthread_mutex_t later_lock = PTHREAD_MUTEX_INITIALIZER;

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

enum MHD_Result pl_req_later(pl_req *q, enum MHD_Result (*then)(pl_req *q))
{
    pthread_mutex_lock(&later_lock);
    bool done = q->later.done;
    if (!done) {
        q->later.then = then;
        q->later.parked = true;
        MHD_suspend_connection(q->conn);
    }
    pthread_mutex_unlock(&later_lock);
    if (!done)
        return MHD_YES;
    q->later.done = false;
    return then(q);
}

void pl_req_later_done(pl_req *q)
{
    pthread_mutex_lock(&later_lock);
    q->later.done = true;
    if (q->later.parked)
        MHD_resume_connection(q->conn);
    pthread_mutex_unlock(&later_lock);
}

enum MHD_Result (*pl_req_later_take(pl_req *q))(pl_req *q)
{
    pthread_mutex_lock(&later_lock);
    enum MHD_Result (*then)(pl_req * q) = q->later.done ? q->later.then : NULL;
    if (then) {
        q->later.then = NULL;
        q->later.done = q->later.parked = false;
    }
    pthread_mutex_unlock(&later_lock);
    return then;
}

static void room_opened(void *ud, int rc, pl_room *room)
{
    pl_req *q = ud;
    q->later.rc = rc;
    q->room = room;
    pl_req_later_done(q);
}

static enum MHD_Result after_open(pl_req *q)
{
    if (q->later.rc != 0)
        return pl_reply_store_error(q, q->later.rc);
    return q->later.next(q);
}

enum MHD_Result pl_req_open_room(pl_req *q, bool create, uint64_t since,
                                 enum MHD_Result (*then)(pl_req *q))
{
    pl_room *room = NULL;
    q->later.next = then;
    int rc = pl_backend_open(q->srv->backend, q->room_name, create, since, &room, room_opened, q);
    if (rc == PL_BACKEND_LATER)
        return pl_req_later(q, after_open);
    if (rc != 0)
        return pl_reply_store_error(q, rc);
    q->room = room;
    return then(q);
}
