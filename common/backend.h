/* The store behind the local rooms, one interface with two backends: the
 * memory backend (this process is the store: backend_memory.c) and the
 * Redis backend (the rooms are replicas of a log in Redis shared by several
 * servers: backend_redis.h). Readers keep reading the local pl_store
 * (pl_room_next/scan/wait); publishing and opening a room for a reader go
 * through here, and may finish later on the backend's own thread.
 * Any thread may call; see each callback for where it runs. */
#ifndef PL_BACKEND_H
#define PL_BACKEND_H
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include "message.h"
#include "store.h"

/* Returned by a call that will report through its callback later. */
#define PL_BACKEND_LATER 1

/* A publish's outcome: rc is 0 (m holds the stored message, or with dup
 * the one stored earlier under the same cid; borrowed for the call: ref it
 * to keep it), -ENOSPC (room limit), -ENOMEM, or a "store unavailable"
 * code (pl_backend_unavailable). Runs exactly once per publish. */
typedef void (*pl_publish_done)(void *ud, int rc, pl_msg *m, bool dup);

/* An open's outcome: rc as for a publish; `room` is the local room, NULL
 * when it exists nowhere and the open did not create it. */
typedef void (*pl_open_done)(void *ud, int rc, pl_room *room);

typedef struct pl_backend pl_backend;

/* What a backend reports of itself (/api/stats, /metrics). */
typedef struct pl_backend_info {
    bool shared;       /* several servers share it (redis) */
    bool connected;    /* it answers now (memory: always) */
    uint64_t connects; /* connections made to the shared store */
    uint64_t syncs;    /* times a room was read back from the shared log */
    uint64_t restarts; /* rooms begun again: the shared store lost them */
    uint64_t fetched;  /* messages read from the log, not heard on pub/sub */
} pl_backend_info;

typedef struct pl_backend_ops {
    /* See pl_backend_open. */
    int (*open)(pl_backend *b, const char *name, bool create, uint64_t since, pl_room **out,
                pl_open_done done, void *ud);
    /* See pl_backend_publish. */
    int (*publish)(pl_backend *b, const char *name, const pl_publish *in, pl_publish_done done,
                   void *ud);
    void (*stop)(pl_backend *b);
    void (*free)(pl_backend *b);
    void (*info)(pl_backend *b, pl_backend_info *out);
    /* See pl_backend_current. */
    bool (*current)(pl_backend *b, pl_room *room);
} pl_backend_ops;

struct pl_backend {
    const pl_backend_ops *ops;
    pl_store *store;  /* the local rooms; the caller's, outlives the backend */
    const char *name; /* "memory" or "redis" */
};

/* Makes room `name` (already validated) ready for a reader whose cursor
 * is `since`, creating it when `create`: ready means the local room holds
 * everything the store had when the reader's request arrived, so an
 * answer from it is not behind what another node already served. Returns
 * 0 with *out set (NULL: absent and not created), PL_BACKEND_LATER when
 * `done` will run instead (on the backend's thread), or a negative code
 * as pl_open_done's rc. */
static inline int pl_backend_open(pl_backend *b, const char *name, bool create, uint64_t since,
                                  pl_room **out, pl_open_done done, void *ud)
{
    return b->ops->open(b, name, create, since, out, done, ud);
}

/* Stores `in` in room `name` (already validated; created when absent).
 * `in` is copied before this returns. `done` runs exactly once: before
 * this returns (memory), or later on the backend's thread. Returns 0. */
static inline int pl_backend_publish(pl_backend *b, const char *name, const pl_publish *in,
                                     pl_publish_done done, void *ud)
{
    return b->ops->publish(b, name, in, done, ud);
}

/* Fails every call still waiting and every later one with -ECANCELED,
 * running their callbacks (before this returns): shutdown, before the
 * listeners stop. */
static inline void pl_backend_stop(pl_backend *b) { b->ops->stop(b); }

/* True when local room `room` holds everything the store has right now,
 * so a reader may take its end as "now" without a round trip (memory:
 * always; Redis: the replica is live). Any thread. */
static inline bool pl_backend_current(pl_backend *b, pl_room *room)
{
    return b->ops->current(b, room);
}

/* Fills *out; any thread. */
static inline void pl_backend_info_get(pl_backend *b, pl_backend_info *out)
{
    b->ops->info(b, out);
}

/* Stops (if not yet) and frees. NULL is a no-op. */
static inline void pl_backend_free(pl_backend *b)
{
    if (b)
        b->ops->free(b);
}

/* True for the codes that mean "the shared store did not answer" (503
 * store_unavailable): -ETIMEDOUT, -EIO, -ECONNREFUSED, -ECANCELED,
 * -EAGAIN. */
static inline bool pl_backend_unavailable(int rc)
{
    return rc == -ETIMEDOUT || rc == -EIO || rc == -ECONNREFUSED || rc == -ECANCELED ||
           rc == -EAGAIN;
}

/* The protocol's error for a store call that failed with `rc`: 503 with
 * code "store_unavailable" when the shared store did not answer, else 503
 * "unavailable" (the room limit, or memory). */
void pl_backend_err(pl_err *err, int rc);

/* The memory backend: `s` is the whole store. Every call finishes before
 * it returns. NULL without memory. */
pl_backend *pl_backend_memory_new(pl_store *s);

#endif
