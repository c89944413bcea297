/* The loop's one libwebsockets client context, on the loop's libev loop
 * ("foreign loop"); see ws_context.h. Hung on the loop as a part, so
 * pl_loop_free destroys it after every connection; uses proxy.c for the
 * proxy decision and nothing else of the client. */
#include <errno.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
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
    SSL_CTX *tls; /* the vhost's client TLS: ours, so lws never frees it */
};

/* lws 4.1.6 takes new OpenSSL ex-data indexes, process globals, in every
 * context made with DO_SSL_GLOBAL_INIT. One made on another loop's thread
 * moved them under this loop's live connections: a handshake's verify
 * callback then found no wsi, and the client SSL_CTX lws had tagged under
 * the old index was never freed (ASan, two bench threads). So the first
 * context of the process does that init, under this lock, and no other;
 * every vhost gets the TLS option and an SSL_CTX of ours instead. */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;
static bool library_done;

/* lws ends a context on a foreign loop from the loop's callbacks: run it
 * until lws says it is done (info.pcontext clears w->lws). One turn was not
 * always enough under load. */
static void destroy_lws(struct pl_ws_context *w)
{
    lws_context_destroy(w->lws);
    for (int budget = 1000; w->lws && budget > 0; budget--)
        ev_run(w->loop->ev, EVRUN_NOWAIT);
}

static void context_free(pl_loop_part *p)
{
    struct pl_ws_context *w = pl_list_entry(p, struct pl_ws_context, part);
    destroy_lws(w);
    SSL_CTX_free(w->tls); /* after its connections, which hold it */
    w->loop->ws = NULL;
    free(w);
}

/* What lws would set up for a client vhost, with `cacert` (or NULL: the
 * system's CAs) as the trust store. A file that does not load leaves the
 * store empty, so handshakes fail on the certificate, which is the error
 * to report, rather than here. */
static SSL_CTX *client_tls_new(const char *cacert)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (cacert)
        SSL_CTX_load_verify_locations(ctx, cacert, NULL);
    else
        SSL_CTX_set_default_verify_paths(ctx);
    ERR_clear_error();
    return ctx;
}

/* The context and its one vhost, made apart so that only the context's
 * options carry the once-per-process library init. */
static int create(struct pl_ws_context *w, const struct lws_protocols *protocols, const char *host,
                  bool tls)
{
    struct lws_context_creation_info info;
    void *foreign[1] = {w->loop->ev};
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.options = LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = foreign;
    info.pcontext = &w->lws;
    info.user = w->loop;
    pthread_mutex_lock(&create_lock);
    if (!library_done)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    w->lws = lws_create_context(&info);
    library_done = library_done || w->lws;
    pthread_mutex_unlock(&create_lock);
    if (!w->lws)
        return -ENOMEM;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* the vhost's client TLS */
    info.protocols = protocols;
    info.provided_client_ssl_ctx = w->tls;
    /* Never NULL: with NULL, lws would read $http_proxy itself and go
     * through it even for hosts $no_proxy names. "" means direct. */
    info.http_proxy_address = pl_proxy_for(host, tls);
    if (!lws_create_vhost(w->lws, &info)) {
        destroy_lws(w);
        return -ENOMEM;
    }
    return 0;
}

struct lws_context *pl_ws_context_of(pl_loop *l, const struct lws_protocols *protocols,
                                     const char *host, bool tls)
{
    struct pl_ws_context *w = l->ws;
    if (w)
        return w->lws;
    if (!(w = calloc(1, sizeof *w)))
        return NULL;
    w->loop = l;
    if (!(w->tls = client_tls_new(l->cacert)) || create(w, protocols, host, tls) < 0) {
        SSL_CTX_free(w->tls);
        free(w);
        return NULL;
    }
    w->part.free = context_free;
    pl_loop_own(l, &w->part, PL_STAGE_CONTEXTS);
    l->ws = w;
    return w->lws;
}
