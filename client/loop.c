/* The client's one event loop: libev on epoll drives the libcurl multi
 * handles (socket and timer callbacks), the libwebsockets client context
 * (lws's libev "foreign loop" support: this Debian lws build has no
 * external-poll callbacks) and the caller's timers and fds. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "client_internal.h"
#include "clock.h"
#include "wire.h"

extern const struct lws_protocols pl_ws_protocols[];

typedef struct pl_fdwatch {
    ev_io w;
    pl_loop *loop;
    pl_fd_fn fn;
    void *ud;
} pl_fdwatch;

/* One libcurl socket's watcher, stored with curl_multi_assign. */
typedef struct curl_sock {
    ev_io w;
    pl_shard *shard;
} curl_sock;

int pl_client_global_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0);
    lws_set_log_level(0, NULL);
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void pl_client_global_cleanup(void) { curl_global_cleanup(); }

void pl_err_fill(pl_client_err *err, int rc, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    err->rc = rc;
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------- byte accounting */

static pl_acct *acct_slot(pl_loop *l, int fd)
{
    if (fd < 0)
        return NULL;
    if ((size_t)fd >= l->acct_len) {
        size_t n = l->acct_len ? l->acct_len : 1024;
        while (n <= (size_t)fd)
            n *= 2;
        pl_acct *a = realloc(l->acct, n * sizeof *a);
        if (!a)
            return NULL;
        memset(a + l->acct_len, 0, (n - l->acct_len) * sizeof *a);
        l->acct = a;
        l->acct_len = n;
    }
    return &l->acct[fd];
}

void pl_acct_take(pl_loop *l, int fd, pl_sub_counters *c)
{
    pl_acct *a = acct_slot(l, fd);
    pl_wire w;
    if (!a)
        return;
    if (c)
        a->owner = c;
    if (pl_wire_read(fd, &w) != 0)
        return;
    if (a->owner) {
        a->owner->wire_rx += w.in - a->rx_seen;
        a->owner->wire_tx += w.out - a->tx_seen;
    }
    a->rx_seen = w.in;
    a->tx_seen = w.out;
}

void pl_acct_open(pl_loop *l, int fd, pl_sub_counters *c)
{
    pl_acct *a = acct_slot(l, fd);
    if (!a)
        return;
    a->owner = c;
    a->rx_seen = a->tx_seen = 0;
    if (c)
        c->tcp_connects++;
}

void pl_acct_disown(pl_loop *l, int fd, pl_sub_counters *c)
{
    if (fd >= 0 && (size_t)fd < l->acct_len && l->acct[fd].owner == c)
        l->acct[fd].owner = NULL;
}

/* -------------------------------------------------------- libcurl glue */

static void curl_check_done(pl_shard *sh)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(sh->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        pl_http *h = NULL;
        long status = 0;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&h);
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        bool cancelled = h->cancel;
        h->cancel = false;
        pl_http_abort(h);
        h->status = status;
        if (!cancelled)
            h->done(h, rc, status);
    }
}

static void curl_io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
    pl_shard *sh = ((curl_sock *)w)->shard; /* the action may free the watcher */
    int running, flags = 0;
    (void)ev;
    if (revents & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (revents & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    sh->loop->in_curl++;
    curl_multi_socket_action(sh->multi, w->fd, flags, &running);
    sh->loop->in_curl--;
    curl_check_done(sh);
}

static void curl_timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
    pl_shard *sh = w->data;
    int running;
    (void)ev;
    (void)revents;
    sh->loop->in_curl++;
    curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    sh->loop->in_curl--;
    curl_check_done(sh);
}

