/* Notices a client that goes away while its request is suspended. MHD does
 * not watch suspended connections, so without this a waiting long poll
 * would hold its slot until its timeout and an SSE stream until a
 * heartbeat write failed. One epoll thread watches those sockets for
 * EPOLLRDHUP; an idle watched socket costs no CPU. */
#ifndef PL_HANGUP_H
#define PL_HANGUP_H
#include <stdbool.h>

typedef struct pl_server pl_server;
typedef struct pl_req pl_req;

/* Starts the watcher thread. Returns 0 or a negative errno. */
int pl_hangup_start(pl_server *srv);
/* Stops and joins it; every request must be unwatched first. */
void pl_hangup_stop(pl_server *srv);

/* Watches `q`'s socket. When the peer hangs up, q->gone is set and, if q
 * is parked as a store waiter, it is unlinked and its connection resumed,
 * so its handler runs and ends it. Never call with a room lock held. */
void pl_hangup_watch(pl_server *srv, pl_req *q);
/* Stops watching `q` (a no-op when not watched). Before `q` is freed. */
void pl_hangup_unwatch(pl_server *srv, pl_req *q);

#endif
