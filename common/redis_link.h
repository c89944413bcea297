/* The Redis backend's connection to Redis: two hiredis 0.14 async contexts
 * on one libev loop, `cmd` for commands and scripts and `sub` for
 * SUBSCRIBE alone (0.14 has no push replies, so pub/sub needs a context
 * of its own). The link has its own timers, which the 0.14 libev adapter
 * lacks: a connect timeout, and a command timeout on the oldest
 * unanswered command; either drops both contexts and reconnects with a
 * backoff. A script runs by EVALSHA (the sha from SCRIPT LOAD at connect)
 * and again by EVAL when Redis answers NOSCRIPT. Everything here runs on
 * the loop's thread. */
#ifndef PL_REDIS_LINK_H
#define PL_REDIS_LINK_H
#include <ev.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "redis_script.h"

typedef struct pl_rlink pl_rlink;

/* What the link tells its owner, on the loop's thread. */
typedef struct pl_rlink_ops {
    /* Both contexts connected, the database selected, the scripts loaded:
     * commands may be sent. */
    void (*up)(void *ud);
    /* The link was lost; every command's callback already ran (with a
     * NULL reply). It reconnects by itself. */
    void (*down)(void *ud);
    /* Redis confirmed a SUBSCRIBE to `channel`. */
    void (*subscribed)(void *ud, const char *channel, size_t len);
    /* A message on a subscribed channel. */
    void (*message)(void *ud, const char *channel, size_t clen, const char *payload, size_t plen);
} pl_rlink_ops;

typedef struct pl_rlink_config {
    const char *host; /* copied */
    int port, db;
    int timeout_ms; /* connect, and each command's answer */
} pl_rlink_config;

/* A command's answer: NULL when the link was lost or timed out first.
 * Runs exactly once per command sent. The reply is hiredis's, valid for
 * the call. */
typedef void (*pl_rlink_reply_fn)(void *pd, redisReply *reply);

/* A link that starts connecting at once. Returns 0 or -ENOMEM. */
int pl_rlink_new(struct ev_loop *loop, const pl_rlink_config *cfg, const pl_rlink_ops *ops,
                 void *ud, pl_rlink **out);
/* Drops both contexts (pending callbacks run with NULL; `down` does not)
 * and frees. NULL is a no-op. */
void pl_rlink_free(pl_rlink *l);

bool pl_rlink_is_up(const pl_rlink *l);
/* Connections made so far (a reconnect counts one). */
uint64_t pl_rlink_connects(const pl_rlink *l);

/* Sends `argv` on the command context. Returns 0 (fn will run) or
 * -ENOTCONN / -ENOMEM (fn will not run). */
int pl_rlink_command(pl_rlink *l, pl_rlink_reply_fn fn, void *pd, int argc, const char **argv,
                     const size_t *lens);

/* Runs script `which` with `nkeys` keys, then the arguments: argv holds
 * keys and arguments. Returns as pl_rlink_command. */
int pl_rlink_script(pl_rlink *l, enum pl_rscript which, int nkeys, pl_rlink_reply_fn fn, void *pd,
                    int argc, const char **argv, const size_t *lens);

/* Subscribes the sub context to `n` channels; each is confirmed through
 * ops->subscribed. Returns 0, -ENOTCONN or -ENOMEM. */
int pl_rlink_subscribe(pl_rlink *l, int n, const char **channels, const size_t *lens);

/* Drops the link now and reconnects (used when a reply makes no sense). */
void pl_rlink_fail(pl_rlink *l, const char *why);

#endif