static int curl_sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
    pl_shard *sh = userp;
    pl_loop *l = sh->loop;
    curl_sock *cs = sockp;
    pl_http *h = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&h);
    if (what == CURL_POLL_REMOVE) {
        if (cs) {
            ev_io_stop(l->ev, &cs->w);
            free(cs);
            curl_multi_assign(sh->multi, fd, NULL);
        }
        return 0;
    }
    if (h && h->fd != fd) {
        if (h->fd >= 0)
            pl_acct_take(l, h->fd, h->ctr);
        h->fd = fd;
        pl_acct_take(l, fd, h->ctr); /* reused socket: charge from now on */
    }
    if (!cs) {
        if (!(cs = calloc(1, sizeof *cs)))
            return -1;
        cs->shard = sh;
        curl_multi_assign(sh->multi, fd, cs);
    } else {
        ev_io_stop(l->ev, &cs->w);
    }
    int ev = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    ev_io_init(&cs->w, curl_io_cb, fd, ev);
    ev_io_start(l->ev, &cs->w);
    return 0;
}

static int curl_timerfn(CURLM *multi, long timeout_ms, void *userp)
{
    pl_shard *sh = userp;
    (void)multi;
    ev_timer_stop(sh->loop->ev, &sh->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&sh->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(sh->loop->ev, &sh->timer);
    }
    return 0;
}

static pl_shard *shard_new(pl_loop *l)
{
    pl_shard *sh = calloc(1, sizeof *sh);
    if (!sh || !(sh->multi = curl_multi_init())) {
        free(sh);
        return NULL;
    }
    sh->loop = l;
    ev_timer_init(&sh->timer, curl_timer_cb, 0., 0.);
    sh->timer.data = sh;
    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
    curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, curl_timerfn);
    curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
    /* Idle keep-alive connections are cheap; every poller keeps one, so
     * do not let the cache close and reopen them. */
    curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, (long)PL_SHARD_MAX * 2);
    return sh;
}

/* A shard with room for one more request, made when all are full; with
 * `alone`, a new one counted full, so no other request joins it. */
static pl_shard *shard_take(pl_loop *l, bool alone)
{
    for (int i = l->n_shards - 1; i >= 0 && !alone; i--)
        if (l->shards[i]->handles < PL_SHARD_MAX)
            return l->shards[i]->handles++, l->shards[i];
    pl_shard **a = realloc(l->shards, (size_t)(l->n_shards + 1) * sizeof *a);
    if (!a)
        return NULL;
    l->shards = a;
    if (!(a[l->n_shards] = shard_new(l)))
        return NULL;
    a[l->n_shards]->handles = alone ? PL_SHARD_MAX : 1;
    return a[l->n_shards++];
}

static curl_socket_t open_sock(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    pl_http *h = clientp;
    (void)purpose;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0) {
        h->sock_errno = errno; /* libcurl only says "Couldn't connect" */
        return CURL_SOCKET_BAD;
    }
    pl_acct_open(h->loop, fd, h->ctr);
    return fd;
}

static int close_sock(void *clientp, curl_socket_t fd)
{
    pl_loop *l = clientp;
    pl_acct_take(l, fd, NULL); /* its last bytes go to its last user */
    if ((size_t)fd < l->acct_len)
        l->acct[fd].owner = NULL;
    return close(fd);
}

/* ------------------------------------------------------ HTTP requests */

/* libcurl calls this once the transfer has a connection, before sending:
 * a failure after it is a lost connection, not a refused one. */
static int on_connected(void *ud, char *remote_ip, char *local_ip, int remote_port, int local_port)
{
    (void)remote_ip, (void)local_ip, (void)remote_port, (void)local_port;
    pl_http *h = ud;
    h->connected = true;
    if (h->ctr) /* a request is made once it has a connection to go on */
        h->ctr->http_requests++;
    return CURL_PREREQFUNC_OK;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    pl_http *h = ud;
    size_t len = size * n;
    if (h->cancel)
        return 0;
    if (h->data && !h->data(h, p, len))
        return 0;
    if (!h->data && pl_http_collect(h, p, len) != 0)
        return 0;
    return h->cancel ? 0 : len;
}

int pl_http_collect(pl_http *h, const char *p, size_t len)
{
    return pl_buf_append(&h->body, p, len);
}

int pl_http_init(pl_http *h, pl_loop *l, pl_sub_counters *ctr, const char *source_addr)
{
    return pl_http_init_on(h, l, ctr, source_addr, false);
}

