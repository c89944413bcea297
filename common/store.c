/* The message store; see store.h. Each room keeps a ring of message
 * references: the message with id X sits (X - oldest) slots after the
 * ring's start, so a subscriber's cursor finds its next message in O(1). */
#include "store.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"

#define MAX_HOOKS 4

struct pl_room {
    pthread_mutex_t lock;
    struct pl_room *hnext; /* hash chain, guarded by the store lock */
    pl_msg **ring;
    size_t cap, start, count;        /* ring[start] holds the oldest message */
    uint64_t next_id;                /* the id the next publish gets */
    atomic_uint_fast64_t generation; /* pl_store_restart_room calls */
    _Atomic(void *) ext;             /* the backend's, pl_room_set_ext */
    pl_list waiters;                 /* of pl_waiter.node */
    char name[PL_ROOM_MAX + 1];
};

struct pl_store {
    pthread_rwlock_t lock; /* the room table */
    pl_room **buckets;
    size_t nbuckets, nrooms, max_rooms, history;
    atomic_uint_fast64_t published, trimmed;
    struct {
        pl_publish_hook fn;
        void *ud;
    } hooks[MAX_HOOKS];
    int nhooks;
};

pl_store *pl_store_new(size_t history, size_t max_rooms)
{
    if (history == 0 || max_rooms == 0)
        return NULL;
    pl_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* The table never grows: rooms are bounded, so size it once. */
    s->nbuckets = 64;
    while (s->nbuckets < max_rooms && s->nbuckets < 65536)
        s->nbuckets *= 2;
    s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
    if (!s->buckets) {
        free(s);
        return NULL;
    }
    s->history = history;
    s->max_rooms = max_rooms;
    pthread_rwlock_init(&s->lock, NULL);
    atomic_init(&s->published, 0);
    atomic_init(&s->trimmed, 0);
    return s;
}

static void room_free(pl_room *r)
{
    for (size_t i = 0; i < r->count; i++)
        pl_msg_unref(r->ring[i]);
    pthread_mutex_destroy(&r->lock);
    free(r->ring);
    free(r);
}

void pl_store_free(pl_store *s)
{
    if (!s)
        return;
    for (size_t b = 0; b < s->nbuckets; b++) {
        pl_room *r = s->buckets[b];
        while (r) {
            pl_room *next = r->hnext;
            room_free(r);
            r = next;
        }
    }
    pthread_rwlock_destroy(&s->lock);
    free(s->buckets);
    free(s);
}

int pl_store_add_hook(pl_store *s, pl_publish_hook fn, void *ud)
{
    if (s->nhooks == MAX_HOOKS)
        return -ENOSPC;
    s->hooks[s->nhooks].fn = fn;
    s->hooks[s->nhooks].ud = ud;
    s->nhooks++;
    return 0;
}

static size_t bucket_of(const pl_store *s, const char *name)
{
    return (size_t)pl_cid_hash(name, strlen(name)) & (s->nbuckets - 1);
}

