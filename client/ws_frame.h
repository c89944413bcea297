/* The client's reading of WebSocket messages from the server, with no
 * I/O: joining a message's fragments (bounded) and classifying one whole
 * text message (message, ack, error, pong). ws.c acts on the result; the
 * fuzzer (tests/fuzz/fuzz_ws_frame.c) runs the same code. Not thread-safe
 * per buffer; no global state. */
#ifndef PL_WS_FRAME_H
#define PL_WS_FRAME_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* A message being joined from fragments. Zero-initialised is empty. */
typedef struct pl_ws_frame_rx {
    pl_buf buf;
} pl_ws_frame_rx;

/* Adds `len` bytes of a message; `whole` says they end it. Returns 1 with
 * the whole message in *msg / *n (borrowed: `in` itself for a message that
 * came in one piece, else the buffer, NUL-terminated; valid until the next
 * call), 0 when more fragments must follow, -EMSGSIZE past `max` bytes or
 * -ENOMEM; after an error the partial message is dropped. */
int pl_ws_frame_rx_add(pl_ws_frame_rx *rx, const char *in, size_t len, bool whole, size_t max,
                       const char **msg, size_t *n);
/* Frees the buffer; the rx is empty again. */
void pl_ws_frame_rx_free(pl_ws_frame_rx *rx);

typedef enum pl_ws_frame_kind {
    PL_WS_FRAME_BAD,     /* not JSON, or no string "type" */
    PL_WS_FRAME_PONG,    /* the bare text "pong" */
    PL_WS_FRAME_MESSAGE, /* {"type":"message",...}: obj is the message */
    PL_WS_FRAME_ACK,     /* {"type":"ack","id":N}: id */
    PL_WS_FRAME_ERROR,   /* {"type":"error",...}: code, text */
    PL_WS_FRAME_OTHER,   /* another type, ignored */
} pl_ws_frame_kind;

/* One classified text message. Owns `obj` (NULL for PONG and BAD);
 * `code` and `text` borrow from it. */
typedef struct pl_ws_frame {
    pl_ws_frame_kind kind;
    json_t *obj;
    uint64_t id;      /* ACK: the stored id, 0 when absent or not a positive integer */
    const char *code; /* ERROR: "error" when absent */
    const char *text; /* ERROR: "" when absent */
} pl_ws_frame;

/* Classifies the `n` bytes at `p`. Always fills *f; free with
 * pl_ws_frame_free(). */
void pl_ws_frame_parse(const char *p, size_t n, pl_ws_frame *f);
void pl_ws_frame_free(pl_ws_frame *f);

#endif
