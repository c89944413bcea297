/* Bench meta encode/decode; see meta.h. A lean subscription hands over
 * the meta object's text, read by one scan; a full one the object it
 * parsed, read by three hash look-ups. */
#include "meta.h"
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include "jscan.h"

size_t pl_meta_format(char *buf, size_t len, const pl_meta *m)
{
    int n = snprintf(buf, len,
                     "{\"seq\":%" PRIu64 ",\"intended_us\":%" PRId64 ",\"sent_us\":%" PRId64 "}",
                     m->seq, m->intended_us, m->sent_us);
    return n < 0 ? 0 : (size_t)n;
}

/* The non-negative integer under `key`, or -1. */
static int64_t field(const json_t *meta, const char *key)
{
    const json_t *v = json_object_get(meta, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    return json_integer_value(v);
}

int pl_meta_parse(const json_t *meta, pl_meta *out)
{
    if (!json_is_object(meta))
        return -EINVAL;
    int64_t seq = field(meta, "seq");
    int64_t intended = field(meta, "intended_us");
    int64_t sent = field(meta, "sent_us");
    if (seq < 0 || intended < 0 || sent < 0)
        return -EINVAL;
    out->seq = (uint64_t)seq;
    out->intended_us = intended;
    out->sent_us = sent;
    return 0;
}

int pl_meta_scan(const char *meta, size_t len, pl_meta *out)
{
    static const char *const keys[] = {"seq", "intended_us", "sent_us"};
    pl_jspan v[3];
    uint64_t seq, intended, sent;
    if (!meta || pl_jscan_members(meta, len, keys, 3, v) != 0 || pl_jscan_uint(v[0], &seq) != 0 ||
        pl_jscan_uint(v[1], &intended) != 0 || pl_jscan_uint(v[2], &sent) != 0)
        return -EINVAL;
    out->seq = seq;
    out->intended_us = (int64_t)intended;
    out->sent_us = (int64_t)sent;
    return 0;
}

int pl_meta_scan_body(const char *body, size_t len, pl_meta *out)
{
    static const char *const keys[] = {"meta"};
    pl_jspan v;
    if (!body || pl_jscan_members(body, len, keys, 1, &v) != 0)
        return -EINVAL;
    return pl_meta_scan(v.p, v.n, out);
}
