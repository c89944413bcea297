/* The Redis backend's calls and thread; see backend_redis.h. A call from
 * an HTTP or WebSocket thread becomes an op, queued to the backend's libev
 * thread (ev_async), which runs it over the link (redis_link.c) and the
 * replicas (redis_room.c). Every op has a deadline, cfg.timeout_ms after
 * it was made, at which it fails as "store unavailable"; one timer serves
 * them all, since they arrive in deadline order. */
#include "backend_redis.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "log.h"
#include "redis_link.h"
#include "redis_room.h"

#define OPS_MAX       65536 /* ops alive at once: more is "store unavailable" */
#define CANARY_PERIOD 1.0   /* seconds between two checks of the store's epoch */
#define PREFIX_MAX    64

typedef struct rb rb;

/* One call, from the caller's thread to its callback. */
typedef struct rop {
    pl_list qlink; /* in b->queue (qlock), then b->pubs_waiting */
    pl_list dlink; /* in b->deadlines until finished */
    rb *b;
    int refs; /* the deadline list's, and a publish's command out */
    bool finished, is_open;
    int64_t deadline_us;
    char room[PL_ROOM_MAX + 1];
    void *ud;
    /* an open */
    pl_open_done open_done;
    bool create;
    uint64_t since;
    pl_rwaiter w;
    /* a publish */
    pl_publish_done pub_done;
    pl_msg_parts parts;
    char cid[PL_CID_MAX + 1];
} rop;

struct rb {
    pl_backend base;
    pl_redis_config cfg;
    char prefix[PREFIX_MAX + 1];
    struct ev_loop *loop;
    pthread_t thread;
    bool started, joined;
    ev_async wake;
    pthread_mutex_t qlock;
    pl_list queue; /* of rop.qlink, from callers */
    bool stopped;  /* (qlock) the thread takes no more ops */
    atomic_int nops;
    atomic_bool connected;
    /* the thread's own */
    pl_rlink *link;
    pl_rrooms *rooms;
    pl_list deadlines;    /* of rop.dlink, oldest first */
    pl_list pubs_waiting; /* of rop.qlink: publishes waiting for the link */
    ev_timer deadline_timer, canary_timer;
    char store_epoch[PL_EPOCH_LEN + 1];
};

/* ---- ops ---- */

static void op_unref(rop *op)
{
    if (--op->refs)
        return;
    pl_msg_parts_free(&op->parts);
    atomic_fetch_sub(&op->b->nops, 1);
    free(op);
}

/* Runs the op's callback once and retires it from every list. */
static void finish(rop *op, int rc, pl_msg *m, bool dup, pl_room *room)
{
    if (op->finished)
        return;
    op->finished = true;
    pl_list_remove(&op->qlink);
    pl_list_remove(&op->dlink);
    if (op->is_open) {
        pl_rwaiter_cancel(&op->w);
        op->open_done(op->ud, rc, room);
    } else {
        op->pub_done(op->ud, rc, m, dup);
    }
    op_unref(op);
}

static void arm_deadline(rb *b)
{
    pl_list *first = pl_list_first(&b->deadlines);
    ev_timer_stop(b->loop, &b->deadline_timer);
    if (!first)
        return;
    rop *op = pl_list_entry(first, rop, dlink);
    double left = (op->deadline_us - pl_clock_mono_us()) / 1e6;
    ev_timer_set(&b->deadline_timer, left > 0 ? left : 0, 0);
    ev_timer_start(b->loop, &b->deadline_timer);
}

static void deadline_cb(EV_P_ ev_timer *w, int revents)
{
    rb *b = w->data;
    pl_list *n;
    (void)loop, (void)revents;
    int64_t now = pl_clock_mono_us();
    while ((n = pl_list_first(&b->deadlines))) {
        rop *op = pl_list_entry(n, rop, dlink);
        if (op->deadline_us > now)
            break;
        finish(op, -ETIMEDOUT, NULL, false, NULL);
    }
    arm_deadline(b);
}

static void on_open_ready(pl_rwaiter *w, int rc)
{
    rop *op = (rop *)(void *)((char *)w - offsetof(rop, w));
    finish(op, rc, NULL, false, w->room);
}

static void send_publish(rop *op);

