/* The Redis backend's replicas: each local room (pl_store) is a replica
 * of its room's log in Redis, fed by the room's pub/sub channel in id
 * order, and filled from the log (the SYNC script) when it is new, when
 * an id jumps, when the link comes back and when an epoch changes. Opens
 * wait here until their room's replica has caught up. Everything runs on
 * the backend's thread except pl_rroom_current(). */
#ifndef PL_REDIS_ROOM_H
#define PL_REDIS_ROOM_H
#include <stdbool.h>
#include <stdint.h>
#include "list.h"
#include "redis_link.h"
#include "store.h"

#define PL_EPOCH_LEN 16 /* hex digits */

typedef struct pl_rrooms pl_rrooms;
typedef struct pl_rroom pl_rroom;
struct pl_rlookup;

/* An open waiting for a room to be current; embedded in the caller's
 * state. `ready` runs once, on the backend's thread, unless the waiter was
 * cancelled first; with rc 0 `room` holds the local room (NULL: the room
 * exists nowhere and was not to be created). */
typedef struct pl_rwaiter {
    pl_list link; /* on a replica's waiters while waiting for it */
    struct pl_rlookup *lookup;
    pl_room *room;
    uint64_t since;
    uint64_t need_seq; /* the first sync that serves it */
    void (*ready)(struct pl_rwaiter *w, int rc);
} pl_rwaiter;

/* The replicas of `s`'s rooms under `prefix` (borrowed), their logs
 * capped at `history`, read and fed through `link`. NULL without memory. */
pl_rrooms *pl_rrooms_new(pl_store *s, pl_rlink *link, const char *prefix, size_t history);
/* Cancels every waiter with -ECANCELED and frees the replicas (the link
 * must be gone already: its callbacks point here). */
void pl_rrooms_free(pl_rrooms *rs);

/* Opens room `name` for a reader at `since`: w->ready runs once the
 * local room holds everything Redis had when this was called (at once
 * when that is already so). `create`: make it when Redis has no such
 * room either. */
void pl_rrooms_open(pl_rrooms *rs, const char *name, bool create, uint64_t since, pl_rwaiter *w);
/* Stops `w` waiting; its ready will not run. */
void pl_rwaiter_cancel(pl_rwaiter *w);

/* The replica of local room `room`, made (and subscribed) on first use.
 * NULL without memory. */
pl_rroom *pl_rrooms_get(pl_rrooms *rs, pl_room *room);
/* A message of `rr`'s room under `epoch`, from a publish's answer. */
void pl_rroom_apply(pl_rroom *rr, const char *epoch, size_t elen, const char *json, size_t jlen);
/* The channel and keys of `rr`'s room. */
const pl_rkeys *pl_rroom_keys(const pl_rroom *rr);

/* True when local room `room` may answer a reader at `since` now: its
 * replica has been filled and holds `since`. Any thread. */
bool pl_rroom_current(pl_room *room, uint64_t since);

/* The link's events. */
void pl_rrooms_up(pl_rrooms *rs);
void pl_rrooms_down(pl_rrooms *rs);
void pl_rrooms_subscribed(pl_rrooms *rs, const char *channel, size_t len);
void pl_rrooms_message(pl_rrooms *rs, const char *channel, size_t clen, const char *payload,
                       size_t plen);
/* Every replica checks its log again (the store's epoch changed). */
void pl_rrooms_resync_all(pl_rrooms *rs);

/* Counters: syncs answered, rooms restarted (an epoch changed), messages
 * fetched from the log (not received on pub/sub). */
typedef struct pl_rrooms_counts {
    uint64_t syncs, restarts, fetched;
} pl_rrooms_counts;
void pl_rrooms_counts_get(const pl_rrooms *rs, pl_rrooms_counts *out);

/* A fresh random epoch: PL_EPOCH_LEN hex digits and a NUL. */
void pl_repoch_new(char out[PL_EPOCH_LEN + 1]);

#endif
