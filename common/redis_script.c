/* The Redis backend's Lua scripts and key names; see redis_script.h and
 * docs/scaling.md. Ideas from Centrifugo's Redis broker (an epoch and a
 * counter in a meta hash, the counter as the stream entry's id, XADD with
 * MAXLEN, the epoch in every pub/sub payload) and nchan's publish.lua
 * (Redis's TIME as the message time, one script per publish). */
#include "redis_script.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A room's epoch is made when its meta hash is missing (a new room, or a
 * Redis that lost its data): the log and cids of any earlier life go. A
 * cid is a duplicate while the message it names is still in the log; the
 * cids of entries the trim drops are deleted with them, so the cid hash
 * never holds more than the history. The message JSON is written here,
 * around the node's two pieces, so its id and ts come from this one
 * atomic step; ts is Redis's clock, the same for every node. */
static const char publish_lua[] =
    "local meta, log, cids = KEYS[1], KEYS[2], KEYS[3]\n"
    "local history, cid = tonumber(ARGV[1]), ARGV[6]\n"
    "local epoch = redis.call('HGET', meta, 'epoch')\n"
    "if not epoch then\n"
    "  epoch = ARGV[2]\n"
    "  redis.call('DEL', log, cids)\n"
    "  redis.call('HSET', meta, 'epoch', epoch, 'last', 0)\n"
    "end\n"
    "if cid ~= '' then\n"
    "  local old = redis.call('HGET', cids, cid)\n"
    "  if old then\n"
    "    local e = redis.call('XRANGE', log, old, old)\n"
    "    if #e == 1 then return {1, epoch, e[1][2][2]} end\n"
    "    redis.call('HDEL', cids, cid)\n"
    "  end\n"
    "end\n"
    "local id = string.format('%d', redis.call('HINCRBY', meta, 'last', 1))\n"
    "local t = redis.call('TIME')\n"
    "local json = '{\"id\":' .. id .. ',\"room\":\"' .. ARGV[3] .. '\",' .. ARGV[4] ..\n"
    "  ',\"ts\":' .. t[1] .. string.format('%06d', tonumber(t[2])) .. ARGV[5] .. '}'\n"
    "local n = redis.call('XLEN', log)\n"
    "if n >= history then\n"
    "  for _, e in ipairs(redis.call('XRANGE', log, '-', '+', 'COUNT', n - history + 1)) do\n"
    "    if e[2][4] then redis.call('HDEL', cids, e[2][4]) end\n"
    "  end\n"
    "end\n"
    "if cid ~= '' then\n"
    "  redis.call('XADD', log, 'MAXLEN', history, id, 'j', json, 'c', cid)\n"
    "  redis.call('HSET', cids, cid, id)\n"
    "else\n"
    "  redis.call('XADD', log, 'MAXLEN', history, id, 'j', json)\n"
    "end\n"
    "redis.call('PUBLISH', ARGV[7], epoch .. ' ' .. json)\n"
    "return {0, epoch, json}\n";

/* A node asks for what follows its newest id under the epoch it knows;
 * under another epoch it gets everything held. A log holding less than
 * the node already has (Redis came back from a file missing its last
 * writes) gets a new epoch, so every node and client starts again rather
 * than see one id name two messages. */
static const char sync_lua[] =
    "local meta, log, cids = KEYS[1], KEYS[2], KEYS[3]\n"
    "local after, known = tonumber(ARGV[1]), ARGV[2]\n"
    "local m = redis.call('HMGET', meta, 'epoch', 'last')\n"
    "local epoch, last = m[1], tonumber(m[2] or '0')\n"
    "if not epoch then\n"
    "  if ARGV[3] ~= '1' then return {'', 0, {}} end\n"
    "  epoch, last = ARGV[4], 0\n"
    "  redis.call('DEL', log, cids)\n"
    "  redis.call('HSET', meta, 'epoch', epoch, 'last', 0)\n"
    "elseif epoch == known and after > last then\n"
    "  epoch = ARGV[4]\n"
    "  redis.call('HSET', meta, 'epoch', epoch)\n"
    "end\n"
    "local from = '-'\n"
    "if epoch == known then from = string.format('%d', after + 1) end\n"
    "local out = {}\n"
    "for i, e in ipairs(redis.call('XRANGE', log, from, '+', 'COUNT', ARGV[5])) do\n"
    "  out[i] = e[2][2]\n"
    "end\n"
    "return {epoch, last, out}\n";

/* The store's epoch: gone after FLUSHALL or on an empty new Redis, which
 * every node notices within one canary period even in a quiet room. */
static const char canary_lua[] = "local e = redis.call('GET', KEYS[1])\n"
                                 "if not e then\n"
                                 "  e = ARGV[1]\n"
                                 "  redis.call('SET', KEYS[1], e)\n"
                                 "end\n"
                                 "return e\n";

const char *pl_rscript_source(enum pl_rscript which)
{
    switch (which) {
    case PL_RS_PUBLISH: return publish_lua;
    case PL_RS_SYNC: return sync_lua;
    case PL_RS_CANARY: return canary_lua;
    default: return NULL;
    }
}

void pl_rkeys_of(pl_rkeys *k, const char *prefix, const char *room)
{
    snprintf(k->meta, sizeof k->meta, "%s:{%s}:meta", prefix, room);
    snprintf(k->log, sizeof k->log, "%s:{%s}:log", prefix, room);
    snprintf(k->cids, sizeof k->cids, "%s:{%s}:cids", prefix, room);
    snprintf(k->channel, sizeof k->channel, "%s:{%s}:ch", prefix, room);
}

int pl_rkeys_room_of_channel(const char *prefix, const char *channel, size_t len, char *room)
{
    size_t p = strlen(prefix);
    /* PREFIX:{ROOM}:ch */
    if (len < p + 6 || memcmp(channel, prefix, p) != 0 || memcmp(channel + p, ":{", 2) != 0 ||
        memcmp(channel + len - 4, "}:ch", 4) != 0)
        return -EINVAL;
    size_t n = len - p - 6;
    if (n == 0 || n > PL_ROOM_MAX || !pl_valid_room(channel + p + 2, n))
        return -EINVAL;
    memcpy(room, channel + p + 2, n);
    room[n] = '\0';
    return 0;
}
