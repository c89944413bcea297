/* The protocol a subscription speaks (pl_dialect, client.h): which table
 * of operations serves each transport in it, and the options each
 * accepts. Pure functions over client.h's types; the core (sub.c) asks,
 * nothing here calls back. Any thread. */
#ifndef PL_DIALECT_H
#define PL_DIALECT_H
#include "client.h"

struct pl_transport_ops;

/* The table serving transport `t` (not AUTO) in dialect `d`. */
const struct pl_transport_ops *pl_dialect_ops(pl_dialect d, pl_transport t);

/* True for a dialect other than pushlab's. */
static inline bool pl_dialect_foreign(pl_dialect d) { return d != PL_DIALECT_PUSHLAB; }

/* Checks the options a foreign dialect needs: a known dialect, a
 * transport it serves (no auto), and an endpoint with a host and the
 * scheme of the transport (ws/wss or http/https). Returns 0 or -EINVAL. */
int pl_dialect_check(const pl_sub_opts *o);

#endif
