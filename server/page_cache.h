/* The last page answered for each room, kept as a ready MHD response and
 * queued again while the room has not changed: short polls of caught-up
 * clients, and long polls woken together by one publish, ask for the same
 * page, and then cost no page build, response or headers. A room's state is
 * named by (generation, last id): ids only rise within a generation, so
 * the same pair means the same messages, oldest id and gap. Fixed slots,
 * one entry each, pages of at most PL_PAGE_CACHE_MSGS messages: bounded.
 * Any thread (each slot has its lock); uses MHD's response refcount. */
#ifndef PL_PAGE_CACHE_H
#define PL_PAGE_CACHE_H
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store.h"

#define PL_PAGE_CACHE_MSGS 16

typedef struct pl_page_cache pl_page_cache;

/* Which page, of which state of its room. */
typedef struct pl_page_key {
    const pl_room *room;
    uint64_t since, generation, last_id;
    size_t limit;
} pl_page_key;

/* What a served page tells the counters: its messages' store times. */
typedef struct pl_page_info {
    size_t count;
    bool gap;
    int64_t stored_us[PL_PAGE_CACHE_MSGS];
} pl_page_info;

/* An empty cache; NULL without memory. */
pl_page_cache *pl_page_cache_new(void);
/* Frees it and its responses; after MHD stopped (no connection holds one). */
void pl_page_cache_free(pl_page_cache *c);

/* Queues the cached answer for `k` as `conn`'s 200 and fills *info.
 * Returns 1 when queued, 0 when nothing is cached for `k` (or `c` is
 * NULL), -1 when MHD refused to queue it. */
int pl_page_cache_queue(pl_page_cache *c, const pl_page_key *k, struct MHD_Connection *conn,
                        pl_page_info *info);
/* Keeps `r` (already queued, its creator's reference handed over) as the
 * answer for `k`, dropping what the slot held. Returns false, keeping
 * nothing, for a page too long to keep (the caller then destroys `r`). */
bool pl_page_cache_put(pl_page_cache *c, const pl_page_key *k, struct MHD_Response *r,
                       const pl_page_info *info);

#endif
