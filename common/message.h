/* The message codec: parsing and validating a publish (HTTP body or
 * WebSocket frame) with jansson, and the stored message, encoded once at
 * publish time in the three shapes the transports send. */
#ifndef PL_MESSAGE_H
#define PL_MESSAGE_H
#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "validate.h"

/* A publish request, after validation. Borrows its strings from the
 * json_t it was parsed from; `meta` is a borrowed reference or NULL. */
typedef struct pl_publish {
    const char *user;
    size_t user_len;
    const char *text;
    size_t text_len;
    const char *cid; /* NULL when absent */
    size_t cid_len;
    json_t *meta; /* a JSON object or NULL */
} pl_publish;

/* A stored message. Immutable after creation and reference counted, so a
 * transport may hold one outside the store's lock. All strings live in the
 * same allocation as the struct and are NUL-terminated. */
typedef struct pl_msg {
    atomic_int refs;
    uint64_t id;
    int64_t ts;
    uint64_t cid_hash; /* 0 when the message has no cid */
    const char *cid;   /* NULL when absent */
    const char *json;  /* {"id":..,"room":..,"user":..,"text":..,"ts":..,...} */
    size_t json_len;
    const char *sse; /* "id: N\nevent: message\ndata: <json>\n\n" */
    size_t sse_len;
    const char *ws; /* {"type":"message","id":..,...}: the WebSocket frame's payload */
    size_t ws_len;
    /* The whole unmasked text frame a server sends (RFC 6455 5.2): its
     * 2, 4 or 10 header bytes, then `ws`, which it ends with. */
    const unsigned char *ws_frame;
    size_t ws_frame_len;
} pl_msg;

/* Parses a request body into a JSON object. Returns 0 and a new reference
 * in *out, or -EINVAL with `err` filled (400 for malformed JSON or a
 * non-object, 413 past PL_BODY_MAX). */
int pl_msg_parse_body(const char *body, size_t len, json_t **out, pl_err *err);

/* Validates the publish fields of `obj` (user, text, cid, meta). Other keys
 * are ignored. Returns 0 and fills *out (borrowing from obj), or -EINVAL
 * with a 400 in `err`. */
int pl_msg_parse_publish(json_t *obj, pl_publish *out, pl_err *err);

/* Builds a stored message with one reference. Returns NULL on allocation
 * failure. */
pl_msg *pl_msg_new(const char *room, uint64_t id, int64_t ts, const pl_publish *in);

/* A publish's fields as the two JSON pieces around the "ts" of its stored
 * form, for a store that sets the id, room and ts itself (the Redis
 * backend's script): `head` is "user":..,"text":.. and `tail` is
 * ,"cid":..,"meta":{..} or "". Both malloc'ed, freed by
 * pl_msg_parts_free. */
typedef struct pl_msg_parts {
    char *head, *tail;
} pl_msg_parts;
/* Fills *out from `in`. Returns 0 or -ENOMEM (then *out holds nothing). */
int pl_msg_fragments(const pl_publish *in, pl_msg_parts *out);
void pl_msg_parts_free(pl_msg_parts *p);
/* The stored JSON of a message, exactly as pl_msg_new writes it:
 * {"id":..,"room":"..",<head>,"ts":..<tail>}. `room` is a valid room name
 * (no escaping needed). malloc'ed; NULL without memory. */
char *pl_msg_join(const char *room, uint64_t id, int64_t ts, const pl_msg_parts *p);

/* A stored message rebuilt from its JSON (as another node wrote it into a
 * shared log): id, ts and cid are read from the text, which is kept as
 * is. Returns NULL for text without a positive integer id and ts, or
 * without memory. */
pl_msg *pl_msg_from_json(const char *json, size_t len);
pl_msg *pl_msg_ref(pl_msg *m);
/* Drops a reference; frees the message with the last one. NULL is a no-op. */
void pl_msg_unref(pl_msg *m);

/* 64-bit FNV-1a of a cid, never 0. */
uint64_t pl_cid_hash(const char *cid, size_t len);

#endif
