/* The message codec; see message.h. Each message is serialized once, at
 * publish, so fan-out to thousands of subscribers only copies bytes. */
#include "message.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pl_msg_parse_body(const char *body, size_t len, json_t **out, pl_err *err)
{
    json_error_t jerr;
    if (len > PL_BODY_MAX)
        return pl_err_set(err, 413, "request body is over %d bytes", PL_BODY_MAX);
    json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return pl_err_set(err, 400, "invalid JSON: %s", jerr.text);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return pl_err_set(err, 400, "body must be a JSON object");
    }
    *out = obj;
    return 0;
}

/* Reads string field `key` of 1..max bytes into *s / *len. Absent is an
 * error only when `required`. */
static int get_string(json_t *obj, const char *key, size_t max, bool required, const char **s,
                      size_t *len, pl_err *err)
{
    json_t *v = json_object_get(obj, key);
    *s = NULL;
    *len = 0;
    if (!v)
        return required ? pl_err_set(err, 400, "%s is missing", key) : 0;
    if (!json_is_string(v))
        return pl_err_set(err, 400, "%s must be a string", key);
    *s = json_string_value(v);
    *len = json_string_length(v);
    if (*len == 0)
        return pl_err_set(err, 400, "%s is empty", key);
    if (*len > max)
        return pl_err_set(err, 400, "%s is over %zu bytes", key, max);
    /* jansson refuses invalid UTF-8 and \u0000 already; this guards the
     * contract should that ever change. */
    if (!pl_valid_utf8(*s, *len) || memchr(*s, '\0', *len))
        return pl_err_set(err, 400, "%s is not valid UTF-8", key);
    return 0;
}

int pl_msg_parse_publish(json_t *obj, pl_publish *out, pl_err *err)
{
    memset(out, 0, sizeof *out);
    if (get_string(obj, "user", PL_USER_MAX, true, &out->user, &out->user_len, err) ||
        get_string(obj, "text", PL_TEXT_MAX, true, &out->text, &out->text_len, err) ||
        get_string(obj, "cid", PL_CID_MAX, false, &out->cid, &out->cid_len, err))
        return -EINVAL;
    if (pl_has_control(out->user, out->user_len))
        return pl_err_set(err, 400, "user holds a control character");
    json_t *meta = json_object_get(obj, "meta");
    if (meta && !json_is_null(meta)) {
        if (!json_is_object(meta))
            return pl_err_set(err, 400, "meta must be a JSON object");
        size_t n = json_dumpb(meta, NULL, 0, JSON_COMPACT);
        if (n > PL_META_MAX)
            return pl_err_set(err, 400, "meta is over %d bytes", PL_META_MAX);
        out->meta = meta;
    }
    return 0;
}

