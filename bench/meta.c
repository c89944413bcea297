/* Bench meta encode/decode; see meta.h. A key scan instead of a JSON
 * parser: the bench wrote the object itself, and a full parse per delivery
 * would cost more than the rest of the bookkeeping. */
#include "meta.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

size_t pl_meta_format(char *buf, size_t len, const pl_meta *m)
{
    int n = snprintf(buf, len,
                     "{\"seq\":%" PRIu64 ",\"intended_us\":%" PRId64 ",\"sent_us\":%" PRId64 "}",
                     m->seq, m->intended_us, m->sent_us);
    return n < 0 ? 0 : (size_t)n;
}

/* The non-negative integer after "key": in text, or -1. */
static int64_t field(const char *text, size_t len, const char *key)
{
    size_t klen = strlen(key);
    const char *end = text + len;
    for (const char *p = text; p + klen + 2 < end; p++) {
        if (*p != '"' || memcmp(p + 1, key, klen) != 0 || p[klen + 1] != '"')
            continue;
        p += klen + 2;
        while (p < end && (*p == ' ' || *p == ':'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return -1;
        int64_t v = 0;
        for (int digits = 0; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits == 18)
                return -1;
            v = v * 10 + (*p - '0');
        }
        return v;
    }
    return -1;
}

int pl_meta_parse(const char *text, size_t len, pl_meta *out)
{
    if (!text)
        return -EINVAL;
    int64_t seq = field(text, len, "seq");
    int64_t intended = field(text, len, "intended_us");
    int64_t sent = field(text, len, "sent_us");
    if (seq < 0 || intended < 0 || sent < 0)
        return -EINVAL;
    out->seq = (uint64_t)seq;
    out->intended_us = intended;
    out->sent_us = sent;
    return 0;
}
