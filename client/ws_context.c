/* The loop's one libwebsockets client context, on the loop's libev loop
 * ("foreign loop"); see ws_context.h. Hung on the loop as a part, so
 * pl_loop_free destroys it after every connection; uses proxy.c for the
 * proxy decision and nothing else of the client. */
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include "proxy_internal.h"
#include "ws_context.h"

/* The loop's one libwebsockets client context (l->ws), made by the first
 * WebSocket subscription with the loop's TLS options and freed with the
 * loop's contexts. */
struct pl_ws_context {
    pl_loop_part part;
    pl_loop *loop;
    struct lws_context *lws;
};

static void context_free(pl_loop_part *p)
{
    struct pl_ws_context *w = pl_list_entry(p, struct pl_ws_context, part);
    /* lws ends a context on a foreign loop from the loop's callbacks: run
     * it until lws says it is done (info.pcontext). One turn was not always
     * enough under load: the vhost's TLS state (its CA store) leaked. */
    lws_context_destroy(w->lws);
    for (int budget = 1000; w->lws && budget > 0; budget--)
        ev_run(w->loop->ev, EVRUN_NOWAIT);
    w->loop->ws = NULL;
    free(w);
}

struct lws_context *pl_ws_context_of(pl_loop *l, const struct lws_protocols *protocols,
                                     const char *host, bool tls)
{
    struct lws_context_creation_info info;
    void *foreign[1] = {l->ev};
    struct pl_ws_context *w = l->ws;
    if (w)
        return w->lws;
    if (!(w = calloc(1, sizeof *w)))
        return NULL;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = l->cacert;
    info.foreign_loops = foreign;
    info.pcontext = &w->lws;
    info.user = l;
    /* Never NULL: with NULL, lws would read $http_proxy itself and go
     * through it even for hosts $no_proxy names. "" means direct. */
    info.http_proxy_address = pl_proxy_for(host, tls);
    if (!(w->lws = lws_create_context(&info))) {
        free(w);
        return NULL;
    }
    w->loop = l;
    w->part.free = context_free;
    pl_loop_own(l, &w->part, PL_STAGE_CONTEXTS);
    l->ws = w;
    return w->lws;
}
