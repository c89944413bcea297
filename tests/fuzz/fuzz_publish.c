/* Fuzz target: a publish body, the bytes a client POSTs to
 * /api/rooms/{room}/messages or sends in a WebSocket publish frame. It is
 * parsed and validated (common/message.c, validate.c) exactly as the
 * server does; what is refused must carry the protocol's status, and what
 * is accepted must obey every limit of the protocol and come back out of
 * the stored message unchanged, in its JSON, SSE and WebSocket shapes. */
#include <string.h>
#include "fuzz.h"
#include "message.h"
#include "validate.h"

#define ROOM "fuzz-room"
#define ID   9007199254740991ULL /* the largest id the protocol allows */
#define TS   1764140000123456LL

/* A string field of the stored message equals what was published. */
static void check_field(json_t *o, const char *key, const char *want, size_t len)
{
    json_t *v = json_object_get(o, key);
    if (!want) {
        FUZZ_CHECK(v == NULL);
        return;
    }
    FUZZ_CHECK(json_is_string(v) && json_string_length(v) == len);
    FUZZ_CHECK(memcmp(json_string_value(v), want, len) == 0);
}

static void check_fields(json_t *o, const pl_publish *in)
{
    FUZZ_CHECK(json_is_object(o));
    FUZZ_CHECK(json_integer_value(json_object_get(o, "id")) == (json_int_t)ID);
    FUZZ_CHECK(json_integer_value(json_object_get(o, "ts")) == TS);
    check_field(o, "room", ROOM, strlen(ROOM));
    check_field(o, "user", in->user, in->user_len);
    check_field(o, "text", in->text, in->text_len);
    check_field(o, "cid", in->cid, in->cid_len);
    json_t *meta = json_object_get(o, "meta");
    FUZZ_CHECK(in->meta ? json_equal(meta, in->meta) : meta == NULL);
}

static void check_accepted(const pl_publish *in)
{
    FUZZ_CHECK(in->user_len >= 1 && in->user_len <= PL_USER_MAX);
    FUZZ_CHECK(in->text_len >= 1 && in->text_len <= PL_TEXT_MAX);
    FUZZ_CHECK(pl_valid_utf8(in->user, in->user_len) && pl_valid_utf8(in->text, in->text_len));
    FUZZ_CHECK(!pl_has_control(in->user, in->user_len));
    FUZZ_CHECK(!memchr(in->user, 0, in->user_len) && !memchr(in->text, 0, in->text_len));
    if (in->cid)
        FUZZ_CHECK(in->cid_len >= 1 && in->cid_len <= PL_CID_MAX &&
                   pl_valid_utf8(in->cid, in->cid_len));
    if (in->meta)
        FUZZ_CHECK(json_is_object(in->meta) &&
                   json_dumpb(in->meta, NULL, 0, JSON_COMPACT) <= PL_META_MAX);

    pl_msg *m = pl_msg_new(ROOM, ID, TS, in);
    FUZZ_CHECK(m);
    FUZZ_CHECK(strlen(m->json) == m->json_len && strlen(m->sse) == m->sse_len &&
               strlen(m->ws) == m->ws_len);
    /* One SSE data line: the JSON may hold no line break. */
    FUZZ_CHECK(!memchr(m->json, '\n', m->json_len) && !memchr(m->json, '\r', m->json_len));
    json_t *o = json_loadb(m->json, m->json_len, JSON_REJECT_DUPLICATES, NULL);
    check_fields(o, in);
    json_decref(o);

    char head[64];
    int hn = snprintf(head, sizeof head, "id: %llu\nevent: message\ndata: ", ID);
    FUZZ_CHECK(m->sse_len == (size_t)hn + m->json_len + 2);
    FUZZ_CHECK(memcmp(m->sse, head, (size_t)hn) == 0);
    FUZZ_CHECK(memcmp(m->sse + hn, m->json, m->json_len) == 0);
    FUZZ_CHECK(memcmp(m->sse + hn + m->json_len, "\n\n", 2) == 0);

    json_t *w = json_loadb(m->ws, m->ws_len, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(w && strcmp(json_string_value(json_object_get(w, "type")), "message") == 0);
    json_object_del(w, "type");
    check_fields(w, in);
    json_decref(w);

    /* The cid the store de-duplicates by is the published one. */
    if (in->cid)
        FUZZ_CHECK(m->cid && strlen(m->cid) == in->cid_len &&
                   memcmp(m->cid, in->cid, in->cid_len) == 0 &&
                   m->cid_hash == pl_cid_hash(in->cid, in->cid_len) && m->cid_hash != 0);
    else
        FUZZ_CHECK(m->cid == NULL && m->cid_hash == 0);
    pl_msg_unref(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = NULL;
    pl_err err;
    pl_publish in;
    if (pl_msg_parse_body((const char *)data, size, &obj, &err) != 0) {
        FUZZ_CHECK(err.status == (size > PL_BODY_MAX ? 413 : 400));
        FUZZ_CHECK(strcmp(err.code, pl_err_code(err.status)) == 0 && err.message[0]);
        return 0;
    }
    FUZZ_CHECK(size <= PL_BODY_MAX && json_is_object(obj));
    if (pl_msg_parse_publish(obj, &in, &err) != 0) {
        FUZZ_CHECK(err.status == 400 && strcmp(err.code, "bad_request") == 0 && err.message[0]);
    } else {
        check_accepted(&in);
    }
    json_decref(obj);
    return 0;
}