static void on_published(void *pd, redisReply *r)
{
    rop *op = pd;
    rb *b = op->b;
    if (!r) {
        /* The link went down with the script sent: it may have run. With
         * a cid, running it again is safe (it answers the first message);
         * without one, the caller decides. */
        if (!op->finished && op->cid[0])
            pl_list_push(&b->pubs_waiting, &op->qlink);
        else
            finish(op, -EIO, NULL, false, NULL);
        op_unref(op);
        return;
    }
    pl_room *room = NULL;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[2]->type != REDIS_REPLY_STRING) {
        pl_warn("redis: publish to %s refused: %s", op->room,
                r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
        finish(op, -EIO, NULL, false, NULL);
        op_unref(op);
        return;
    }
    redisReply *epoch = r->element[1], *json = r->element[2];
    if (pl_store_room(b->base.store, op->room, false, &room) == 0 && pl_room_ext(room))
        pl_rroom_apply(pl_room_ext(room), epoch->str, epoch->len, json->str, json->len);
    pl_msg *m = pl_msg_from_json(json->str, json->len);
    finish(op, m ? 0 : -EIO, m, r->element[0]->integer == 1, NULL);
    pl_msg_unref(m);
    op_unref(op);
}

static void send_publish(rop *op)
{
    rb *b = op->b;
    pl_room *room;
    char history[24], fresh[PL_EPOCH_LEN + 1], quoted[PL_ROOM_MAX + 1];
    if (!pl_rlink_is_up(b->link)) {
        pl_list_push(&b->pubs_waiting, &op->qlink);
        return;
    }
    /* The caller made the local room; it is a replica from now on. */
    pl_rroom *rr = pl_store_room(b->base.store, op->room, false, &room) == 0
                       ? pl_rrooms_get(b->rooms, room)
                       : NULL;
    if (!rr) {
        finish(op, -ENOMEM, NULL, false, NULL);
        return;
    }
    const pl_rkeys *k = pl_rroom_keys(rr);
    snprintf(history, sizeof history, "%zu", b->cfg.history);
    snprintf(quoted, sizeof quoted, "%s", op->room); /* a valid name needs no escaping */
    pl_repoch_new(fresh);
    const char *argv[] = {k->meta, k->log,         k->cids,        history, fresh,
                          quoted,  op->parts.head, op->parts.tail, op->cid, k->channel};
    size_t lens[10];
    for (int i = 0; i < 10; i++)
        lens[i] = strlen(argv[i]);
    if (pl_rlink_script(b->link, PL_RS_PUBLISH, 3, on_published, op, 10, argv, lens) != 0) {
        pl_list_push(&b->pubs_waiting, &op->qlink);
        return;
    }
    op->refs++;
}

static void dispatch(rb *b, rop *op)
{
    op->deadline_us = pl_clock_mono_us() + (int64_t)b->cfg.timeout_ms * 1000;
    pl_list_push(&b->deadlines, &op->dlink);
    if (pl_list_first(&b->deadlines) == &op->dlink)
        arm_deadline(b);
    if (op->is_open) {
        op->w.ready = on_open_ready;
        pl_rrooms_open(b->rooms, op->room, op->create, op->since, &op->w);
    } else {
        send_publish(op);
    }
}

/* ---- the link's events ---- */

static void on_canary(void *pd, redisReply *r)
{
    rb *b = pd;
    if (!r || r->type != REDIS_REPLY_STRING || r->len > PL_EPOCH_LEN)
        return;
    if (b->store_epoch[0] && strncmp(b->store_epoch, r->str, r->len) != 0) {
        pl_info("redis: the store's epoch changed (emptied or replaced): checking every room");
        pl_rrooms_resync_all(b->rooms);
    }
    memcpy(b->store_epoch, r->str, r->len);
    b->store_epoch[r->len] = '\0';
}

/* Also the link's keepalive: an answer that does not come drops it. */
static void send_canary(rb *b)
{
    char key[PREFIX_MAX + 8], fresh[PL_EPOCH_LEN + 1];
    snprintf(key, sizeof key, "%s:epoch", b->prefix);
    pl_repoch_new(fresh);
    const char *argv[] = {key, fresh};
    size_t lens[] = {strlen(key), strlen(fresh)};
    pl_rlink_script(b->link, PL_RS_CANARY, 1, on_canary, b, 2, argv, lens);
}

static void canary_cb(EV_P_ ev_timer *w, int revents)
{
    rb *b = w->data;
    (void)loop, (void)revents;
    if (pl_rlink_is_up(b->link))
        send_canary(b);
}