int pl_http_init_on(pl_http *h, pl_loop *l, pl_sub_counters *ctr, const char *source_addr,
                    bool alone)
{
    memset(h, 0, sizeof *h);
    pl_buf_init(&h->body, 1024, PL_HTTP_BODY_MAX);
    h->loop = l;
    h->ctr = ctr;
    h->fd = -1;
    if (!(h->shard = shard_take(l, alone)))
        return -ENOMEM;
    if (!(h->easy = curl_easy_init())) {
        h->shard->handles--;
        h->shard = NULL;
        return -ENOMEM;
    }
    CURL *e = h->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_sock);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, h);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_sock);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, l);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_connected);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, h);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    if (l->cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, l->cacert);
    if (l->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (source_addr) {
        char iface[128];
        snprintf(iface, sizeof iface, "host!%s", source_addr);
        curl_easy_setopt(e, CURLOPT_INTERFACE, iface);
    }
    return 0;
}

int pl_http_start(pl_http *h)
{
    pl_loop *l = h->loop;
    pl_http_abort(h);
    h->cancel = false;
    h->connected = false;
    h->sock_errno = 0;
    pl_buf_clear(&h->body);
    h->status = 0;
    h->errbuf[0] = '\0';
    if (curl_multi_add_handle(h->shard->multi, h->easy) != CURLM_OK)
        return -ENOMEM;
    h->running = true;
    pl_list_push_front(&l->reqs, &h->link);
    return 0;
}

void pl_http_abort(pl_http *h)
{
    if (!h->running)
        return;
    pl_loop *l = h->loop;
    if (l->in_curl) { /* libcurl forbids removing a handle from its callbacks */
        h->cancel = true;
        return;
    }
    if (h->fd >= 0)
        pl_acct_take(l, h->fd, h->ctr);
    curl_multi_remove_handle(h->shard->multi, h->easy);
    h->running = false;
    pl_list_remove(&h->link);
}

void pl_http_cleanup(pl_http *h)
{
    pl_http_abort(h);
    if (h->fd >= 0)
        pl_acct_disown(h->loop, h->fd, h->ctr);
    if (h->easy)
        curl_easy_cleanup(h->easy);
    curl_slist_free_all(h->headers);
    pl_buf_free(&h->body);
    if (h->shard)
        h->shard->handles--;
    h->shard = NULL;
    h->easy = NULL;
    h->headers = NULL;
}

void pl_http_error(const pl_http *h, CURLcode rc, long status, pl_client_err *err)
{
    if (rc != CURLE_OK) {
        int code = rc == CURLE_COULDNT_CONNECT        ? -ECONNREFUSED
                   : rc == CURLE_OPERATION_TIMEDOUT   ? -ETIMEDOUT
                   : rc == CURLE_URL_MALFORMAT        ? -EINVAL
                   : rc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH
                                                      : -EIO;
        long os = 0;
        const char *text = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
        /* "Couldn't connect to server" hides why; the socket's errno says
         * (an address out of ports gives EADDRNOTAVAIL, no fd left EMFILE). */
        if ((rc == CURLE_COULDNT_CONNECT || rc == CURLE_INTERFACE_FAILED) &&
            ((curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &os) == CURLE_OK && os > 0) ||
             (os = h->sock_errno) > 0))
            code = -(int)os;
        const char *why = os > 0 && !strstr(text, strerror((int)os)) ? strerror((int)os) : NULL;
        pl_err_fill(err, code, 0, "transport", "%s%s%s%s", text, why ? " (" : "", why ? why : "",
                    why ? ")" : "");
        return;
    }
    json_t *root = json_loadb(pl_http_body(h), h->body.len, 0, NULL);
    json_t *e = json_object_get(json_object_get(root, "error"), "code");
    json_t *m = json_object_get(json_object_get(root, "error"), "message");
    if (json_is_string(e))
        pl_err_fill(err, -EPROTO, (int)status, json_string_value(e), "%s",
                    json_is_string(m) ? json_string_value(m) : "");
    else
        pl_err_fill(err, -EPROTO, (int)status, "http", "unexpected HTTP status %ld", status);
    json_decref(root);
}

