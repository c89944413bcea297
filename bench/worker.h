/* A thread with a client loop of its own, driven by the main thread's
 * commands (an eventfd its loop watches, so a command runs at once, in
 * the loop's thread, between two callbacks): what --threads runs each
 * share of the subscribers on, and the publisher. The work is the
 * caller's, through a table of operations; this file only carries
 * commands and the thread's life. */
#ifndef PL_BENCH_WORKER_H
#define PL_BENCH_WORKER_H
#include <pthread.h>
#include <stdbool.h>
#include "client.h"

/* What a worker does, each called on its own thread. */
typedef struct pl_bworker_ops {
    /* Its loop is made (with the TLS options): set up. A negative code
     * ends the thread (pl_bworker_start returns it). */
    int (*setup)(void *ud, pl_loop *l);
    /* Command `cmd` (the caller's numbering, > 0). */
    void (*command)(void *ud, int cmd);
    /* The loop stopped: release what setup made; the loop is freed after. */
    void (*teardown)(void *ud);
} pl_bworker_ops;

typedef struct pl_bworker {
    const pl_bworker_ops *ops;
    void *ud;
    const pl_tls_opts *tls;
    pthread_t thread;
    int efd; /* commands' wake-up */
    pl_loop *loop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int cmd;  /* the command posted, 0: none */
    int done; /* commands completed, counted */
    int setup_rc;
    bool set_up, running;
} pl_bworker;

/* Starts the thread and waits until setup ran. Returns 0, or setup's
 * (or the loop's) negative code after the thread ended. */
int pl_bworker_start(pl_bworker *w, const pl_bworker_ops *ops, void *ud, const pl_tls_opts *tls);

/* Posts `cmd` without waiting; pl_bworker_wait waits until it ran. One
 * command at a time per worker. */
void pl_bworker_post(pl_bworker *w, int cmd);
void pl_bworker_wait(pl_bworker *w);

/* The CPU seconds the worker's thread used so far (any thread may ask). */
double pl_bworker_cpu(const pl_bworker *w);

/* Stops the loop, runs teardown, frees the loop and joins the thread.
 * A no-op for a worker that is not running. */
void pl_bworker_stop(pl_bworker *w);

#endif