static void link_up(void *ud)
{
    rb *b = ud;
    pl_list waiting, *n;
    atomic_store(&b->connected, true);
    send_canary(b);
    pl_rrooms_up(b->rooms);
    /* Re-sent in arrival order; a failure puts them back in the list. */
    pl_list_init(&waiting);
    while ((n = pl_list_first(&b->pubs_waiting))) {
        pl_list_remove(n);
        pl_list_push(&waiting, n);
    }
    while ((n = pl_list_first(&waiting))) {
        pl_list_remove(n);
        send_publish(pl_list_entry(n, rop, qlink));
    }
}

static void link_down(void *ud)
{
    rb *b = ud;
    atomic_store(&b->connected, false);
    pl_rrooms_down(b->rooms);
}

static void link_subscribed(void *ud, const char *ch, size_t len)
{
    pl_rrooms_subscribed(((rb *)ud)->rooms, ch, len);
}

static void link_message(void *ud, const char *ch, size_t clen, const char *p, size_t plen)
{
    pl_rrooms_message(((rb *)ud)->rooms, ch, clen, p, plen);
}

static const pl_rlink_ops link_ops = {
    .up = link_up, .down = link_down, .subscribed = link_subscribed, .message = link_message};

/* ---- the thread ---- */

/* Ends everything on the thread: every op fails with -ECANCELED. */
static void shut_down(rb *b)
{
    pl_list *n;
    while ((n = pl_list_first(&b->deadlines)))
        finish(pl_list_entry(n, rop, dlink), -ECANCELED, NULL, false, NULL);
    pl_rlink_free(b->link); /* commands out answer NULL: their ops are done */
    b->link = NULL;
    ev_timer_stop(b->loop, &b->deadline_timer);
    ev_timer_stop(b->loop, &b->canary_timer);
    ev_async_stop(b->loop, &b->wake);
    ev_break(b->loop, EVBREAK_ALL);
}

static void wake_cb(EV_P_ ev_async *w, int revents)
{
    rb *b = w->data;
    pl_list taken, *n;
    (void)loop, (void)revents;
    pl_list_init(&taken);
    pthread_mutex_lock(&b->qlock);
    while ((n = pl_list_first(&b->queue))) {
        pl_list_remove(n);
        pl_list_push(&taken, n);
    }
    bool stop = b->stopped;
    pthread_mutex_unlock(&b->qlock);
    while ((n = pl_list_first(&taken))) {
        pl_list_remove(n);
        dispatch(b, pl_list_entry(n, rop, qlink));
    }
    if (stop)
        shut_down(b);
}

static void *thread_main(void *arg)
{
    rb *b = arg;
    ev_run(b->loop, 0);
    return NULL;
}

/* ---- the backend's operations (callers' threads) ---- */

static rop *op_new(rb *b, const char *name, void *ud)
{
    if (atomic_fetch_add(&b->nops, 1) >= OPS_MAX) {
        atomic_fetch_sub(&b->nops, 1);
        return NULL;
    }
    rop *op = calloc(1, sizeof *op);
    if (!op) {
        atomic_fetch_sub(&b->nops, 1);
        return NULL;
    }
    op->b = b;
    op->refs = 1;
    op->ud = ud;
    snprintf(op->room, sizeof op->room, "%s", name);
    return op;
}

/* Hands `op` to the thread. Returns 0 or -ECANCELED (stopped: op freed). */
static int submit(rb *b, rop *op)
{
    pthread_mutex_lock(&b->qlock);
    bool stopped = b->stopped;
    if (!stopped)
        pl_list_push(&b->queue, &op->qlink);
    pthread_mutex_unlock(&b->qlock);
    if (stopped) {
        op_unref(op);
        return -ECANCELED;
    }
    ev_async_send(b->loop, &b->wake);
    return 0;
}

static int rb_open(pl_backend *base, const char *name, bool create, uint64_t since, pl_room **out,
                   pl_open_done done, void *ud)
{
    rb *b = (rb *)base;
    pl_room *room;
    if (pl_store_room(base->store, name, false, &room) == 0 && pl_rroom_current(room, since)) {
        *out = room;
        return 0;
    }
    rop *op = op_new(b, name, ud);
    if (!op)
        return -EAGAIN;
    op->is_open = true;
    op->open_done = done;
    op->create = create;
    op->since = since;
    int rc = submit(b, op);
    return rc ? rc : PL_BACKEND_LATER;
}

