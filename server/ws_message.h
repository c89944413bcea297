/* One message a WebSocket client sends, and the frame we answer with:
 * publish -> ack (once the store answered), ping -> pong (JSON or bare
 * text), anything else -> an error frame. Pure of libwebsockets and of
 * the store: it reads the text and counts in the stats; the transport
 * (transport_ws.c) reassembles frames, hands a publish to the store
 * backend and queues the answer. Any thread; no state of its own. */
#ifndef PL_WS_MESSAGE_H
#define PL_WS_MESSAGE_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "message.h"
#include "stats.h"

/* The longest answer frame: 191 escaped characters of an error message
 * fit. */
#define PL_WS_ANSWER_MAX 2048

/* Reads the whole text message `in` (len bytes). A ping or a bad message
 * is answered at once: its text goes to `out` (PL_WS_ANSWER_MAX bytes)
 * and the length (> 0) is returned. A valid publish returns 0 with *pub
 * filled; its strings belong to *hold, which the caller json_decref()s
 * once the publish is handed to the store. -ENOMEM when no answer could
 * be built (then close the connection). */
int pl_ws_message_read(pl_stats *st, const char *in, size_t len, char *out, pl_publish *pub,
                       json_t **hold);

/* The answer to a publish the store answered with `rc` (pl_publish_done's
 * arguments): an ack with the id (and cid), or an error frame, counted.
 * Returns its length or -ENOMEM. */
int pl_ws_message_stored(pl_stats *st, int rc, const pl_msg *m, bool dup, char *out);

/* The error frame for a message the transport refused as a whole (binary,
 * too long), counted like the others. Returns its length or -ENOMEM. */
int pl_ws_message_error(pl_stats *st, const pl_err *err, char *out);

#endif
