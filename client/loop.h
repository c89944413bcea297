/* The client's event loop as the library's other files see it: libev on
 * epoll, its wake time, timers and fd watches (client.h), the TLS
 * options, and the parts other files hang on it. loop.c owns the loop and
 * calls into no other client file: what they made on it, pl_loop_free
 * frees through each part's own free function, stage by stage. One
 * thread: the one that runs the loop. */
#ifndef PL_LOOP_H
#define PL_LOOP_H
#include <ev.h>
#include <stdbool.h>
#include "client.h"
#include "list.h"

/* The order pl_loop_free frees parts in: the subscriptions first (their
 * transfers and connections are still alive), then the transfers still
 * running, then the library contexts, then the pools they used, then the
 * tables that every socket's last close still reads. */
enum pl_loop_stage {
    PL_STAGE_SUBS,
    PL_STAGE_TRANSFERS,
    PL_STAGE_CONTEXTS,
    PL_STAGE_POOLS,
    PL_STAGE_TABLES,
    PL_STAGE_COUNT
};

/* Something a client file hangs on the loop, embedded in its own state.
 * `free` releases that state; it runs once, with no user callbacks
 * allowed (l->tearing_down is set). */
typedef struct pl_loop_part {
    pl_list link;
    void (*free)(struct pl_loop_part *p);
} pl_loop_part;

struct pl_loop {
    struct ev_loop *ev;
    ev_check wake_watch; /* first to run after each poll: stamps wake_us */
    int64_t wake_us;
    ev_prepare after_watch; /* before each poll: pl_loop_after_wake's hook */
    pl_loop_hook_fn after_fn;
    void *after_ud;
    char *cacert; /* pl_loop_set_tls */
    bool insecure;
    struct pl_fdwatch **watches; /* pl_loop_watch_fd, indexed by fd */
    size_t watches_len;
    pl_list parts[PL_STAGE_COUNT];
    bool stopped;
    bool tearing_down; /* pl_loop_free: no user callbacks any more */
    /* Per-loop state of other files, made on first use, each one a part. */
    struct pl_xfer_pool *xfer;  /* xfer.c: the libcurl multi handles */
    struct pl_acct_table *acct; /* acct.c: bytes charged per socket */
    struct pl_ws_context *ws;   /* ws.c: the libwebsockets context */
};

/* Hangs `p` on the loop, to be freed at `stage` by pl_loop_free. */
void pl_loop_own(pl_loop *l, pl_loop_part *p, enum pl_loop_stage stage);
/* Takes `p` off the loop (freed by its owner); a no-op when not on it. */
void pl_loop_disown(pl_loop_part *p);

#endif
