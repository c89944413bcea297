/* Asynchronous POSTs on the client loop; see http_pub.h. Requests are
 * pooled (easy handle and body buffer reused) so the steady state
 * allocates nothing, and connections stay alive in the multi's cache. */
#include "http_pub.h"
#include "buf.h"
#include "list.h"
#include "tls.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct req {
    CURL *easy;
    pl_buf body; /* reused: grows to the largest body once */
    pl_bhttp_fn fn;
    void *ud;
    pl_list link; /* in free_reqs, or in busy */
} req;

struct pl_bhttp {
    pl_loop *loop;
    CURLM *multi;
    pl_timer *timer;
    struct curl_slist *headers;
    const pl_tls_opts *tls;  /* borrowed from the options */
    pl_list free_reqs, busy; /* of req.link */
};

static void check_done(pl_bhttp *h);

static void on_fd(pl_loop *l, int fd, int events, void *ud)
{
    pl_bhttp *h = ud;
    int running, what = (events & PL_FD_READ ? CURL_CSELECT_IN : 0) |
                        (events & PL_FD_WRITE ? CURL_CSELECT_OUT : 0) |
                        (events & PL_FD_ERROR ? CURL_CSELECT_ERR : 0);
    (void)l;
    curl_multi_socket_action(h->multi, fd, what, &running);
    check_done(h);
}

static void on_timer(pl_timer *t, void *ud)
{
    pl_bhttp *h = ud;
    int running;
    (void)t;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int sock_cb(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
    pl_bhttp *h = ud;
    (void)e, (void)sockp;
    pl_loop_unwatch_fd(h->loop, fd);
    if (what == CURL_POLL_REMOVE)
        return 0;
    int ev = (what & CURL_POLL_IN ? PL_FD_READ : 0) | (what & CURL_POLL_OUT ? PL_FD_WRITE : 0);
    return pl_loop_watch_fd(h->loop, fd, ev, on_fd, h) == 0 ? 0 : -1;
}

static int timer_cb(CURLM *m, long timeout_ms, void *ud)
{
    pl_bhttp *h = ud;
    (void)m;
    if (timeout_ms < 0)
        pl_timer_stop(h->timer);
    else
        pl_timer_start(h->timer, (int64_t)timeout_ms * 1000);
    return 0;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p, (void)ud;
    return sz * n;
}

/* Finished transfers: recycle the request, then tell its owner (who may
 * post again at once and get the same request back). */
static void check_done(pl_bhttp *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        req *r = NULL;
        long status = 0;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (m->data.result == CURLE_OK)
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(h->multi, r->easy);
        pl_list_remove(&r->link);
        pl_list_push_front(&h->free_reqs, &r->link);
        r->fn(r->ud, status, status ? NULL : curl_easy_strerror(m->data.result));
    }
}

int pl_bhttp_new(pl_loop *l, const pl_tls_opts *tls, pl_bhttp **out)
{
    pl_bhttp *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->loop = l;
    h->tls = tls;
    pl_list_init(&h->free_reqs);
    pl_list_init(&h->busy);
    h->multi = curl_multi_init();
    h->timer = pl_timer_new(l, on_timer, h);
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (h->headers) /* no 100-continue round trip for bodies over 1 KiB */
        h->headers = curl_slist_append(h->headers, "Expect:");
    if (!h->multi || !h->timer || !h->headers) {
        pl_bhttp_free(h);
        return -ENOMEM;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    *out = h;
    return 0;
}

/* A pooled request holding a copy of `body`, or NULL. */
static req *get_req(pl_bhttp *h, const char *body, size_t len)
{
    pl_list *n = pl_list_first(&h->free_reqs);
    req *r = n ? pl_list_entry(n, req, link) : NULL;
    if (r)
        pl_list_remove(&r->link);
    else if (!(r = calloc(1, sizeof *r)) || !(r->easy = curl_easy_init())) {
        free(r);
        return NULL;
    }
    pl_buf_clear(&r->body);
    if (pl_buf_append(&r->body, body, len) != 0) {
        pl_list_push_front(&h->free_reqs, &r->link);
        return NULL;
    }
    return r;
}

int pl_bhttp_post(pl_bhttp *h, const char *url, const char *body, size_t len, pl_bhttp_fn fn,
                  void *ud)
{
    req *r = get_req(h, body, len);
    if (!r)
        return -ENOMEM;
    r->fn = fn;
    r->ud = ud;
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.p);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    pl_btls_curl(e, h->tls);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        pl_list_push_front(&h->free_reqs, &r->link);
        return -EIO;
    }
    pl_list_push_front(&h->busy, &r->link);
    return 0;
}

static void free_list(pl_bhttp *h, pl_list *head)
{
    pl_list_each(it, head)
    {
        req *r = pl_list_entry(it, req, link);
        curl_multi_remove_handle(h->multi, r->easy);
        curl_easy_cleanup(r->easy);
        pl_buf_free(&r->body);
        free(r);
    }
}

void pl_bhttp_free(pl_bhttp *h)
{
    if (!h)
        return;
    free_list(h, &h->busy);
    free_list(h, &h->free_reqs);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    pl_timer_free(h->timer);
    curl_slist_free_all(h->headers);
    free(h);
}
