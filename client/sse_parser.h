/* An incremental Server-Sent Events parser following the WHATWG
 * EventSource "interpreting an event stream" rules. Bytes go in as they
 * arrive, split anywhere; complete events come out through a callback. */
#ifndef PL_SSE_PARSER_H
#define PL_SSE_PARSER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* One dispatched event. Pointers borrow the parser's buffers and are valid
 * during the callback only; every string is NUL-terminated. */
typedef struct pl_sse_parser_event {
    const char *type; /* the `event` field, "message" when absent */
    size_t type_len;
    const char *data; /* `data` lines joined with "\n" */
    size_t data_len;
    const char *id; /* the last event ID buffer ("" when none yet) */
    size_t id_len;
} pl_sse_parser_event;

typedef struct pl_sse_parser_callbacks {
    void (*on_event)(void *ud, const pl_sse_parser_event *ev);
    void (*on_retry)(void *ud, uint64_t ms); /* a valid `retry` field */
    void (*on_comment)(void *ud);            /* a `:` line (heartbeat) */
} pl_sse_parser_callbacks;

typedef struct pl_sse_parser {
    pl_sse_parser_callbacks cb;
    void *ud;
    pl_buf line, data, type, id; /* each bounded by max_line */
    uint8_t bom_seen;            /* leading bytes of the BOM matched so far; 3 = done */
    bool after_cr;               /* the previous byte was a CR: skip one LF */
} pl_sse_parser;

/* Sets up a parser. `max_line` bounds a line, the data of one event and
 * the id/type buffers (0: 64 KiB). Owns no memory until the first feed. */
void pl_sse_parser_init(pl_sse_parser *p, size_t max_line, const pl_sse_parser_callbacks *cb,
                        void *ud);
/* Frees the parser's buffers; it can be fed again afterwards (as a new
 * stream, except that the last event ID is forgotten too). */
void pl_sse_parser_free(pl_sse_parser *p);
/* Forgets the partial line and event, as at a reconnect; keeps the last
 * event ID as the WHATWG rules require. */
void pl_sse_parser_reset_stream(pl_sse_parser *p);

/* Parses `n` bytes, calling back for each complete event. Returns 0, or
 * -EMSGSIZE when a line or event grows past the bound, -ENOMEM: the
 * parser must then be reset before further use. */
int pl_sse_parser_feed(pl_sse_parser *p, const char *buf, size_t n);

#endif
