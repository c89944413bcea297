/* The libwebsockets link; see ws_lws.h. lws owns the connection's life:
 * this state is the wsi's user data and goes with WSI_DESTROY, so the
 * owner only detaches from it. */
#include "ws_lws.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acct.h"
#include "ws_context.h"

struct pl_ws_lws {
    const pl_ws_link_events *ev;
    void *ud; /* NULL once the owner detached or the end was told */
    pl_loop *loop;
    pl_sub_counters *ctr;
    struct lws *wsi;
    int fd;
    bool in_connect, destroyed;
    bool untrusted;       /* TLS verification failed: the handshake error says so */
    pl_ws_link_end early; /* an end lws told inside lws_client_connect_via_info */
    bool early_set;
};

/* Tells the owner the link is over, once. */
static void end(pl_ws_lws *k, const pl_ws_link_end *e)
{
    void *ud = k->ud;
    k->ud = NULL;
    if (k->in_connect) { /* pl_ws_lws_open returns it instead */
        k->early = *e;
        k->early_set = true;
        return;
    }
    if (ud)
        k->ev->ended(ud, e);
}

static void connection_error(pl_ws_lws *k, struct lws *wsi, const char *why, int os_errno)
{
    pl_ws_link_end e = {.why = why};
    unsigned status = k->fd >= 0 ? lws_http_client_http_response(wsi) : 0;
    if (k->untrusted)
        e.kind = PL_WS_LINK_UNTRUSTED;
    else if (status)
        e.kind = PL_WS_LINK_ANSWERED, e.status = status;
    else if (k->fd >= 0)
        e.kind = PL_WS_LINK_CUT;
    else
        e.kind = PL_WS_LINK_NO_CONNECTION, e.os_errno = os_errno;
    end(k, &e);
}

static void destroyed(pl_ws_lws *k, int os_errno)
{
    /* A connect() that failed at once (no port left, say) ends here
     * without CONNECTION_ERROR: a refusal, not a lost connection. */
    pl_ws_link_end e = {.kind = k->fd < 0 ? PL_WS_LINK_NO_CONNECTION : PL_WS_LINK_CLOSED,
                        .why = k->fd < 0 ? "Unable to connect" : NULL,
                        .os_errno = k->fd < 0 ? os_errno : 0};
    if (k->ud)
        end(k, &e);
    if (k->in_connect)
        k->destroyed = true;
    else
        free(k);
}

static void charge_socket(pl_ws_lws *k, struct lws *wsi)
{
    k->fd = lws_get_socket_fd(wsi);
    pl_acct_open(k->loop, k->fd, k->ctr);
    k->ctr->http_requests++;
}

static int link_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    /* The TLS reasons pass OpenSSL objects in `user`, not our link: lws
     * and OpenSSL keep their own verdict when we stay out of it. */
    int os_errno = errno; /* before anything here can change it */
    bool not_ours = reason == LWS_CALLBACK_PROTOCOL_INIT ||
                    reason == LWS_CALLBACK_PROTOCOL_DESTROY ||
                    reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION ||
                    reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS;
    pl_ws_lws *k = not_ours ? NULL : user;
    if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION && !len) {
        /* OpenSSL's verdict stands (return 0); remember it for the error. */
        pl_ws_lws *mine = lws_wsi_user(wsi);
        if (mine)
            mine->untrusted = true;
    }
    if (!k)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (reason == LWS_CALLBACK_WSI_DESTROY) {
        destroyed(k, os_errno);
        return 0;
    }
    bool closing =
        reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR || reason == LWS_CALLBACK_CLIENT_CLOSED;
    if (!k->ud) /* detached: close at the first chance */
        return closing ? 0 : -1;
    k->wsi = wsi;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: charge_socket(k, wsi); break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (k->fd < 0)
            charge_socket(k, wsi);
        k->ev->opened(k->ud, k->fd);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        k->ev->data(k->ud, in, len,
                    lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi));
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: k->ev->writable(k->ud); break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: connection_error(k, wsi, in, os_errno); break;
    case LWS_CALLBACK_CLIENT_CLOSED: {
        pl_ws_link_end e = {.kind = PL_WS_LINK_CLOSED};
        end(k, &e);
        break;
    }
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
    return k->ud || closing ? 0 : -1; /* stopped inside the event: close now */
}

