/* Byte accounting: which subscription each socket's bytes are charged
 * to, and how much of the kernel's count (common/wire.h) was charged
 * already. A per-loop table indexed by fd, made on first use and freed
 * last with the loop. Owns the table only; loop thread only. */
#ifndef PL_ACCT_H
#define PL_ACCT_H
#include "client.h"
#include "loop.h"

/* Charges the bytes the kernel counted on `fd` since the last call to the
 * socket's owner and makes `c` (when not NULL) its owner from now on. */
void pl_acct_take(pl_loop *l, int fd, pl_sub_counters *c);
/* A new socket: resets its counts, charges it to `c` and counts one TCP
 * connection for `c` (when not NULL). */
void pl_acct_open(pl_loop *l, int fd, pl_sub_counters *c);
/* Forgets `c` as the owner of `fd` (its subscription is going away). */
void pl_acct_disown(pl_loop *l, int fd, pl_sub_counters *c);
/* The socket is closing: its last bytes go to its owner, then it has none. */
void pl_acct_close(pl_loop *l, int fd);

#endif
