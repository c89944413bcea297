/* Local rooms as replicas of their logs in Redis; see redis_room.h and
 * docs/scaling.md ("A room on a node"). A replica takes a message from
 * pub/sub only as the next id; anything else (a jump, a new epoch, a
 * message while a sync is out) is left to a sync, which reads the log
 * after the replica's newest id. Syncs of one room go one at a time and
 * are numbered, so an open knows which sync started after it arrived. */
#include "redis_room.h"
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "message.h"

#define SUBSCRIBE_BATCH 128

struct pl_rroom {
    pl_list link; /* in rs->all */
    pl_rrooms *rs;
    pl_room *room;
    pl_rkeys keys;
    char epoch[PL_EPOCH_LEN + 1];      /* "" until the first sync answered */
    char sync_epoch[PL_EPOCH_LEN + 1]; /* `epoch` when the sync out was sent */
    atomic_bool live;                  /* filled from the log: readers may use it */
    bool subscribed;                   /* Redis confirmed the SUBSCRIBE */
    bool syncing, sync_again;
    uint64_t seq_sent, seq_done; /* syncs sent and answered */
    uint64_t seen;               /* highest id heard of under `epoch` */
    pl_list waiters;             /* of pl_rwaiter.link */
};

/* A room not held here yet whose existence in Redis an open asks about. */
typedef struct pl_rlookup {
    pl_list link; /* in rs->lookups */
    pl_rrooms *rs;
    pl_rwaiter *w; /* NULL once cancelled */
    bool sent;
    char name[PL_ROOM_MAX + 1];
} pl_rlookup;

struct pl_rrooms {
    pl_store *store;
    pl_rlink *link;
    const char *prefix;
    size_t history;
    pl_list all;     /* of pl_rroom.link */
    pl_list lookups; /* of pl_rlookup.link */
    atomic_uint_fast64_t syncs, restarts, fetched;
};