static pl_room *find_locked(pl_store *s, const char *name)
{
    for (pl_room *r = s->buckets[bucket_of(s, name)]; r; r = r->hnext)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static pl_room *room_new(const char *name, size_t history)
{
    pl_room *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->ring = calloc(history, sizeof *r->ring);
    if (!r->ring) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->cap = history;
    r->next_id = 1;
    atomic_init(&r->generation, 0);
    atomic_init(&r->ext, NULL);
    pl_list_init(&r->waiters);
    strncpy(r->name, name, PL_ROOM_MAX);
    return r;
}

int pl_store_room(pl_store *s, const char *name, bool create, pl_room **out)
{
    pthread_rwlock_rdlock(&s->lock);
    pl_room *r = find_locked(s, name);
    pthread_rwlock_unlock(&s->lock);
    if (r || !create) {
        *out = r;
        return r ? 0 : -ENOENT;
    }
    int rc = 0;
    pthread_rwlock_wrlock(&s->lock);
    r = find_locked(s, name); /* another thread may have made it meanwhile */
    if (!r) {
        if (s->nrooms == s->max_rooms) {
            rc = -ENOSPC;
        } else if (!(r = room_new(name, s->history))) {
            rc = -ENOMEM;
        } else {
            size_t b = bucket_of(s, name);
            r->hnext = s->buckets[b];
            s->buckets[b] = r;
            s->nrooms++;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    *out = r;
    return rc;
}

const char *pl_room_name(const pl_room *r) { return r->name; }

static uint64_t oldest_locked(const pl_room *r) { return r->next_id - r->count; }

/* The message with id `id`, which must be held. */
static pl_msg *at_locked(const pl_room *r, uint64_t id)
{
    return r->ring[(r->start + (size_t)(id - oldest_locked(r))) % r->cap];
}

static pl_msg *find_cid_locked(pl_room *r, const pl_publish *in)
{
    uint64_t h = pl_cid_hash(in->cid, in->cid_len);
    for (size_t i = 0; i < r->count; i++) {
        pl_msg *m = r->ring[(r->start + i) % r->cap];
        if (m->cid_hash == h && strlen(m->cid) == in->cid_len &&
            memcmp(m->cid, in->cid, in->cid_len) == 0)
            return m;
    }
    return NULL;
}

/* Returns true when the oldest message was trimmed to make room. */
static bool append_locked(pl_room *r, pl_msg *m)
{
    bool trim = r->count == r->cap;
    if (trim) {
        pl_msg_unref(r->ring[r->start]);
        r->start = (r->start + 1) % r->cap;
        r->count--;
    }
    r->ring[(r->start + r->count) % r->cap] = m;
    r->count++;
    r->next_id++;
    return trim;
}

static void unlink_locked(pl_waiter *w)
{
    pl_list_remove(&w->node);
    w->room = NULL;
}

static void wake_locked(pl_room *r)
{
    pl_list *n;
    while ((n = pl_list_first(&r->waiters))) {
        pl_waiter *w = pl_list_entry(n, pl_waiter, node);
        unlink_locked(w);
        w->wake(w);
    }
}

static void run_hooks(pl_store *s, pl_room *r, const pl_msg *m)
{
    for (int i = 0; i < s->nhooks; i++)
        s->hooks[i].fn(s->hooks[i].ud, r, m);
}

int pl_store_publish(pl_store *s, pl_room *r, const pl_publish *in, pl_msg **out, bool *dup)
{
    pl_msg *m = NULL;
    *dup = false;
    pthread_mutex_lock(&r->lock);
    if (in->cid && (m = find_cid_locked(r, in))) {
        *dup = true;
        *out = pl_msg_ref(m);
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    /* Built under the lock so ids and timestamps rise together. */
    m = pl_msg_new(r->name, r->next_id, pl_clock_real_us(), in);
    if (!m) {
        pthread_mutex_unlock(&r->lock);
        return -ENOMEM;
    }
    bool trimmed = append_locked(r, m);
    *out = pl_msg_ref(m);
    wake_locked(r);
    pthread_mutex_unlock(&r->lock);
    atomic_fetch_add(&s->published, 1);
    if (trimmed)
        atomic_fetch_add(&s->trimmed, 1);
    run_hooks(s, r, m);
    return 0;
}

/* Drops every held message; the next id becomes `next`. Returns how many
 * were dropped. */
static size_t clear_locked(pl_room *r, uint64_t next)
{
    size_t n = r->count;
    for (size_t i = 0; i < r->count; i++)
        pl_msg_unref(r->ring[(r->start + i) % r->cap]);
    r->start = r->count = 0;
    r->next_id = next;
    return n;
}

int pl_store_append(pl_store *s, pl_room *r, pl_msg *m, bool allow_gap)
{
    size_t dropped = 0;
    pthread_mutex_lock(&r->lock);
    if (m->id < r->next_id) {
        pthread_mutex_unlock(&r->lock);
        return -EALREADY;
    }
    if (m->id > r->next_id) {
        if (!allow_gap) {
            pthread_mutex_unlock(&r->lock);
            return -ERANGE;
        }
        dropped = clear_locked(r, m->id); /* ids in between are gone everywhere */
    }
    bool trimmed = append_locked(r, pl_msg_ref(m));
    wake_locked(r);
    pthread_mutex_unlock(&r->lock);
    atomic_fetch_add(&s->published, 1);
    atomic_fetch_add(&s->trimmed, dropped + trimmed);
    run_hooks(s, r, m);
    return 0;
}

void pl_store_restart_room(pl_store *s, pl_room *r)
{
    pthread_mutex_lock(&r->lock);
    clear_locked(r, 1);
    atomic_fetch_add(&r->generation, 1);
    wake_locked(r);
    pthread_mutex_unlock(&r->lock);
    run_hooks(s, r, NULL);
}

uint64_t pl_room_generation(const pl_room *r) { return atomic_load(&r->generation); }

void *pl_room_ext(const pl_room *r) { return atomic_load(&((pl_room *)r)->ext); }

void pl_room_set_ext(pl_room *r, void *ext) { atomic_store(&r->ext, ext); }

/* Something after `since` is gone when the oldest held id is past the one
 * right after `since`. (Written so that no `since` overflows; oldest >= 1.) */
static bool gap_locked(const pl_room *r, uint64_t since) { return since < oldest_locked(r) - 1; }

static void fill_scan_locked(const pl_room *r, uint64_t since, pl_scan *info)
{
    if (!info)
        return;
    info->last_id = r->next_id - 1;
    info->oldest_id = r->count ? oldest_locked(r) : 0;
    info->gap = gap_locked(r, since);
}

/* The first id after `since` still held; UINT64_MAX (never held) when
 * `since` is the largest id there is. */
static uint64_t first_after_locked(const pl_room *r, uint64_t since)
{
    uint64_t oldest = oldest_locked(r);
    if (since == UINT64_MAX)
        return UINT64_MAX;
    return since + 1 > oldest ? since + 1 : oldest;
}

size_t pl_room_scan(pl_room *r, uint64_t since, size_t limit, pl_visit_fn fn, void *ud,
                    pl_scan *info)
{
    size_t visited = 0;
    pthread_mutex_lock(&r->lock);
    fill_scan_locked(r, since, info);
    for (uint64_t id = first_after_locked(r, since); id < r->next_id && visited < limit; id++) {
        if (!fn(ud, at_locked(r, id)))
            break;
        visited++;
    }
    pthread_mutex_unlock(&r->lock);
    return visited;
}

uint64_t pl_room_last_id(pl_room *r)
{
    pthread_mutex_lock(&r->lock);
    uint64_t id = r->next_id - 1;
    pthread_mutex_unlock(&r->lock);
    return id;
}

bool pl_room_wait(pl_room *r, uint64_t since, pl_waiter *w)
{
    bool waiting = false;
    pthread_mutex_lock(&r->lock);
    if (first_after_locked(r, since) >= r->next_id) {
        w->room = r;
        pl_list_push(&r->waiters, &w->node);
        waiting = w->park(w);
        if (!waiting)
            unlink_locked(w);
    }
    pthread_mutex_unlock(&r->lock);
    return waiting;
}

pl_msg *pl_room_next(pl_room *r, uint64_t since, bool *gap)
{
    pl_msg *m = NULL;
    pthread_mutex_lock(&r->lock);
    uint64_t id = first_after_locked(r, since);
    *gap = gap_locked(r, since);
    if (id < r->next_id)
        m = pl_msg_ref(at_locked(r, id));
    pthread_mutex_unlock(&r->lock);
    return m;
}

bool pl_waiter_cancel(pl_room *r, pl_waiter *w)
{
    bool linked;
    pthread_mutex_lock(&r->lock);
    linked = w->room == r;
    if (linked)
        unlink_locked(w);
    pthread_mutex_unlock(&r->lock);
    return linked;
}

void pl_store_wake_all(pl_store *s)
{
    pthread_rwlock_rdlock(&s->lock);
    for (size_t b = 0; b < s->nbuckets; b++) {
        for (pl_room *r = s->buckets[b]; r; r = r->hnext) {
            pthread_mutex_lock(&r->lock);
            wake_locked(r);
            pthread_mutex_unlock(&r->lock);
        }
    }
    pthread_rwlock_unlock(&s->lock);
}

size_t pl_store_room_count(pl_store *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->nrooms;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

uint64_t pl_store_published(pl_store *s) { return atomic_load(&s->published); }
uint64_t pl_store_trimmed(pl_store *s) { return atomic_load(&s->trimmed); }
size_t pl_store_history(const pl_store *s) { return s->history; }
