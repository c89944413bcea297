/* The page cache; see page_cache.h. A slot is chosen by the room alone, so
 * a room's pages replace each other: the one asked for last is kept, which
 * is the caught-up one while clients are caught up. The slot's lock is
 * held while its response is queued, so an eviction cannot free it first. */
#include "page_cache.h"
#include <pthread.h>
#include <stdlib.h>

#define SLOTS 64

typedef struct slot {
    pthread_mutex_t lock;
    pl_page_key key;
    struct MHD_Response *r; /* NULL: empty */
    pl_page_info info;
} slot;

struct pl_page_cache {
    slot slots[SLOTS];
};

pl_page_cache *pl_page_cache_new(void)
{
    pl_page_cache *c = calloc(1, sizeof *c);
    for (size_t i = 0; c && i < SLOTS; i++)
        pthread_mutex_init(&c->slots[i].lock, NULL);
    return c;
}

void pl_page_cache_free(pl_page_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < SLOTS; i++) {
        if (c->slots[i].r)
            MHD_destroy_response(c->slots[i].r);
        pthread_mutex_destroy(&c->slots[i].lock);
    }
    free(c);
}

static slot *slot_of(pl_page_cache *c, const pl_room *room)
{
    uintptr_t h = (uintptr_t)room;
    h ^= h >> 7; /* rooms are allocations: their low bits say little */
    return &c->slots[(h >> 4) % SLOTS];
}

static bool same(const pl_page_key *a, const pl_page_key *b)
{
    return a->room == b->room && a->since == b->since && a->limit == b->limit &&
           a->generation == b->generation && a->last_id == b->last_id;
}

int pl_page_cache_queue(pl_page_cache *c, const pl_page_key *k, struct MHD_Connection *conn,
                        pl_page_info *info)
{
    if (!c)
        return 0;
    slot *s = slot_of(c, k->room);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (s->r && same(&s->key, k)) {
        rc = MHD_queue_response(conn, MHD_HTTP_OK, s->r) == MHD_YES ? 1 : -1;
        *info = s->info;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

bool pl_page_cache_put(pl_page_cache *c, const pl_page_key *k, struct MHD_Response *r,
                       const pl_page_info *info)
{
    if (!c || info->count > PL_PAGE_CACHE_MSGS)
        return false;
    slot *s = slot_of(c, k->room);
    pthread_mutex_lock(&s->lock);
    struct MHD_Response *old = s->r;
    s->key = *k;
    s->r = r;
    s->info = *info;
    pthread_mutex_unlock(&s->lock);
    if (old)
        MHD_destroy_response(old); /* connections still sending it hold theirs */
    return true;
}
