/* The Redis backend's Lua scripts (docs/scaling.md explains each) and the
 * key names they run on. Every key of a room carries the room in a hash
 * tag, PREFIX:{room}:..., so a Redis Cluster would keep a room's keys in
 * one slot and a script could run on them there. Constant data and pure
 * functions; any thread. */
#ifndef PL_REDIS_SCRIPT_H
#define PL_REDIS_SCRIPT_H
#include <stddef.h>
#include "validate.h"

enum pl_rscript {
    /* KEYS meta log cids; ARGV history new_epoch room head tail cid channel.
     * Returns {dup (0|1), epoch, json}. */
    PL_RS_PUBLISH,
    /* KEYS meta log cids; ARGV after known_epoch create new_epoch count.
     * Returns {epoch or "", last id, {json...}}: the room's epoch, newest
     * id and the messages after `after` (all it holds when known_epoch is
     * not the room's). */
    PL_RS_SYNC,
    /* KEYS epoch; ARGV new_epoch. Returns the store's epoch. */
    PL_RS_CANARY,
    PL_RS_COUNT
};

/* The source of script `which`. */
const char *pl_rscript_source(enum pl_rscript which);

/* One room's names: its three keys and its pub/sub channel. */
typedef struct pl_rkeys {
    char meta[PL_ROOM_MAX + 80], log[PL_ROOM_MAX + 80], cids[PL_ROOM_MAX + 80];
    char channel[PL_ROOM_MAX + 80];
} pl_rkeys;

/* Fills `k` for `room` under `prefix` (at most 64 bytes). */
void pl_rkeys_of(pl_rkeys *k, const char *prefix, const char *room);

/* The room named by a channel of pl_rkeys_of(prefix, ...) into `room`
 * (PL_ROOM_MAX + 1 bytes). Returns 0, or -EINVAL for another channel. */
int pl_rkeys_room_of_channel(const char *prefix, const char *channel, size_t len, char *room);

#endif
