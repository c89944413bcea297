/* The long-poll front: it owns the HTTP port's listening socket, answers
 * plain long polls (poll_head.h) itself, and hands every other connection
 * to MHD unread (MHD_add_connection), which serves and checks the rest as
 * before. Why: MHD 0.9.75 pays, per answered poll, a suspend and a resume
 * (two epoll_ctl calls, an eventfd write and the wake-up it causes) and a
 * second recv; here a poll costs a peek, a read and one write, and a
 * parked one stays in the epoll set. One thread with one epoll; publishers
 * hand it woken polls under a mutex and one eventfd write per batch. Used
 * only with the memory store (a Redis room may open later: MHD's path
 * waits for that). Threads: start and stop from main; the rest on its
 * thread, but for the waiter's wake (any publisher). */
#ifndef PL_LP_FRONT_H
#define PL_LP_FRONT_H

typedef struct pl_server pl_server;
typedef struct pl_front pl_front;

/* Binds srv->cfg's address and port (0: any free one; sets
 * srv->http_port). Returns 0 or a negative errno. Call before MHD starts
 * (it then listens on nothing) and pl_front_run after. */
int pl_front_listen(pl_server *srv, pl_front **out);
/* Starts its thread: from now on it accepts. Returns 0 or -errno. */
int pl_front_run(pl_front *f);
/* Ends its thread and closes its connections and socket; parked polls must
 * have been woken already (pl_store_wake_all), so they are answered first.
 * Before MHD stops: the thread hands connections to it. NULL: no-op. */
void pl_front_stop(pl_front *f);

#endif