static int rb_publish(pl_backend *base, const char *name, const pl_publish *in,
                      pl_publish_done done, void *ud)
{
    rb *b = (rb *)base;
    pl_room *room;
    /* The local room first, so the room limit answers as it does in memory. */
    int rc = pl_store_room(base->store, name, true, &room);
    rop *op = rc ? NULL : op_new(b, name, ud);
    if (!rc && !op)
        rc = -EAGAIN;
    if (op && pl_msg_fragments(in, &op->parts) != 0) {
        op_unref(op);
        op = NULL;
        rc = -ENOMEM;
    }
    if (op) {
        op->pub_done = done;
        if (in->cid)
            snprintf(op->cid, sizeof op->cid, "%.*s", (int)in->cid_len, in->cid);
        rc = submit(b, op);
    }
    if (rc)
        done(ud, rc, NULL, false);
    return 0;
}

static void rb_stop(pl_backend *base)
{
    rb *b = (rb *)base;
    pthread_mutex_lock(&b->qlock);
    b->stopped = true;
    pthread_mutex_unlock(&b->qlock);
    if (b->started && !b->joined) {
        ev_async_send(b->loop, &b->wake);
        pthread_join(b->thread, NULL);
        b->joined = true;
    }
}

static void rb_free(pl_backend *base)
{
    rb *b = (rb *)base;
    rb_stop(base);
    if (!b->started) /* the thread never ran: tear down here */
        pl_rlink_free(b->link);
    pl_rrooms_free(b->rooms); /* after the link: its callbacks point there */
    if (b->loop)
        ev_loop_destroy(b->loop);
    pthread_mutex_destroy(&b->qlock);
    free(b);
}

static void rb_info(pl_backend *base, pl_backend_info *out)
{
    rb *b = (rb *)base;
    pl_rrooms_counts c = {0};
    if (b->rooms)
        pl_rrooms_counts_get(b->rooms, &c);
    *out = (pl_backend_info){.shared = true,
                             .connected = atomic_load(&b->connected),
                             .syncs = c.syncs,
                             .restarts = c.restarts,
                             .fetched = c.fetched};
}

static bool rb_current(pl_backend *b, pl_room *r) { return (void)b, pl_rroom_current(r, 0); }

static const pl_backend_ops redis_ops = {.open = rb_open,
                                         .publish = rb_publish,
                                         .stop = rb_stop,
                                         .free = rb_free,
                                         .info = rb_info,
                                         .current = rb_current};

int pl_backend_redis_new(pl_store *s, const pl_redis_config *cfg, pl_backend **out)
{
    if (!cfg->prefix || !*cfg->prefix || strlen(cfg->prefix) > PREFIX_MAX || !cfg->history ||
        cfg->timeout_ms <= 0 || cfg->history != pl_store_history(s))
        return -EINVAL;
    rb *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->base = (pl_backend){.ops = &redis_ops, .store = s, .name = "redis"};
    b->cfg = *cfg;
    snprintf(b->prefix, sizeof b->prefix, "%s", cfg->prefix);
    b->cfg.prefix = b->prefix;
    pthread_mutex_init(&b->qlock, NULL);
    pl_list_init(&b->queue);
    pl_list_init(&b->deadlines);
    pl_list_init(&b->pubs_waiting);
    atomic_init(&b->nops, 0);
    atomic_init(&b->connected, false);
    pl_rlink_config lc = {
        .host = cfg->host, .port = cfg->port, .db = cfg->db, .timeout_ms = cfg->timeout_ms};
    if (!(b->loop = ev_loop_new(EVFLAG_AUTO)))
        goto fail;
    ev_async_init(&b->wake, wake_cb);
    ev_timer_init(&b->deadline_timer, deadline_cb, 0, 0);
    ev_timer_init(&b->canary_timer, canary_cb, CANARY_PERIOD, CANARY_PERIOD);
    b->wake.data = b->deadline_timer.data = b->canary_timer.data = b;
    ev_async_start(b->loop, &b->wake);
    ev_timer_start(b->loop, &b->canary_timer);
    /* Made before the thread starts, which then alone touches them. */
    if (pl_rlink_new(b->loop, &lc, &link_ops, b, &b->link) != 0 ||
        !(b->rooms = pl_rrooms_new(s, b->link, b->prefix, cfg->history)))
        goto fail;
    if (pthread_create(&b->thread, NULL, thread_main, b) != 0)
        goto fail;
    b->started = true;
    *out = &b->base;
    return 0;
fail:
    rb_free(&b->base);
    return -ENOMEM;
}
