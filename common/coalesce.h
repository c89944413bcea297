/* Coalescing for a peer that has fallen behind: Nagle's algorithm while
 * bytes we sent it are unacknowledged, TCP_NODELAY again once it has caught
 * up. A peer that keeps up gets every write at once; one that does not
 * gets fewer, fuller segments (less CPU at both ends), sent as soon as it
 * acknowledges what it has. The caller keeps one pl_coalesce per socket
 * and uses it from one thread at a time; no other state. */
#ifndef PL_COALESCE_H
#define PL_COALESCE_H
#include <stdbool.h>

/* The socket is looked at once in this many writes: the look (an ioctl)
 * costs as much as a tenth of a small write, and a peer's pace changes
 * over many messages, not from one to the next. */
#define PL_COALESCE_EVERY 8

typedef struct pl_coalesce {
    bool on;         /* Nagle is on (TCP_NODELAY off) */
    unsigned writes; /* writes counted so far */
} pl_coalesce;

/* Call before each write of pushed data on `fd`, a TCP socket set to
 * TCP_NODELAY, with *c zeroed at first. On the first write and each
 * PL_COALESCE_EVERY-th after, reads the bytes not yet acknowledged
 * (SIOCOUTQ): some left means the peer has not read what it was sent (a
 * read acknowledges it), so writes may wait with them; none means it has
 * caught up. Turns Nagle on or off to match. Returns 1 if it turned
 * coalescing on, 0 if it changed nothing or turned it off, or a negative
 * errno (not a TCP socket, closed) with *c's state unchanged. */
int pl_coalesce_before_write(int fd, pl_coalesce *c);

/* Before a write the peer waits on (a reply to its own frame): turns
 * TCP_NODELAY back on if coalescing was, which sends what Nagle held.
 * Returns 0 or a negative errno. */
int pl_coalesce_push(int fd, pl_coalesce *c);

#endif
