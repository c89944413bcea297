/* The protocol's JSON as the client reads and writes it (docs/protocol.md),
 * all in this one file: a message object, a polling page, the publish
 * body and the publish answer, /api/config's ws_url, the server's error
 * body; and the client's own error reports (pl_client_err). jansson only:
 * no I/O, no state, any thread. */
#ifndef PL_PROTO_H
#define PL_PROTO_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "client.h"
#include "jscan.h"

/* Fills `err` with rc, status, code and a printf-style message. */
void pl_proto_err(pl_client_err *err, int rc, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* `e` when it is an errno of a failed connect() or bind() a caller can
 * act on (an address out of ports: use another; no descriptor left),
 * else 0: libwebsockets reports those only as "Unable to connect". */
int pl_proto_connect_errno(int e);
/* Fills `err` from an HTTP error answer: the server's {"error":{...}}
 * body, else "unexpected HTTP status". */
void pl_proto_error_body(const char *body, size_t len, int status, pl_client_err *err);

/* A message object's id: 0 and *id, or -EPROTO when `obj` is no message
 * (no positive integer "id"). */
int pl_proto_message_id(const json_t *obj, uint64_t *id);
/* The fields of message `obj` with id `id` into *out, borrowing from
 * `obj`; missing strings are "", a missing room is `room`. */
void pl_proto_message(json_t *obj, uint64_t id, const char *room, pl_client_msg *out);

/* The lean path: `json` is a message with a positive integer id (and, for
 * a WebSocket frame, `want_type`, "type":"message"), found by scanning
 * (common/jscan.h). Returns 0 with *id and *meta (its text; n == 0 when
 * absent), or -EPROTO: the caller then takes the full parse, which also
 * says what is wrong. */
int pl_proto_lean_message(const char *json, size_t len, bool want_type, uint64_t *id,
                          const char **meta, size_t *meta_len);

/* The lean path for a polling page: its last_id and the span of its
 * "messages" array (pl_jscan_next walks it), found by scanning. Returns 0,
 * or -EPROTO: the caller then takes the full parse. */
int pl_proto_lean_page(const char *body, size_t len, uint64_t *last_id, pl_jspan *messages);

/* A polling page: {"messages":[...],"last_id":N,"gap":bool,...}. */
typedef struct pl_proto_page {
    json_t *root; /* owned; pl_proto_page_free() */
    json_t *messages;
    uint64_t last_id;
    bool gap;
} pl_proto_page;
/* Parses a page body. Returns 0, or -EPROTO (nothing to free). */
int pl_proto_page_parse(const char *body, size_t len, pl_proto_page *p);
void pl_proto_page_free(pl_proto_page *p);
/* Only the last_id of a page (the restart probe). 0 or -EPROTO. */
int pl_proto_last_id(const char *body, size_t len, uint64_t *last_id);

/* GET /api/config's ws_url, malloc'ed, or NULL when absent. */
char *pl_proto_ws_url(const char *body, size_t len);

/* A publish as JSON text (user, text, cid, meta; "type" when not NULL),
 * malloc'ed with `headroom` bytes before it (a WebSocket frame's LWS_PRE)
 * and a NUL after it; its length in *len. NULL when meta_json is not a
 * JSON object, or without memory. */
char *pl_proto_publish_text(const pl_pub_msg *m, const char *type, size_t headroom, size_t *len);
/* The stored id in a publish answer. 0 or -EPROTO. */
int pl_proto_publish_id(const char *body, size_t len, uint64_t *id);

#endif
