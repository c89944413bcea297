/* How every HTTP handler answers: queueing an MHD response, a JSON body,
 * the protocol's error body, and counting each error status under the
 * request's endpoint for /metrics. Owns no state; runs on the MHD thread
 * that handles the request. Touches only the request and the counters. */
#ifndef PL_REPLY_H
#define PL_REPLY_H
#include <microhttpd.h>
#include <stddef.h>
#include "error.h"

typedef struct pl_req pl_req;

/* Queues `r` with `status` and drops our reference to it. NULL (a failed
 * allocation) is MHD_NO, which closes the connection. */
enum MHD_Result pl_reply_queue(pl_req *q, int status, struct MHD_Response *r);

/* A JSON answer's response (Content-Type, Cache-Control: no-store) taking
 * `body` (malloc'ed; freed with the response, or now on failure). NULL
 * without memory. */
struct MHD_Response *pl_reply_json_response(char *body, size_t len);
/* Queues `body` (malloc'ed, ownership taken; NULL: MHD_NO) as JSON with
 * `status`. A status >= 400 is counted. */
enum MHD_Result pl_reply_json(pl_req *q, int status, char *body, size_t len);

/* Queues the error body for `err` with its status, and counts it. */
enum MHD_Result pl_reply_error(pl_req *q, const pl_err *err);

/* A 503 for a store call that failed with `rc` (backend.h's
 * pl_backend_err: "store_unavailable" when a shared store did not answer,
 * else the room limit or memory). */
enum MHD_Result pl_reply_store_error(pl_req *q, int rc);

/* A 405 with the Allow header `allow`. */
enum MHD_Result pl_reply_not_allowed(pl_req *q, const char *allow);

#endif
