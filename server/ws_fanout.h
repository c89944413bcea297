/* The WebSocket side's fan-out index: which rooms have subscribers (the
 * connections, as members) and which of those rooms got a message since
 * the service thread last looked (the dirty set). A publish only marks
 * its room; the service thread then wakes the members of marked rooms and
 * no one else. The index belongs to the service thread alone; the dirty
 * set is shared with publishing threads under its own lock. Rooms are
 * opaque keys and members opaque nodes: no libwebsockets here, so
 * tests/server/test_ws_fanout.c runs it alone. */
#ifndef PL_WS_FANOUT_H
#define PL_WS_FANOUT_H
#include <stdbool.h>
#include "list.h"

typedef struct pl_ws_fanout pl_ws_fanout;
typedef struct pl_ws_fanout_room pl_ws_fanout_room;

/* One subscriber, embedded in its connection. Zeroed: in no room. */
typedef struct pl_ws_fanout_member {
    pl_list link; /* in its room's members */
    pl_ws_fanout_room *room;
} pl_ws_fanout_member;

/* Called for a member; must not join or leave. */
typedef void (*pl_ws_fanout_fn)(pl_ws_fanout_member *m, void *ud);

/* An empty index. Returns 0 and *out, or -ENOMEM. */
int pl_ws_fanout_new(pl_ws_fanout **out);
/* Frees it; every member must have left. NULL: no-op. */
void pl_ws_fanout_free(pl_ws_fanout *f);

/* Puts `m` (in no room) in `room`. Service thread. Returns 0 or -ENOMEM. */
int pl_ws_fanout_join(pl_ws_fanout *f, pl_ws_fanout_member *m, const void *room);
/* Takes `m` out of its room (a no-op when in none); a room left empty is
 * forgotten. Service thread. */
void pl_ws_fanout_leave(pl_ws_fanout *f, pl_ws_fanout_member *m);

/* Marks `room` as having news. Any thread. Returns true when nothing was
 * marked before: the caller then wakes the service thread (otherwise a
 * wake-up is already on its way). */
bool pl_ws_fanout_mark(pl_ws_fanout *f, const void *room);
/* Takes the marks and calls fn for every member of the marked rooms.
 * Service thread. Returns false, visiting no one, when more rooms were
 * marked than the set holds: the caller then wakes every member its own
 * way (one call for all is cheaper than a walk). */
bool pl_ws_fanout_drain(pl_ws_fanout *f, pl_ws_fanout_fn fn, void *ud);
/* Calls fn for every member of every room. Service thread. */
void pl_ws_fanout_each(pl_ws_fanout *f, pl_ws_fanout_fn fn, void *ud);

#endif
