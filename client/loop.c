/* The client's one event loop: libev on epoll, with the caller's timers
 * and fds, the wake time of each poll, and the parts the library's other
 * files hang on it (loop.h): the libcurl multi handles (xfer.c), the
 * libwebsockets context (ws.c, lws's libev "foreign loop" support: this
 * Debian lws build has no external-poll callbacks), the subscriptions. */
#include "loop.h"
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"

struct pl_timer {
    ev_timer w;
    pl_loop *loop;
    pl_timer_fn fn;
    void *ud;
};

typedef struct pl_fdwatch {
    ev_io w;
    pl_loop *loop;
    pl_fd_fn fn;
    void *ud;
} pl_fdwatch;

int pl_client_global_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0);
    lws_set_log_level(0, NULL);
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void pl_client_global_cleanup(void) { curl_global_cleanup(); }

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

int pl_loop_set_tls(pl_loop *l, const pl_tls_opts *t)
{
    if (l->ws) /* its TLS context was made with the old options */
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
    ev_set_priority(&l->wake_watch, EV_MAXPRI);
    ev_check_start(l->ev, &l->wake_watch);
    ev_unref(l->ev);
    /* Lowest priority: after everything else of the wake-up. Unref'd too. */
    ev_prepare_init(&l->after_watch, after_cb);
    l->after_watch.data = l;
    ev_set_priority(&l->after_watch, EV_MINPRI);
    ev_prepare_start(l->ev, &l->after_watch);
    ev_unref(l->ev);
    for (int st = 0; st < PL_STAGE_COUNT; st++)
        pl_list_init(&l->parts[st]);
    *out = l;
    return 0;
fail:
    if (l->ev)
        ev_loop_destroy(l->ev);
    free(l);
    return -ENOMEM;
}

void pl_loop_own(pl_loop *l, pl_loop_part *p, enum pl_loop_stage stage)
{
    pl_list_push(&l->parts[stage], &p->link);
}

void pl_loop_disown(pl_loop_part *p) { pl_list_remove(&p->link); }

/* Frees every part hung on the loop at `stage`, last hung first. */
static void free_stage(pl_loop *l, enum pl_loop_stage stage)
{
    pl_list *n;
    while ((n = l->parts[stage].prev) != &l->parts[stage]) {
        pl_loop_part *p = pl_list_entry(n, pl_loop_part, link);
        pl_list_remove(&p->link);
        p->free(p);
    }
}

void pl_loop_free(pl_loop *l)
{
    if (!l)
        return;
    l->tearing_down = true;
    for (int st = 0; st < PL_STAGE_COUNT; st++) {
        free_stage(l, (enum pl_loop_stage)st);
        /* Libraries closing their sockets finish that in one more turn. */
        if (st == PL_STAGE_CONTEXTS)
            ev_run(l->ev, EVRUN_NOWAIT);
    }
    ev_ref(l->ev);
    ev_check_stop(l->ev, &l->wake_watch);
    ev_ref(l->ev);
    ev_prepare_stop(l->ev, &l->after_watch);
    for (size_t i = 0; i < l->watches_len; i++)
        pl_loop_unwatch_fd(l, (int)i);
    free(l->watches);
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
