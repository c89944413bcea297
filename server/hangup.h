/* Notices a peer that goes away from a socket nobody else watches. MHD
 * does not watch suspended connections, so without this a waiting long
 * poll would hold its slot until its timeout and an SSE stream until a
 * heartbeat write failed. One epoll thread watches the sockets it is
 * given for EPOLLRDHUP and calls the watcher's callback; an idle watched
 * socket costs no CPU. It knows fds and callbacks, nothing of requests. */
#ifndef PL_HANGUP_H
#define PL_HANGUP_H

typedef struct pl_hangup pl_hangup;

/* Called once, on the watcher thread with the watcher's lock held, when
 * the peer of a watched fd hung up; the fd is unwatched by then. It may
 * take other locks (a room's) but must not call pl_hangup_*. */
typedef void (*pl_hangup_fn)(void *ud);

/* Starts the watcher thread. Returns 0 and *out, or a negative errno. */
int pl_hangup_start(pl_hangup **out);
/* Stops and joins it; every fd must be unwatched first. NULL: no-op. */
void pl_hangup_stop(pl_hangup *h);

/* Watches `fd` for its peer's hang-up, then calls fn(ud) once. Never call
 * with a room lock held. Returns 0, or a negative errno (then nothing is
 * watched). A NULL watcher watches nothing. */
int pl_hangup_watch(pl_hangup *h, int fd, pl_hangup_fn fn, void *ud);
/* Stops watching `fd` for `ud` (a no-op when it is not, e.g. it fired).
 * When it returns, fn(ud) is not running and will not run. */
void pl_hangup_unwatch(pl_hangup *h, int fd, void *ud);

#endif
