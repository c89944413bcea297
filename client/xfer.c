/* HTTP transfers on the loop; see xfer.h. libev drives libcurl's multi
 * interface (socket and timer callbacks). The loop's requests are spread
 * over multi handles of PL_SHARD_MAX each: libcurl 7.88 looks for a
 * connection to reuse by walking every connection it holds to the same
 * host:port, so one multi with thousands of pollers made each request
 * scan thousands (docs/architecture.md, "Figures behind the code"); a
 * shard keeps that walk short. Touches acct.c (each socket's bytes) and
 * proto.c (errors). */
#include "xfer.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "acct.h"
#include "proto.h"

#define PL_SHARD_MAX 64

/* A libcurl multi handle serving at most PL_SHARD_MAX transfers. */
typedef struct pl_shard {
    pl_loop *loop;
    CURLM *multi;
    ev_timer timer;
    int handles; /* transfers set up on it */
} shard;

/* The loop's shards (l->xfer), freed with the loop's pools. */
struct pl_xfer_pool {
    pl_loop_part part;
    pl_loop *loop;
    shard **shards;
    int n_shards;
    int in_curl;       /* inside curl_multi_socket_action: no handle removal */
    pl_xfer *deferred; /* taken-over transfers to remove once it returns */
};

/* One libcurl socket's watcher, stored with curl_multi_assign. */
typedef struct curl_sock {
    ev_io w;
    shard *shard;
} curl_sock;

/* Removes what pl_xfer_abort could not while libcurl ran a callback. */
static void remove_deferred(struct pl_xfer_pool *p)
{
    pl_xfer *h;
    while (!p->in_curl && (h = p->deferred)) {
        p->deferred = h->deferred_next;
        h->deferred_next = NULL;
        pl_xfer_abort(h);
    }
}

static void curl_check_done(shard *sh)
{
    CURLMsg *m;
    int left;
    remove_deferred(sh->loop->xfer);
    while ((m = curl_multi_info_read(sh->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        pl_xfer *h = NULL;
        long status = 0;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&h);
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        bool cancelled = h->cancel;
        h->cancel = false;
        if (h->connect_only && rc == CURLE_OK && !cancelled) {
            h->taken = true; /* stays on the multi: removing it would close it */
            h->takeover->connected(h);
            continue;
        }
        pl_xfer_abort(h);
        h->status = status;
        if (!cancelled)
            h->done(h, rc, status);
    }
}

static void curl_io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
    shard *sh = ((curl_sock *)w)->shard; /* the action may free the watcher */
    int running, flags = 0;
    (void)ev;
    if (revents & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (revents & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    sh->loop->xfer->in_curl++;
    curl_multi_socket_action(sh->multi, w->fd, flags, &running);
    sh->loop->xfer->in_curl--;
    curl_check_done(sh);
}

static void curl_timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
    shard *sh = w->data;
    int running;
    (void)ev;
    (void)revents;
    sh->loop->xfer->in_curl++;
    curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    sh->loop->xfer->in_curl--;
    curl_check_done(sh);
}

static int curl_sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
    shard *sh = userp;
    pl_loop *l = sh->loop;
    curl_sock *cs = sockp;
    pl_xfer *h = NULL;
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
    shard *sh = userp;
    (void)multi;
    ev_timer_stop(sh->loop->ev, &sh->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&sh->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(sh->loop->ev, &sh->timer);
    }
    return 0;
}

