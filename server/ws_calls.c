/* Backend calls of the WebSocket service thread and their answers; see
 * ws_calls.h. */
#include "ws_calls.h"
#include <stdlib.h>

struct pl_ws_calls {
    struct lws_context *ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pl_list answered; /* of pl_ws_call.qlink */
};

pl_ws_calls *pl_ws_calls_new(struct lws_context *ctx)
{
    pl_ws_calls *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->ctx = ctx;
    pthread_mutex_init(&cs->lock, NULL);
    pl_list_init(&cs->answered);
    return cs;
}

void pl_ws_calls_bind(pl_ws_calls *cs) { cs->thread = pthread_self(); }

static void call_free(pl_ws_call *c)
{
    pl_list_remove(&c->link);
    pl_msg_unref(c->m);
    free(c);
}

void pl_ws_calls_free(pl_ws_calls *cs)
{
    pl_list *n;
    if (!cs)
        return;
    while ((n = pl_list_first(&cs->answered))) {
        pl_list_remove(n);
        call_free(pl_list_entry(n, pl_ws_call, qlink));
    }
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

pl_ws_call *pl_ws_call_new(pl_ws_calls *cs, void *owner, pl_list *owner_calls, pl_ws_call_fn fn)
{
    pl_ws_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->calls = cs;
    c->owner = owner;
    c->fn = fn;
    pl_list_push(owner_calls, &c->link);
    return c;
}

void pl_ws_call_forget(pl_ws_call *c) { call_free(c); }

/* Hands the answer to the service thread: now when this is it. */
static void answered(pl_ws_call *c)
{
    pl_ws_calls *cs = c->calls;
    if (pthread_equal(pthread_self(), cs->thread)) {
        if (c->owner)
            c->fn(c->owner, c);
        call_free(c);
        return;
    }
    pthread_mutex_lock(&cs->lock);
    bool wake = pl_list_empty(&cs->answered);
    pl_list_push(&cs->answered, &c->qlink);
    pthread_mutex_unlock(&cs->lock);
    if (wake)
        lws_cancel_service(cs->ctx);
}

void pl_ws_call_published(void *ud, int rc, pl_msg *m, bool dup)
{
    pl_ws_call *c = ud;
    c->rc = rc;
    c->m = m ? pl_msg_ref(m) : NULL;
    c->dup = dup;
    answered(c);
}

void pl_ws_call_opened(void *ud, int rc, pl_room *room)
{
    pl_ws_call *c = ud;
    c->rc = rc;
    c->room = room;
    answered(c);
}

void pl_ws_calls_drain(pl_ws_calls *cs)
{
    pl_list todo, *n;
    pl_list_init(&todo);
    pthread_mutex_lock(&cs->lock);
    while ((n = pl_list_first(&cs->answered))) {
        pl_list_remove(n);
        pl_list_push(&todo, n);
    }
    pthread_mutex_unlock(&cs->lock);
    while ((n = pl_list_first(&todo))) {
        pl_list_remove(n);
        pl_ws_call *c = pl_list_entry(n, pl_ws_call, qlink);
        if (c->owner)
            c->fn(c->owner, c);
        call_free(c);
    }
}

void pl_ws_calls_orphan(pl_list *owner_calls)
{
    pl_list *n;
    while ((n = pl_list_first(owner_calls))) {
        pl_list_remove(n); /* the call stays until its answer comes */
        pl_list_entry(n, pl_ws_call, link)->owner = NULL;
    }
}
