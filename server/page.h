/* What short and long polling answer with: the page of a room's messages
 * after a cursor, the `since`/`limit` query they both take, and the tail
 * that builds the page and queues it. Runs on the MHD thread handling the
 * request; reads the store, bumps the request's transport counters. */
#ifndef PL_PAGE_H
#define PL_PAGE_H
#include <microhttpd.h>
#include <stdint.h>
#include "error.h"
#include "stats.h"
#include "store.h"

typedef struct pl_req pl_req;

/* Reads the optional query integer `key` into *out, leaving it unchanged
 * when absent. Returns 0, or -EINVAL with a 400 in `err`. */
int pl_page_query_uint(pl_req *q, const char *key, uint64_t *out, pl_err *err);

/* Reads `since` (default 0) and `limit` (default PL_LIMIT_DEFAULT,
 * clamped to PL_LIMIT_MAX). Returns 0, or -EINVAL with a 400 in `err`. */
int pl_page_query(pl_req *q, uint64_t *since, size_t *limit, pl_err *err);

/* Queues the page of `room` after `since` (at most `limit` messages) for
 * q->room_name as the 200 answer (a 503 when out of memory), built, or
 * from the page cache when the room has not changed since it was last
 * built. `room` may be NULL (a room nobody used yet: an empty page). Each
 * message in it counts as delivered in q->ts, and a page that skips
 * trimmed ids as a gap served. */
enum MHD_Result pl_page_answer(pl_req *q, pl_room *room, uint64_t since, size_t limit);

/* The same page as a JSON body for the long-poll front (lp_front.c), which
 * writes its own answers: built (never cached), counted in `ts` the same
 * way. Returns a malloc'd body of *len bytes, or NULL without memory. Any
 * thread. */
char *pl_page_json(pl_room *room, const char *name, uint64_t since, size_t limit,
                   pl_transport_stats *ts, size_t *len);

#endif
