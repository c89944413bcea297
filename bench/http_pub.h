/* The publisher's HTTP side: asynchronous JSON POSTs on its own libcurl
 * multi handle, driven by the client loop's fd watches and a loop timer.
 * Its own multi keeps the publisher's sockets apart from the client
 * library's per-subscription byte accounting, which measures only what
 * subscribers send and receive. */
#ifndef PL_BENCH_HTTP_PUB_H
#define PL_BENCH_HTTP_PUB_H
#include <stddef.h>
#include "client.h"

typedef struct pl_bhttp pl_bhttp;

/* Completion: the HTTP status, or 0 when no answer came (connect failure,
 * timeout) with libcurl's reason in `why` (else NULL). Runs from the loop,
 * never from inside pl_bhttp_post. */
typedef void (*pl_bhttp_fn)(void *ud, long status, const char *why);

/* Returns 0 and *out, or -ENOMEM. */
/* `tls` (borrowed, may be NULL) applies to every POST. */
int pl_bhttp_new(pl_loop *l, const pl_tls_opts *tls, pl_bhttp **out);
/* POSTs `body` (copied) as application/json to `url`. Returns 0, or
 * -ENOMEM / -EIO, and then `fn` never runs. */
int pl_bhttp_post(pl_bhttp *h, const char *url, const char *body, size_t len, pl_bhttp_fn fn,
                  void *ud);
/* Aborts what is in flight without calling back, and frees everything.
 * Call while its loop is still alive. NULL is a no-op. */
void pl_bhttp_free(pl_bhttp *h);

#endif
