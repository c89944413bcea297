/* Store backend calls (backend.h) made from the WebSocket service thread,
 * whose answers must come back to that thread: the Redis backend answers
 * on its own, so its answer is queued and the service thread woken
 * (lws_cancel_service); the memory backend answers inside the call, on
 * the service thread, and is handled at once. A call outlives the
 * connection that made it: a connection that closes orphans its calls,
 * whose answers are then dropped. Owns the calls; the lock guards only
 * the queue of answers. */
#ifndef PL_WS_CALLS_H
#define PL_WS_CALLS_H
#include <libwebsockets.h>
#include <pthread.h>
#include <stdbool.h>
#include "list.h"
#include "message.h"
#include "store.h"

typedef struct pl_ws_calls pl_ws_calls;
typedef struct pl_ws_call pl_ws_call;

/* Runs on the service thread with the call's answer, unless its owner
 * closed first. `owner` is what pl_ws_call_new was given. */
typedef void (*pl_ws_call_fn)(void *owner, const pl_ws_call *call);

struct pl_ws_call {
    pl_list link;  /* on the owner's list of calls (service thread) */
    pl_list qlink; /* on the answer queue (lock) */
    pl_ws_calls *calls;
    void *owner; /* NULL once orphaned */
    pl_ws_call_fn fn;
    /* the answer */
    int rc;
    pl_msg *m; /* a publish's message, a reference */
    bool dup;
    pl_room *room; /* an open's room */
};

/* The calls of lws context `ctx`'s service thread. NULL without memory. */
pl_ws_calls *pl_ws_calls_new(struct lws_context *ctx);
/* Called by the service thread itself before it serves anything. */
void pl_ws_calls_bind(pl_ws_calls *cs);
/* Frees the queue and every call in it (none may be outstanding: stop
 * the backend first). */
void pl_ws_calls_free(pl_ws_calls *cs);

/* A call for `owner`, listed on `owner_calls` (an initialised list head
 * the owner keeps). NULL without memory. */
pl_ws_call *pl_ws_call_new(pl_ws_calls *cs, void *owner, pl_list *owner_calls, pl_ws_call_fn fn);

/* Frees a call the backend answered inside the call itself (it returned
 * something other than PL_BACKEND_LATER: no callback will come). */
void pl_ws_call_forget(pl_ws_call *c);

/* The backend callbacks; `ud` is the pl_ws_call. Any thread. */
void pl_ws_call_published(void *ud, int rc, pl_msg *m, bool dup);
void pl_ws_call_opened(void *ud, int rc, pl_room *room);

/* Runs the queued answers (service thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
void pl_ws_calls_drain(pl_ws_calls *cs);

/* The owner closes: its calls' answers will be dropped (service thread). */
void pl_ws_calls_orphan(pl_list *owner_calls);

#endif