static shard *shard_new(pl_loop *l)
{
    shard *sh = calloc(1, sizeof *sh);
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

static void pool_free(pl_loop_part *part)
{
    struct pl_xfer_pool *p = pl_list_entry(part, struct pl_xfer_pool, part);
    for (int i = 0; i < p->n_shards; i++) {
        ev_timer_stop(p->loop->ev, &p->shards[i]->timer);
        curl_multi_cleanup(p->shards[i]->multi);
        free(p->shards[i]);
    }
    free(p->shards);
    p->loop->xfer = NULL;
    free(p);
}

/* The loop's pool, made on first use and freed with the loop. */
static struct pl_xfer_pool *pool_of(pl_loop *l)
{
    if (!l->xfer && (l->xfer = calloc(1, sizeof *l->xfer))) {
        l->xfer->loop = l;
        l->xfer->part.free = pool_free;
        pl_loop_own(l, &l->xfer->part, PL_STAGE_POOLS);
    }
    return l->xfer;
}

/* A shard with room for one more request, made when all are full; with
 * `alone`, a new one counted full, so no other request joins it. */
static shard *shard_take(pl_loop *l, bool alone)
{
    struct pl_xfer_pool *p = pool_of(l);
    if (!p)
        return NULL;
    for (int i = p->n_shards - 1; i >= 0 && !alone; i--)
        if (p->shards[i]->handles < PL_SHARD_MAX)
            return p->shards[i]->handles++, p->shards[i];
    shard **a = realloc(p->shards, (size_t)(p->n_shards + 1) * sizeof *a);
    if (!a)
        return NULL;
    p->shards = a;
    if (!(a[p->n_shards] = shard_new(l)))
        return NULL;
    a[p->n_shards]->handles = alone ? PL_SHARD_MAX : 1;
    return a[p->n_shards++];
}

static curl_socket_t open_sock(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    pl_xfer *h = clientp;
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
    pl_acct_close(clientp, fd); /* its last bytes go to its last user */
    return close(fd);
}

/* ------------------------------------------------------ HTTP requests */

/* libcurl calls this once the transfer has a connection, before sending:
 * a failure after it is a lost connection, not a refused one. */
static int on_connected(void *ud, char *remote_ip, char *local_ip, int remote_port, int local_port)
{
    (void)remote_ip, (void)local_ip, (void)remote_port, (void)local_port;
    pl_xfer *h = ud;
    h->connected = true;
    if (h->ctr) /* a request is made once it has a connection to go on */
        h->ctr->http_requests++;
    return CURL_PREREQFUNC_OK;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    pl_xfer *h = ud;
    size_t len = size * n;
    if (h->cancel)
        return 0;
    if (h->data && !h->data(h, p, len))
        return 0;
    if (!h->data && pl_xfer_collect(h, p, len) != 0)
        return 0;
    return h->cancel ? 0 : len;
}

/* The loop is being freed with `h` still running: stop it and let its
 * owner release it (status -1). */
static void teardown(pl_loop_part *p)
{
    pl_xfer *h = pl_list_entry(p, pl_xfer, part);
    pl_xfer_abort(h);
    h->done(h, CURLE_ABORTED_BY_CALLBACK, -1);
}

int pl_xfer_collect(pl_xfer *h, const char *p, size_t len)
{
    return pl_buf_append(&h->body, p, len);
}

int pl_xfer_init(pl_xfer *h, pl_loop *l, pl_sub_counters *ctr, const char *source_addr)
{
    return pl_xfer_init_on(h, l, ctr, source_addr, false);
}

int pl_xfer_init_on(pl_xfer *h, pl_loop *l, pl_sub_counters *ctr, const char *source_addr,
                    bool alone)
{
    memset(h, 0, sizeof *h);
    pl_buf_init(&h->body, 1024, PL_XFER_BODY_MAX);
    h->part.free = teardown;
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

static int start_run(pl_xfer *h, bool connect_only)
{
    pl_loop *l = h->loop;
    pl_xfer_abort(h);
    h->connect_only = connect_only;
    h->taken = false;
    curl_easy_setopt(h->easy, CURLOPT_CONNECT_ONLY, connect_only ? 1L : 0L);
    h->cancel = false;
    h->connected = false;
    h->sock_errno = 0;
    pl_buf_clear(&h->body);
    h->status = 0;
    h->errbuf[0] = '\0';
    if (curl_multi_add_handle(h->shard->multi, h->easy) != CURLM_OK)
        return -ENOMEM;
    h->running = true;
    pl_loop_own(l, &h->part, PL_STAGE_TRANSFERS);
    return 0;
}

int pl_xfer_start(pl_xfer *h) { return start_run(h, false); }

int pl_xfer_start_connect_only(pl_xfer *h, const pl_xfer_takeover *ops, void *state)
{
    h->takeover = ops;
    h->takeover_state = state;
    return start_run(h, true);
}

/* A taken-over transfer aborted inside a libcurl callback: it stops
 * reading now and leaves the multi once libcurl returns. */
static void defer_removal(pl_xfer *h)
{
    struct pl_xfer_pool *p = h->loop->xfer;
    h->takeover->stop(h);
    for (pl_xfer *d = p->deferred; d; d = d->deferred_next)
        if (d == h)
            return;
    h->deferred_next = p->deferred;
    p->deferred = h;
}

static void undefer(pl_xfer *h)
{
    struct pl_xfer_pool *p = h->loop->xfer;
    for (pl_xfer **d = p ? &p->deferred : NULL; d && *d; d = &(*d)->deferred_next)
        if (*d == h) {
            *d = h->deferred_next;
            h->deferred_next = NULL;
            return;
        }
}

void pl_xfer_abort(pl_xfer *h)
{
    if (!h->running)
        return;
    pl_loop *l = h->loop;
    if (pl_xfer_busy(l)) { /* libcurl forbids removing a handle from its callbacks */
        h->cancel = true;
        if (h->taken) /* libcurl is done with it: nothing else would remove it */
            defer_removal(h);
        return;
    }
    if (h->taken)
        h->takeover->stop(h);
    h->taken = false;
    if (h->fd >= 0)
        pl_acct_take(l, h->fd, h->ctr);
    curl_multi_remove_handle(h->shard->multi, h->easy);
    h->running = false;
    pl_loop_disown(&h->part);
}

void pl_xfer_cleanup(pl_xfer *h)
{
    pl_xfer_abort(h);
    undefer(h);
    if (h->takeover && h->takeover->free)
        h->takeover->free(h);
    h->takeover = NULL;
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

void pl_xfer_error(const pl_xfer *h, CURLcode rc, long status, pl_client_err *err)
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
        pl_proto_err(err, code, 0, "transport", "%s%s%s%s", text, why ? " (" : "", why ? why : "",
                     why ? ")" : "");
        return;
    }
    pl_proto_error_body(pl_xfer_body(h), h->body.len, (int)status, err);
}

int pl_xfer_get(pl_xfer *h, char *url, long timeout_ms, pl_xfer_done_fn done)
{
    if (!url)
        return -ENOMEM;
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    free(url); /* libcurl keeps its own copy */
    h->data = NULL;
    h->done = done;
    return pl_xfer_start(h);
}

bool pl_xfer_busy(const pl_loop *l) { return l->xfer && l->xfer->in_curl; }