/* -------------------------------------------------------------- timers */

static void timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
    pl_timer *t = (pl_timer *)w;
    (void)ev;
    (void)revents;
    t->fn(t, t->ud);
}

pl_timer *pl_timer_new(pl_loop *l, pl_timer_fn fn, void *ud)
{
    pl_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    ev_timer_init(&t->w, timer_cb, 0., 0.);
    t->loop = l;
    t->fn = fn;
    t->ud = ud;
    return t;
}

void pl_timer_start(pl_timer *t, int64_t delay_us)
{
    ev_timer_stop(t->loop->ev, &t->w);
    ev_timer_set(&t->w, delay_us > 0 ? (double)delay_us / 1e6 : 0., 0.);
    ev_timer_start(t->loop->ev, &t->w);
}

void pl_timer_stop(pl_timer *t) { ev_timer_stop(t->loop->ev, &t->w); }

bool pl_timer_active(const pl_timer *t) { return ev_is_active(&t->w); }

void pl_timer_free(pl_timer *t)
{
    if (!t)
        return;
    pl_timer_stop(t);
    free(t);
}

/* ----------------------------------------------------------- fd watches */

static void fdwatch_cb(struct ev_loop *ev, ev_io *w, int revents)
{
    pl_fdwatch *fw = (pl_fdwatch *)w;
    int e = (revents & EV_READ ? PL_FD_READ : 0) | (revents & EV_WRITE ? PL_FD_WRITE : 0) |
            (revents & EV_ERROR ? PL_FD_ERROR : 0);
    (void)ev;
    fw->fn(fw->loop, w->fd, e, fw->ud);
}

int pl_loop_watch_fd(pl_loop *l, int fd, int events, pl_fd_fn fn, void *ud)
{
    if (fd < 0)
        return -EBADF;
    if ((size_t)fd >= l->watches_len) {
        size_t n = (size_t)fd + 16;
        pl_fdwatch **w = realloc(l->watches, n * sizeof *w);
        if (!w)
            return -ENOMEM;
        memset(w + l->watches_len, 0, (n - l->watches_len) * sizeof *w);
        l->watches = w;
        l->watches_len = n;
    }
    if (l->watches[fd])
        return -EEXIST;
    pl_fdwatch *fw = calloc(1, sizeof *fw);
    if (!fw)
        return -ENOMEM;
    fw->loop = l;
    fw->fn = fn;
    fw->ud = ud;
    ev_io_init(&fw->w, fdwatch_cb, fd,
               (events & PL_FD_READ ? EV_READ : 0) | (events & PL_FD_WRITE ? EV_WRITE : 0));
    ev_io_start(l->ev, &fw->w);
    l->watches[fd] = fw;
    return 0;
}

void pl_loop_unwatch_fd(pl_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->watches_len || !l->watches[fd])
        return;
    ev_io_stop(l->ev, &l->watches[fd]->w);
    free(l->watches[fd]);
    l->watches[fd] = NULL;
}

/* ---------------------------------------------------------------- loop */

struct lws_context *pl_loop_lws(pl_loop *l, const char *host, bool tls)
{
    struct lws_context_creation_info info;
    void *foreign[1] = {l->ev};
    if (l->lws)
        return l->lws;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = pl_ws_protocols;
    info.options = LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = l->cacert;
    info.foreign_loops = foreign;
    info.user = l;
    /* Never NULL: with NULL, lws would read $http_proxy itself and go
     * through it even for hosts $no_proxy names. "" means direct. */
    info.http_proxy_address = pl_proxy_for(host, tls);
    l->lws = lws_create_context(&info);
    return l->lws;
}

int pl_loop_set_tls(pl_loop *l, const pl_tls_opts *t)
{
    if (l->lws)
        return -EBUSY;
    char *ca = t->cacert ? strdup(t->cacert) : NULL;
    if (t->cacert && !ca)
        return -ENOMEM;
    free(l->cacert);
    l->cacert = ca;
    l->insecure = t->insecure;
    return 0;
}