static const struct lws_protocols protocols[] = {
    {"pushlab-client", link_callback, 0, 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* All zero: no lws validity timer on our connections (without it a client
 * connection gets lws's default, 300 s). lws 4.1 keeps every timer of the
 * context in one sorted list and re-inserts a connection's validity timer,
 * always the latest, on each frame it receives, walking the whole list.
 * The silence watchdog (sub.c) and the application ping do that job here.
 * (Opening 18,000 subscribers at once, 92 % of the bench's CPU was
 * lws_dll2_add_sorted; what made them open was the bench's open window,
 * not this: see docs/architecture.md.) */
static const lws_retry_bo_t no_validity_timers;

pl_ws_lws *pl_ws_lws_open(pl_loop *l, const pl_url_target *t, const char *source_addr,
                          pl_sub_counters *ctr, const pl_ws_link_events *ev, void *ud,
                          pl_ws_link_end *end_out)
{
    struct lws_client_connect_info ci;
    char hostport[300];
    pl_ws_lws *k = calloc(1, sizeof *k);
    *end_out = (pl_ws_link_end){.kind = PL_WS_LINK_NO_CONNECTION};
    memset(&ci, 0, sizeof ci);
    if (!k || !(ci.context = pl_ws_context_of(l, protocols, t->host, t->tls))) {
        free(k);
        end_out->os_errno = ENOMEM;
        return NULL;
    }
    *k = (pl_ws_lws){.ev = ev, .ud = ud, .loop = l, .ctr = ctr, .fd = -1};
    ci.address = t->host;
    ci.port = t->port;
    ci.path = t->path;
    snprintf(hostport, sizeof hostport, "%s:%d", t->host, t->port);
    ci.host = hostport; /* the Host header */
    ci.origin = NULL;   /* a non-browser client sends no Origin */
    ci.local_protocol_name = "pushlab-client";
    ci.userdata = k;
    ci.iface = source_addr;
    ci.retry_and_idle_policy = &no_validity_timers;
    ci.ssl_connection = t->tls ? LCCSCF_USE_SSL : 0;
    if (t->tls && l->insecure)
        ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                             LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    k->in_connect = true;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    k->in_connect = false;
    if (k->destroyed || !wsi || k->early_set) {
        if (k->early_set)
            *end_out = k->early;
        if (k->destroyed || !wsi) /* lws holds it no more */
            free(k);
        else
            k->ud = NULL; /* lws frees it with the wsi */
        return NULL;
    }
    if (!k->wsi)
        k->wsi = wsi;
    return k;
}

void pl_ws_lws_want_writable(pl_ws_lws *k) { lws_callback_on_writable(k->wsi); }

int pl_ws_lws_send_text(pl_ws_lws *k, unsigned char *p, size_t n)
{
    return lws_write(k->wsi, p, n, LWS_WRITE_TEXT) < (int)n ? -EIO : 0;
}

void pl_ws_lws_account(pl_ws_lws *k)
{
    if (k->fd >= 0)
        pl_acct_take(k->loop, k->fd, k->ctr);
}

void pl_ws_lws_stop(pl_ws_lws *k)
{
    if (k->fd >= 0) {
        pl_acct_take(k->loop, k->fd, k->ctr);
        /* lws closes this socket later; whoever gets its number next must
         * not be charged to this subscription. */
        pl_acct_disown(k->loop, k->fd, k->ctr);
    }
    bool was_attached = k->ud != NULL;
    k->ud = NULL;
    if (k->wsi && was_attached)
        lws_set_timeout(k->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}