void pl_repoch_new(char out[PL_EPOCH_LEN + 1])
{
    unsigned char b[PL_EPOCH_LEN / 2];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* no entropy yet: the clock's bits are unique enough per start */
        uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        memcpy(b, &t, sizeof b);
    }
    for (size_t i = 0; i < sizeof b; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

const pl_rkeys *pl_rroom_keys(const pl_rroom *rr) { return &rr->keys; }

bool pl_rroom_current(pl_room *room, uint64_t since)
{
    pl_rroom *rr = pl_room_ext(room);
    return rr && atomic_load(&rr->live) && since <= pl_room_last_id(room);
}

/* ---- waiters ---- */

static void ready(pl_rwaiter *w, int rc)
{
    pl_list_remove(&w->link);
    w->ready(w, rc);
}

void pl_rwaiter_cancel(pl_rwaiter *w)
{
    pl_list_remove(&w->link);
    if (w->lookup) {
        pl_rlookup *lk = w->lookup;
        w->lookup = NULL;
        lk->w = NULL;
        if (!lk->sent) { /* no answer will come to free it */
            pl_list_remove(&lk->link);
            free(lk);
        }
    }
}

/* Serves the waiters the last sync (or what arrived since) satisfies. */
static void serve_waiters(pl_rroom *rr)
{
    if (!atomic_load(&rr->live))
        return;
    uint64_t last = pl_room_last_id(rr->room);
    pl_list_each(it, &rr->waiters)
    {
        pl_rwaiter *w = pl_list_entry(it, pl_rwaiter, link);
        if (w->need_seq <= rr->seq_done || w->since <= last)
            ready(w, 0);
    }
}

/* ---- syncs ---- */

static void send_sync(pl_rroom *rr);

static void want_sync(pl_rroom *rr)
{
    if (rr->syncing)
        rr->sync_again = true;
    else if (rr->subscribed)
        send_sync(rr);
}

static void restart(pl_rroom *rr, const char *epoch, size_t elen)
{
    if (rr->epoch[0]) {
        pl_info("redis: room %s began again (epoch %s -> %.*s)", pl_room_name(rr->room), rr->epoch,
                (int)elen, epoch);
        pl_store_restart_room(rr->rs->store, rr->room);
        atomic_fetch_add(&rr->rs->restarts, 1);
    }
    snprintf(rr->epoch, sizeof rr->epoch, "%.*s", (int)elen, epoch);
    rr->seen = 0;
}

/* Appends the messages of a sync answer, all of them contiguous log
 * entries; the first one past the newest held may jump (what lies
 * between was trimmed from the log). */
static void append_entries(pl_rroom *rr, redisReply *list)
{
    for (size_t i = 0; i < list->elements; i++) {
        redisReply *e = list->element[i];
        pl_msg *m = e->type == REDIS_REPLY_STRING ? pl_msg_from_json(e->str, e->len) : NULL;
        if (!m) {
            pl_warn("redis: room %s: a log entry is not a message", pl_room_name(rr->room));
            continue;
        }
        if (pl_store_append(rr->rs->store, rr->room, m, true) == 0)
            atomic_fetch_add(&rr->rs->fetched, 1);
        pl_msg_unref(m);
    }
}

static void on_sync(void *pd, redisReply *r)
{
    pl_rroom *rr = pd;
    rr->syncing = false;
    if (!r)
        return; /* link lost: the replica syncs again once it is back */
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[2]->type != REDIS_REPLY_ARRAY) {
        pl_warn("redis: room %s: sync failed: %s", pl_room_name(rr->room),
                r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
        return; /* waiters time out; the next jump or reconnect retries */
    }
    redisReply *epoch = r->element[0];
    if (strcmp(rr->sync_epoch, rr->epoch) != 0) {
        /* a new epoch came on pub/sub meanwhile: this answer may be older */
        send_sync(rr);
        return;
    }
    if (strlen(rr->epoch) != epoch->len || memcmp(rr->epoch, epoch->str, epoch->len) != 0)
        restart(rr, epoch->str, epoch->len);
    append_entries(rr, r->element[2]);
    atomic_fetch_add(&rr->rs->syncs, 1);
    rr->seq_done = rr->seq_sent;
    uint64_t last = pl_room_last_id(rr->room), log_last = (uint64_t)r->element[1]->integer;
    if (last < log_last || last < rr->seen)
        rr->sync_again = true; /* more than one answer holds, or pub/sub is ahead */
    atomic_store(&rr->live, true);
    serve_waiters(rr);
    if (rr->sync_again) {
        rr->sync_again = false;
        send_sync(rr);
    }
}

static void send_sync(pl_rroom *rr)
{
    char after[24], count[24], fresh[PL_EPOCH_LEN + 1];
    pl_repoch_new(fresh);
    snprintf(after, sizeof after, "%" PRIu64, rr->epoch[0] ? pl_room_last_id(rr->room) : 0);
    snprintf(count, sizeof count, "%zu", rr->rs->history);
    const char *argv[] = {rr->keys.meta, rr->keys.log, rr->keys.cids, after,
                          rr->epoch,     "1",          fresh,         count};
    size_t lens[8];
    for (int i = 0; i < 8; i++)
        lens[i] = strlen(argv[i]);
    if (pl_rlink_script(rr->rs->link, PL_RS_SYNC, 3, on_sync, rr, 8, argv, lens) != 0)
        return; /* down: synced again on the way back up */
    memcpy(rr->sync_epoch, rr->epoch, sizeof rr->epoch);
    rr->syncing = true;
    rr->seq_sent++;
}

/* ---- replicas ---- */

static void subscribe(pl_rrooms *rs, pl_rroom **rooms, int n)
{
    const char *ch[SUBSCRIBE_BATCH];
    size_t lens[SUBSCRIBE_BATCH];
    for (int i = 0; i < n; i++) {
        ch[i] = rooms[i]->keys.channel;
        lens[i] = strlen(ch[i]);
    }
    if (n && pl_rlink_subscribe(rs->link, n, ch, lens) != 0)
        pl_debug("redis: subscribe postponed: link down");
}

pl_rroom *pl_rrooms_get(pl_rrooms *rs, pl_room *room)
{
    pl_rroom *rr = pl_room_ext(room);
    if (rr)
        return rr;
    if (!(rr = calloc(1, sizeof *rr)))
        return NULL;
    rr->rs = rs;
    rr->room = room;
    atomic_init(&rr->live, false);
    pl_rkeys_of(&rr->keys, rs->prefix, pl_room_name(room));
    pl_list_init(&rr->waiters);
    pl_list_push(&rs->all, &rr->link);
    pl_room_set_ext(room, rr);
    if (pl_rlink_is_up(rs->link))
        subscribe(rs, &rr, 1);
    return rr;
}

static void wait_for(pl_rroom *rr, pl_rwaiter *w)
{
    w->room = rr->room;
    if (atomic_load(&rr->live) && w->since <= pl_room_last_id(rr->room)) {
        w->ready(w, 0);
        return;
    }
    w->need_seq = rr->seq_sent + 1;
    pl_list_push(&rr->waiters, &w->link);
    want_sync(rr);
}

void pl_rroom_apply(pl_rroom *rr, const char *epoch, size_t elen, const char *json, size_t jlen)
{
    if (!rr->epoch[0]) {
        want_sync(rr); /* never filled: the sync will bring this too */
        return;
    }
    if (strlen(rr->epoch) != elen || memcmp(rr->epoch, epoch, elen) != 0) {
        restart(rr, epoch, elen);
        atomic_store(&rr->live, false); /* until filled under the new epoch */
    }
    pl_msg *m = pl_msg_from_json(json, jlen);
    if (!m)
        return;
    if (m->id > rr->seen)
        rr->seen = m->id;
    /* With a sync out, its answer compares its newest id with `seen`. */
    int rc = rr->syncing ? 0 : pl_store_append(rr->rs->store, rr->room, m, false);
    pl_msg_unref(m);
    if (rc == -ERANGE || (!rr->syncing && !atomic_load(&rr->live)))
        want_sync(rr); /* a hole: the log has what is missing */
    else if (rc == 0)
        serve_waiters(rr);
}

/* ---- opening a room not held here ---- */

static void send_lookup(pl_rlookup *lk);

static void on_lookup(void *pd, redisReply *r)
{
    pl_rlookup *lk = pd;
    pl_rwaiter *w = lk->w;
    pl_rrooms *rs = lk->rs;
    lk->sent = false;
    if (!r && w)
        return; /* link lost: asked again once it is back */
    pl_list_remove(&lk->link);
    if (!w) {
        free(lk);
        return;
    }
    w->lookup = NULL;
    pl_room *room = NULL;
    bool exists = r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                  r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len > 0;
    int rc = r->type == REDIS_REPLY_ERROR ? -EIO : 0;
    if (exists)
        rc = pl_store_room(rs->store, lk->name, true, &room);
    free(lk);
    pl_rroom *rr = room ? pl_rrooms_get(rs, room) : NULL;
    if (rr)
        wait_for(rr, w);
    else
        w->ready(w, room ? -ENOMEM : rc);
}

static void send_lookup(pl_rlookup *lk)
{
    pl_rkeys k;
    pl_rkeys_of(&k, lk->rs->prefix, lk->name);
    const char *argv[] = {k.meta, k.log, k.cids, "0", "", "0", "", "1"};
    size_t lens[8];
    for (int i = 0; i < 8; i++)
        lens[i] = strlen(argv[i]);
    if (pl_rlink_script(lk->rs->link, PL_RS_SYNC, 3, on_lookup, lk, 8, argv, lens) == 0)
        lk->sent = true;
}

void pl_rrooms_open(pl_rrooms *rs, const char *name, bool create, uint64_t since, pl_rwaiter *w)
{
    pl_room *room = NULL;
    w->since = since;
    w->lookup = NULL;
    int rc = pl_store_room(rs->store, name, create, &room);
    if (rc == -ENOENT) {
        pl_rlookup *lk = calloc(1, sizeof *lk);
        if (!lk) {
            w->ready(w, -ENOMEM);
            return;
        }
        lk->rs = rs;
        lk->w = w;
        snprintf(lk->name, sizeof lk->name, "%s", name);
        w->lookup = lk;
        pl_list_push(&rs->lookups, &lk->link);
        send_lookup(lk);
        return;
    }
    pl_rroom *rr = rc == 0 ? pl_rrooms_get(rs, room) : NULL;
    if (rr)
        wait_for(rr, w);
    else
        w->ready(w, rc ? rc : -ENOMEM);
}

/* ---- the link's events ---- */

void pl_rrooms_up(pl_rrooms *rs)
{
    pl_rroom *batch[SUBSCRIBE_BATCH];
    int n = 0;
    pl_list_each(it, &rs->all)
    {
        batch[n++] = pl_list_entry(it, pl_rroom, link);
        if (n == SUBSCRIBE_BATCH) {
            subscribe(rs, batch, n);
            n = 0;
        }
    }
    subscribe(rs, batch, n);
    pl_list_each(it, &rs->lookups)
    {
        pl_rlookup *lk = pl_list_entry(it, pl_rlookup, link);
        if (!lk->sent)
            send_lookup(lk);
    }
}

void pl_rrooms_down(pl_rrooms *rs)
{
    pl_list_each(it, &rs->all)
    {
        pl_rroom *rr = pl_list_entry(it, pl_rroom, link);
        rr->subscribed = rr->syncing = rr->sync_again = false;
    }
}

void pl_rrooms_subscribed(pl_rrooms *rs, const char *channel, size_t len)
{
    char name[PL_ROOM_MAX + 1];
    pl_room *room;
    if (pl_rkeys_room_of_channel(rs->prefix, channel, len, name) != 0 ||
        pl_store_room(rs->store, name, false, &room) != 0 || !pl_room_ext(room))
        return;
    pl_rroom *rr = pl_room_ext(room);
    rr->subscribed = true;
    /* Messages published from here on arrive on the channel; the sync
     * fetches everything before. */
    want_sync(rr);
}

void pl_rrooms_message(pl_rrooms *rs, const char *channel, size_t clen, const char *payload,
                       size_t plen)
{
    char name[PL_ROOM_MAX + 1];
    pl_room *room;
    const char *sp = memchr(payload, ' ', plen);
    if (!sp || pl_rkeys_room_of_channel(rs->prefix, channel, clen, name) != 0 ||
        pl_store_room(rs->store, name, false, &room) != 0 || !pl_room_ext(room))
        return;
    pl_rroom *rr = pl_room_ext(room);
    if (rr->subscribed)
        pl_rroom_apply(rr, payload, (size_t)(sp - payload), sp + 1,
                       plen - (size_t)(sp - payload) - 1);
}

void pl_rrooms_resync_all(pl_rrooms *rs)
{
    pl_list_each(it, &rs->all) want_sync(pl_list_entry(it, pl_rroom, link));
}

/* ---- life ---- */

pl_rrooms *pl_rrooms_new(pl_store *s, pl_rlink *link, const char *prefix, size_t history)
{
    pl_rrooms *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    rs->store = s;
    rs->link = link;
    rs->prefix = prefix;
    rs->history = history;
    pl_list_init(&rs->all);
    pl_list_init(&rs->lookups);
    return rs;
}

void pl_rrooms_free(pl_rrooms *rs)
{
    pl_list *n;
    if (!rs)
        return;
    while ((n = pl_list_first(&rs->lookups))) {
        pl_rlookup *lk = pl_list_entry(n, pl_rlookup, link);
        pl_list_remove(n);
        if (lk->w) {
            lk->w->lookup = NULL;
            lk->w->ready(lk->w, -ECANCELED);
        }
        free(lk);
    }
    while ((n = pl_list_first(&rs->all))) {
        pl_rroom *rr = pl_list_entry(n, pl_rroom, link);
        pl_list *wn;
        while ((wn = pl_list_first(&rr->waiters)))
            ready(pl_list_entry(wn, pl_rwaiter, link), -ECANCELED);
        pl_list_remove(n);
        pl_room_set_ext(rr->room, NULL);
        free(rr);
    }
    free(rs);
}

void pl_rrooms_counts_get(const pl_rrooms *rs, pl_rrooms_counts *out)
{
    out->syncs = atomic_load(&((pl_rrooms *)rs)->syncs);
    out->restarts = atomic_load(&((pl_rrooms *)rs)->restarts);
    out->fetched = atomic_load(&((pl_rrooms *)rs)->fetched);
}