static void wake_cb(struct ev_loop *ev, ev_check *w, int revents)
{
    (void)ev, (void)revents;
    ((pl_loop *)w->data)->wake_us = pl_clock_mono_us();
}

int64_t pl_loop_wake_us(const pl_loop *l) { return l->wake_us ? l->wake_us : pl_clock_mono_us(); }

static void after_cb(struct ev_loop *ev, ev_prepare *w, int revents)
{
    pl_loop *l = w->data;
    (void)ev, (void)revents;
    if (l->after_fn)
        l->after_fn(l, l->after_ud);
}

void pl_loop_after_wake(pl_loop *l, pl_loop_hook_fn fn, void *ud)
{
    l->after_fn = fn;
    l->after_ud = ud;
}

int pl_loop_new(pl_loop **out)
{
    pl_loop *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    if (!(l->ev = ev_loop_new(EVBACKEND_EPOLL)))
        goto fail;
    /* Highest priority: libev runs it before any I/O callback of the same
     * wake-up. Unref'd, so it alone never keeps the loop running. */
    ev_check_init(&l->wake_watch, wake_cb);
    l->wake_watch.data = l;
    pl_list_init(&l->subs);
    pl_list_init(&l->reqs);
    ev_set_priority(&l->wake_watch, EV_MAXPRI);
    ev_check_start(l->ev, &l->wake_watch);
    ev_unref(l->ev);
    /* Lowest priority: after everything else of the wake-up. Unref'd too. */
    ev_prepare_init(&l->after_watch, after_cb);
    l->after_watch.data = l;
    ev_set_priority(&l->after_watch, EV_MINPRI);
    ev_prepare_start(l->ev, &l->after_watch);
    ev_unref(l->ev);
    *out = l;
    return 0;
fail:
    if (l->ev)
        ev_loop_destroy(l->ev);
    free(l);
    return -ENOMEM;
}

void pl_loop_free(pl_loop *l)
{
    if (!l)
        return;
    l->tearing_down = true;
    /* The counters die with their subscriptions; sockets libcurl closes
     * during cleanup below must not charge them. */
    for (size_t i = 0; i < l->acct_len; i++)
        l->acct[i].owner = NULL;
    pl_sub_free_all(l);
    pl_list *n;
    while ((n = pl_list_first(&l->reqs))) {
        pl_http *h = pl_list_entry(n, pl_http, link);
        pl_http_abort(h);
        h->done(h, CURLE_ABORTED_BY_CALLBACK, -1); /* -1: loop teardown, free only */
    }
    if (l->lws)
        lws_context_destroy(l->lws);
    ev_run(l->ev, EVRUN_NOWAIT);
    for (int i = 0; i < l->n_shards; i++) {
        ev_timer_stop(l->ev, &l->shards[i]->timer);
        curl_multi_cleanup(l->shards[i]->multi);
        free(l->shards[i]);
    }
    free(l->shards);
    ev_ref(l->ev);
    ev_check_stop(l->ev, &l->wake_watch);
    ev_ref(l->ev);
    ev_prepare_stop(l->ev, &l->after_watch);
    for (size_t i = 0; i < l->watches_len; i++)
        pl_loop_unwatch_fd(l, (int)i);
    free(l->watches);
    free(l->acct);
    free(l->cacert);
    ev_loop_destroy(l->ev);
    free(l);
}

static void run_timeout_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(ev, EVBREAK_ALL);
}

int pl_loop_run(pl_loop *l, int timeout_ms)
{
    ev_timer limit;
    l->stopped = false;
    ev_timer_init(&limit, run_timeout_cb, timeout_ms > 0 ? timeout_ms / 1000.0 : 0., 0.);
    if (timeout_ms >= 0)
        ev_timer_start(l->ev, &limit);
    ev_run(l->ev, 0);
    ev_timer_stop(l->ev, &limit);
    return l->stopped ? 1 : 0;
}

void pl_loop_stop(pl_loop *l)
{
    l->stopped = true;
    ev_break(l->ev, EVBREAK_ALL);
}
