/* The fan-out index; see ws_fanout.h. Rooms with members sit in a hash
 * table of chains; the dirty set is an open-addressing table of room keys
 * that is considered overflowed at half full, so probes stay short. */
#include "ws_fanout.h"
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIRTY_SLOTS    1024 /* power of two; rooms marked between wake-ups */
#define DIRTY_FILL_MAX (DIRTY_SLOTS / 2)
#define ROOM_BUCKETS   1024 /* power of two; rooms with members */

struct pl_ws_fanout_room {
    const void *key;
    pl_list members;                /* of pl_ws_fanout_member.link */
    struct pl_ws_fanout_room *next; /* hash chain */
};

struct pl_ws_fanout {
    /* Rooms with news since the last drain: filled by publishers, taken by
     * the service thread. `all`: more than the set holds. */
    pthread_mutex_t lock;
    const void *dirty[DIRTY_SLOTS];
    size_t n_dirty;
    bool all;
    const void *drain[DIRTY_SLOTS]; /* the service thread's copy */

    pl_ws_fanout_room *rooms[ROOM_BUCKETS]; /* service thread only */
};

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

int pl_ws_fanout_new(pl_ws_fanout **out)
{
    pl_ws_fanout *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    pthread_mutex_init(&f->lock, NULL);
    *out = f;
    return 0;
}

void pl_ws_fanout_free(pl_ws_fanout *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static pl_ws_fanout_room **room_slot(pl_ws_fanout *f, const void *key)
{
    pl_ws_fanout_room **p = &f->rooms[ptr_hash(key) & (ROOM_BUCKETS - 1)];
    while (*p && (*p)->key != key)
        p = &(*p)->next;
    return p;
}

int pl_ws_fanout_join(pl_ws_fanout *f, pl_ws_fanout_member *m, const void *room)
{
    pl_ws_fanout_room **p = room_slot(f, room);
    if (!*p) {
        if (!(*p = calloc(1, sizeof **p)))
            return -ENOMEM;
        (*p)->key = room;
        pl_list_init(&(*p)->members);
    }
    m->room = *p;
    pl_list_push_front(&m->room->members, &m->link);
    return 0;
}

void pl_ws_fanout_leave(pl_ws_fanout *f, pl_ws_fanout_member *m)
{
    if (!m->room)
        return;
    pl_list_remove(&m->link);
    if (pl_list_empty(&m->room->members)) {
        pl_ws_fanout_room **p = room_slot(f, m->room->key);
        *p = m->room->next;
        free(m->room);
    }
    m->room = NULL;
}

bool pl_ws_fanout_mark(pl_ws_fanout *f, const void *room)
{
    pthread_mutex_lock(&f->lock);
    bool was_empty = f->n_dirty == 0 && !f->all;
    if (!f->all) {
        size_t i = ptr_hash(room) & (DIRTY_SLOTS - 1);
        while (f->dirty[i] && f->dirty[i] != room)
            i = (i + 1) & (DIRTY_SLOTS - 1);
        if (!f->dirty[i]) {
            if (f->n_dirty == DIRTY_FILL_MAX) {
                f->all = true;
            } else {
                f->dirty[i] = room;
                f->n_dirty++;
            }
        }
    }
    pthread_mutex_unlock(&f->lock);
    return was_empty;
}

/* Moves the marks into f->drain; returns how many, or SIZE_MAX for all. */
static size_t take_marks(pl_ws_fanout *f)
{
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    bool all = f->all;
    if (!all) {
        for (size_t i = 0; i < DIRTY_SLOTS && n < f->n_dirty; i++)
            if (f->dirty[i])
                f->drain[n++] = f->dirty[i];
    }
    memset(f->dirty, 0, sizeof f->dirty);
    f->n_dirty = 0;
    f->all = false;
    pthread_mutex_unlock(&f->lock);
    return all ? SIZE_MAX : n;
}

static void each_member(pl_ws_fanout_room *r, pl_ws_fanout_fn fn, void *ud)
{
    pl_list_each(it, &r->members) fn(pl_list_entry(it, pl_ws_fanout_member, link), ud);
}

bool pl_ws_fanout_drain(pl_ws_fanout *f, pl_ws_fanout_fn fn, void *ud)
{
    size_t n = take_marks(f);
    if (n == SIZE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        pl_ws_fanout_room *r = *room_slot(f, f->drain[i]);
        if (r)
            each_member(r, fn, ud);
    }
    return true;
}

void pl_ws_fanout_each(pl_ws_fanout *f, pl_ws_fanout_fn fn, void *ud)
{
    for (size_t b = 0; b < ROOM_BUCKETS; b++)
        for (pl_ws_fanout_room *r = f->rooms[b]; r; r = r->next)
            each_member(r, fn, ud);
}