uint64_t pl_cid_hash(const char *cid, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)cid[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

/* `o` serialized without its braces: "a":1,"b":2 (empty for {}). */
static char *inner_of(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    memmove(s, s + 1, n - 2);
    s[n - 2] = '\0';
    return s;
}

int pl_msg_fragments(const pl_publish *in, pl_msg_parts *out)
{
    json_t *head = json_object(), *tail = json_object();
    if (head) {
        json_object_set_new(head, "user", json_stringn(in->user, in->user_len));
        json_object_set_new(head, "text", json_stringn(in->text, in->text_len));
    }
    if (tail && in->cid)
        json_object_set_new(tail, "cid", json_stringn(in->cid, in->cid_len));
    if (tail && in->meta)
        json_object_set(tail, "meta", in->meta);
    out->head = inner_of(head);
    char *t = inner_of(tail);
    out->tail = NULL;
    if (t && (out->tail = malloc(strlen(t) + 2)))
        sprintf(out->tail, "%s%s", *t ? "," : "", t);
    free(t);
    if (!out->head || !out->tail) {
        pl_msg_parts_free(out);
        return -ENOMEM;
    }
    return 0;
}

void pl_msg_parts_free(pl_msg_parts *p)
{
    free(p->head);
    free(p->tail);
    p->head = p->tail = NULL;
}

char *pl_msg_join(const char *room, uint64_t id, int64_t ts, const pl_msg_parts *p)
{
    char *s;
    if (asprintf(&s, "{\"id\":%" PRIu64 ",\"room\":\"%s\",%s,\"ts\":%" PRId64 "%s}", id, room,
                 p->head, ts, p->tail) < 0)
        return NULL;
    return s;
}

#define WS_HEAD_MAX 10

/* Writes the header of a final, unmasked text frame of `len` bytes so that
 * it ends at `end`; returns where it begins. */
static unsigned char *ws_head_before(unsigned char *end, size_t len)
{
    int n = len < 126 ? 0 : len <= 0xffff ? 2 : 8;
    for (int i = 1; i <= n; i++)
        end[-i] = (unsigned char)(len >> (8 * (i - 1)));
    end[-n - 1] = (unsigned char)(len < 126 ? len : n == 2 ? 126 : 127);
    end[-n - 2] = 0x81; /* FIN, text */
    return end - n - 2;
}

/* The three encodings around `json` (taken), in one allocation. */
static pl_msg *wrap(char *json, uint64_t id, int64_t ts, const char *cid, size_t cid_len)
{
    size_t jlen = strlen(json);
    char idbuf[24];
    int idlen = snprintf(idbuf, sizeof idbuf, "%" PRIu64, id);
    static const char sse_mid[] = "\nevent: message\ndata: ";
    static const char ws_head[] = "{\"type\":\"message\",";
    size_t sse_len = 4 + (size_t)idlen + (sizeof sse_mid - 1) + jlen + 2;
    size_t ws_len = (sizeof ws_head - 1) + jlen - 1;
    size_t cid_size = cid ? cid_len + 1 : 0;
    pl_msg *m =
        malloc(sizeof *m + (jlen + 1) + (sse_len + 1) + WS_HEAD_MAX + (ws_len + 1) + cid_size);
    if (!m) {
        free(json);
        return NULL;
    }
    char *p = (char *)(m + 1);
    atomic_init(&m->refs, 1);
    m->id = id;
    m->ts = ts;
    m->json = p;
    m->json_len = jlen;
    memcpy(p, json, jlen + 1);
    p += jlen + 1;
    m->sse = p;
    m->sse_len = sse_len;
    p += sprintf(p, "id: %s%s%s\n\n", idbuf, sse_mid, json) + 1;
    p += WS_HEAD_MAX;
    m->ws_frame = ws_head_before((unsigned char *)p, ws_len);
    m->ws_frame_len = (size_t)((unsigned char *)p - m->ws_frame) + ws_len;
    m->ws = p;
    m->ws_len = ws_len;
    memcpy(p, ws_head, sizeof ws_head - 1);
    memcpy(p + sizeof ws_head - 1, json + 1, jlen); /* skips '{', keeps NUL */
    p += ws_len + 1;
    m->cid = NULL;
    m->cid_hash = 0;
    if (cid) {
        memcpy(p, cid, cid_len);
        p[cid_len] = '\0';
        m->cid = p;
        m->cid_hash = pl_cid_hash(cid, cid_len);
    }
    free(json);
    return m;
}

pl_msg *pl_msg_new(const char *room, uint64_t id, int64_t ts, const pl_publish *in)
{
    pl_msg_parts parts;
    if (pl_msg_fragments(in, &parts) != 0)
        return NULL;
    char *json = pl_msg_join(room, id, ts, &parts);
    pl_msg_parts_free(&parts);
    return json ? wrap(json, id, ts, in->cid, in->cid_len) : NULL;
}

pl_msg *pl_msg_from_json(const char *json, size_t len)
{
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *id = json_object_get(o, "id"), *ts = json_object_get(o, "ts");
    json_t *cid = json_object_get(o, "cid");
    pl_msg *m = NULL;
    if (json_is_integer(id) && json_integer_value(id) > 0 && json_is_integer(ts) &&
        (!cid || json_is_string(cid))) {
        char *copy = strndup(json, len);
        if (copy)
            m = wrap(copy, (uint64_t)json_integer_value(id), json_integer_value(ts),
                     cid ? json_string_value(cid) : NULL, cid ? json_string_length(cid) : 0);
    }
    json_decref(o);
    return m;
}

pl_msg *pl_msg_ref(pl_msg *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void pl_msg_unref(pl_msg *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}
