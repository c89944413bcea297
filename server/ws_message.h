/* One message a WebSocket client sends, and the frame we answer with:
 * publish -> ack (the message is stored), ping -> pong (JSON or bare
 * text), anything else -> an error frame. Pure of libwebsockets: it reads
 * the text, publishes into the store and counts in the stats; the
 * transport (transport_ws.c) reassembles frames and queues the answer.
 * Any thread; no state of its own. */
#ifndef PL_WS_MESSAGE_H
#define PL_WS_MESSAGE_H
#include <stddef.h>
#include "error.h"
#include "stats.h"
#include "store.h"

/* The longest answer frame: 191 escaped characters of an error message
 * fit. */
#define PL_WS_ANSWER_MAX 2048

/* Handles the whole text message `in` (len bytes) of a peer in `room`:
 * a publish is stored in `store`, and what happened counted in `st`.
 * Writes the answer's text to `out` (PL_WS_ANSWER_MAX bytes) and returns
 * its length, or -ENOMEM when none could be built (then close the
 * connection). */
int pl_ws_message_answer(pl_store *store, pl_stats *st, pl_room *room, const char *in, size_t len,
                         char *out);

/* The error frame for a message the transport refused as a whole (binary,
 * too long), counted like the others. Returns its length or -ENOMEM. */
int pl_ws_message_error(pl_stats *st, const pl_err *err, char *out);

#endif
