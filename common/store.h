/* The message store: rooms, each with contiguous ids from 1 and a bounded
 * ring of recent messages; cid de-duplication; waiters woken on publish.
 * Thread-safe: a store-wide lock guards the room table, a per-room lock
 * guards each history. Rooms live until pl_store_free(), so a pl_room
 * pointer stays valid for the store's lifetime. No I/O happens here. */
#ifndef PL_STORE_H
#define PL_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "list.h"
#include "message.h"

typedef struct pl_store pl_store;
typedef struct pl_room pl_room;

/* Someone waiting for the next message of one room (a suspended long poll
 * or SSE stream). Embedded in the waiter's own state; the store only links
 * it. Both callbacks run with the room's lock held, so they must be short
 * and must not call back into this room:
 * - `park` right after linking; returning false refuses to wait (the
 *   waiter is unlinked again), e.g. when the server is stopping;
 * - `wake` once, after the waiter was unlinked by a publish. */
typedef struct pl_waiter {
    pl_list node;  /* in the room's waiters while linked */
    pl_room *room; /* set while linked */
    bool (*park)(struct pl_waiter *w);
    void (*wake)(struct pl_waiter *w);
} pl_waiter;

/* What a scan saw of the room, read under the same lock as the messages. */
typedef struct pl_scan {
    uint64_t last_id;   /* newest id, 0 for an empty room */
    uint64_t oldest_id; /* oldest id still held, 0 for an empty room */
    bool gap;           /* messages after `since` were trimmed */
} pl_scan;

/* Called for each message of a scan, with the room locked. Returns false
 * to stop before this message (it is then not counted as visited). */
typedef bool (*pl_visit_fn)(void *ud, const pl_msg *m);

/* Called after every stored publish (and pl_store_append), outside any
 * store lock, from the publishing thread; with m == NULL after
 * pl_store_restart_room. */
typedef void (*pl_publish_hook)(void *ud, pl_room *room, const pl_msg *m);

/* A store keeping the last `history` messages of each of at most
 * `max_rooms` rooms. Returns NULL on allocation failure or a zero size. */
pl_store *pl_store_new(size_t history, size_t max_rooms);
/* Frees every room and message. No waiter may still be linked. */
void pl_store_free(pl_store *s);

/* Adds a hook called after each publish (at most 4). Set hooks before
 * other threads use the store. Returns 0 or -ENOSPC. */
int pl_store_add_hook(pl_store *s, pl_publish_hook fn, void *ud);

/* Finds room `name` (already validated). With `create`, makes it when
 * absent. Returns 0, -ENOENT (absent, no create), -ENOSPC (max_rooms
 * reached) or -ENOMEM. */
int pl_store_room(pl_store *s, const char *name, bool create, pl_room **out);
const char *pl_room_name(const pl_room *r);

/* Stores a message in `r` with the next id and the current time, wakes the
 * room's waiters, then runs the hooks. A `cid` already in the room's
 * history returns that message instead, with *dup set and nothing woken.
 * On success *out holds a new reference. Returns 0 or -ENOMEM. */
int pl_store_publish(pl_store *s, pl_room *r, const pl_publish *in, pl_msg **out, bool *dup);

/* Adds `m` (built elsewhere, e.g. by another node: its id is set) as the
 * room's next message, for a store that is a replica of a shared log. Its
 * id must be the next one; with `allow_gap` (the log holds nothing in
 * between any more) a larger id empties the room first, as trimming
 * would. Wakes waiters and runs hooks like a publish; takes its own
 * reference. Returns 0, -EALREADY (id already held or passed: nothing
 * done) or -ERANGE (a hole without allow_gap, even in an empty room:
 * nothing done). */
int pl_store_append(pl_store *s, pl_room *r, pl_msg *m, bool allow_gap);

/* The room's log began again (a shared store lost its data): drops every
 * message, ids restart at 1, the room's generation rises, waiters are
 * woken and hooks run with m == NULL, so readers treat it as a server
 * restart. */
void pl_store_restart_room(pl_store *s, pl_room *r);
/* How many times `r` was restarted; readers compare it with the one they
 * started under. Any thread. */
uint64_t pl_room_generation(const pl_room *r);

/* One pointer the store's backend keeps per room (NULL at first); atomic,
 * any thread. The store never looks at it. */
void *pl_room_ext(const pl_room *r);
void pl_room_set_ext(pl_room *r, void *ext);

/* Visits up to `limit` messages with id > since, oldest first, with the
 * room locked. Returns the number visited; fills *info if not NULL. */
size_t pl_room_scan(pl_room *r, uint64_t since, size_t limit, pl_visit_fn fn, void *ud,
                    pl_scan *info);

/* The room's newest id, 0 for an empty room. */
uint64_t pl_room_last_id(pl_room *r);

/* Links `w` to be woken by the next publish, but only if there is no
 * message after `since` yet: the check and the link happen under one lock,
 * so no publish slips between them. Returns true when `w` is now waiting,
 * false when a message is already there (or `park` refused): read again. */
bool pl_room_wait(pl_room *r, uint64_t since, pl_waiter *w);

/* A new reference to the first message with id > since, or NULL when there
 * is none yet. Sets *gap when messages after `since` were trimmed. */
pl_msg *pl_room_next(pl_room *r, uint64_t since, bool *gap);

/* Unlinks `w` from room `r` if it is still linked there. Returns true when
 * it was (so nobody else will wake it), false when it was not linked. */
bool pl_waiter_cancel(pl_room *r, pl_waiter *w);

/* Wakes every linked waiter of every room (used at shutdown). */
void pl_store_wake_all(pl_store *s);

size_t pl_store_room_count(pl_store *s);
uint64_t pl_store_published(pl_store *s);
/* Messages dropped from the oldest end of a full history, all rooms. */
uint64_t pl_store_trimmed(pl_store *s);
size_t pl_store_history(const pl_store *s);

#endif
