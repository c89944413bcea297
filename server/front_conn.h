/* The long-poll front's state, shared by its two files: lp_front.c (the
 * loop and the polls) calls down into front_conn.c (connections: accept,
 * timers, close, the hand-over to MHD, the answer head), never the other
 * way. Everything here is the front thread's, but for pl_front.ready and
 * .kicked, under .lock. */
#ifndef PL_FRONT_CONN_H
#define PL_FRONT_CONN_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include "list.h"
#include "lp_front.h"
#include "stats.h"
#include "store.h"

/* FC_GONE: closed or handed over, to be freed after this batch of events. */
enum fc_state { FC_IDLE, FC_PARKED, FC_WRITING, FC_GONE };

typedef struct pl_fc {
    pl_front *f;
    int fd;
    enum fc_state state;
    /* Its client half-closed or reset: an edge-triggered event says so
     * once, maybe with the poll itself, and no later event will. */
    bool peer_left;
    /* Bytes may wait past its request that no later event will announce:
     * seen by an event while it was busy, or peeked with the request. */
    bool more;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    pl_waiter waiter;
    pl_room *room;
    char room_name[PL_ROOM_MAX + 1];
    uint64_t since;
    size_t limit;
    pl_transport_stats *ts; /* the counters of its poll's transport */
    int64_t due_us;         /* parked: its deadline; idle: when it is closed */
    pl_list timer;          /* on f->timers[] (parked or not), by due_us */
    pl_list ready;          /* on f->ready once woken (under f->lock) */
    char *out;              /* the part of an answer the socket did not take */
    size_t out_len, out_off;
    uint64_t in, sent; /* bytes of its requests read here, and answers sent */
} pl_fc;

struct pl_front {
    pl_server *srv;
    int lfd, ep, kick;
    pthread_t thread;
    bool running;
    atomic_bool quit;
    pthread_mutex_t lock; /* guards ready and kicked */
    pl_list ready;
    bool kicked;
    pl_list gone; /* connections closed in this batch of events (their timer node) */
    /* Parked polls by deadline, the others by idle limit: each list is
     * mostly appended to (one timeout for most polls, one idle limit). One
     * list for both walked every re-poll past the idle ones (O(n) each at
     * 10,000 pollers). The front thread's alone, like the rest below. */
    pl_list timers[2];
    int owned;
    int64_t idle_us, quit_us;
    int64_t paused_until_us; /* accepting paused (out of fds) until then */
    char date[48];
    time_t date_s;
    char listen_tag, kick_tag; /* epoll data of the two sockets that are not connections */
};

enum { PL_FC_IDLE_TIMER, PL_FC_DEADLINE };
/* (Re)arms c's one timer for `due` (monotonic us) on list `which`: its
 * deadline when parked, its idle limit otherwise. */
void pl_fc_timer_set(pl_fc *c, int which, int64_t due);
/* Closes c's socket; c is FC_GONE (off its timer; not parked) until
 * pl_fc_free_gone. */
void pl_fc_close(pl_fc *c);
/* Frees the connections closed or handed over since the last call: after
 * each batch of events, none of which may name them any more. */
void pl_fc_free_gone(pl_front *f);
/* The client left between requests: its unread bytes count as a bad head
 * (as conn.c counts them for MHD's connections), then pl_fc_close. */
void pl_fc_closed_between_requests(pl_fc *c);
/* Off our epoll and to MHD, unread (closed when quitting); c is FC_GONE. */
void pl_fc_hand_over(pl_fc *c);
/* MHD's answer head for a 200 JSON body of `body_len` bytes, into buf;
 * its length, or 0 when it does not fit. */
size_t pl_fc_head(pl_front *f, char *buf, size_t cap, size_t body_len);
/* Accepts what the listening socket holds (idle, on their timers). */
void pl_fc_accept_all(pl_front *f);
/* Puts the listening socket back after an out-of-descriptors pause once
 * it is over; returns the epoll timeout to use (ms, -1: none). */
int pl_fc_resume_accepting(pl_front *f, int timeout);

#endif
