/* One TCP connection of the HTTP listener, from accept to close (MHD's
 * socket context). It remembers what the socket had sent and received
 * when its last request ended, so bytes are counted per request and
 * bytes that never became a request are told apart (http_bad_head); and
 * it times request heads and bodies: MHD's own timeout only counts
 * silence, so a client sending a byte every few seconds would hold its
 * slot forever. A head unfinished --header-timeout s after the sweep first
 * saw its bytes, or a body unfinished that long after its head, is cut
 * and counted (http_timeout). Only connections between requests or in a
 * body are swept: an idle server with open streams does not wake for it.
 * Threads: open, close and the request calls run on MHD's threads, the
 * sweep on the ticker; a mutex guards the list, the state is atomic. */
#ifndef PL_CONN_H
#define PL_CONN_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "list.h"

typedef struct pl_server pl_server;
typedef struct pl_conn pl_conn;
typedef struct pl_tick_job pl_tick_job;
struct pl_wire;
struct MHD_Connection;

/* The open connections; in pl_server, set up by pl_conn_list_init. */
typedef struct pl_conn_list {
    pthread_mutex_t lock;
    pl_list head;         /* of pl_conn */
    atomic_int watched;   /* between requests or in a body: need sweeps */
    int64_t timeout_us;   /* --header-timeout */
    pl_tick_job *job;     /* pl_conn_sweep on the ticker, noted when `watched` rises from 0 */
    struct pl_wire *base; /* per fd: what the front's requests carried (pl_conn_handed) */
    size_t base_n;
} pl_conn_list;

void pl_conn_list_init(pl_conn_list *l, int timeout_s);
void pl_conn_list_destroy(pl_conn_list *l);

/* The long-poll front (lp_front.c) hands `fd` to MHD after requests of
 * its own, which carried `sent` and `received` bytes: the connection's
 * counts start from there, so they are neither counted again nor taken
 * for a bad head. Call before MHD_add_connection; the front's thread. */
void pl_conn_handed(pl_conn_list *l, int fd, uint64_t sent, uint64_t received);

/* A connection was accepted. Returns its state, or NULL without memory
 * (it then goes unwatched and uncounted). */
pl_conn *pl_conn_open(pl_server *srv, struct MHD_Connection *mc);
/* It is closing (its fd still open); counts a bad head; frees `c`. */
void pl_conn_close(pl_server *srv, pl_conn *c);

/* The router saw a complete request head; a body follows for a publish. */
void pl_conn_head(pl_server *srv, pl_conn *c, bool body_follows);
/* The body of the request is all in. */
void pl_conn_body_done(pl_server *srv, pl_conn *c);
/* The request ended (MHD's "completed"): `sent` and `received` are the
 * socket's byte counts now, `request` the request's own bytes (0 when not
 * known). Bytes received past them, pipelined or still in the kernel, are
 * the next head's: a bad head if it never reaches the router. */
void pl_conn_request_done(pl_server *srv, pl_conn *c, uint64_t sent, uint64_t received,
                          uint64_t request);
/* Socket bytes sent as of the end of the last request (0 at first). */
uint64_t pl_conn_sent(const pl_conn *c);

/* The ticker job (ud: the pl_server): cuts heads and bodies past the
 * timeout; returns when it is next due, INT64_MAX while none is watched. */
int64_t pl_conn_sweep(void *srv, int64_t now_us);
/* How often it sweeps: a fifth of the timeout, at least 1 s. */
int64_t pl_conn_sweep_period_us(const pl_conn_list *l);

/* Cuts the TCP connection on `fd` from any thread: a reset (SO_LINGER 0,
 * so unsent data is dropped at once) after a shutdown that wakes the
 * library's event loop, which then closes it as it closes any other. */
void pl_conn_cut_fd(int fd);

#endif
