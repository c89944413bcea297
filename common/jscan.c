/* The member scanner; see jscan.h. One pass over the text: strings are
 * skipped escape by escape, containers with a stack of the brackets they
 * opened, scalars as a run of the characters a number or literal uses. */
#include "jscan.h"
#include <errno.h>
#include <string.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at the opening quote; returns just past the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL; /* control characters must be escaped */
        if (c == '\\' && ++p == end)
            return NULL;
    }
    return NULL;
}

/* p at '{' or '['; returns just past its matching bracket, or NULL. */
static const char *skip_container(const char *p, const char *end)
{
    char want[PL_JSCAN_DEPTH];
    size_t d = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            if (!(p = skip_string(p, end)))
                return NULL;
            continue;
        }
        if (c == '{' || c == '[') {
            if (d == PL_JSCAN_DEPTH)
                return NULL;
            want[d++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (d == 0 || want[--d] != c)
                return NULL;
            if (d == 0)
                return p + 1;
        }
        p++;
    }
    return NULL;
}

static bool scalar_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
}

/* Returns just past the value at p, or NULL. */
static const char *skip_value(const char *p, const char *end)
{
    if (p == end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[')
        return skip_container(p, end);
    const char *q = p;
    while (q < end && scalar_char(*q))
        q++;
    return q == p ? NULL : q;
}

static void note(const char *name, size_t name_len, pl_jspan v, const char *const *keys,
                 size_t nkeys, pl_jspan *out)
{
    for (size_t i = 0; i < nkeys; i++)
        if (strlen(keys[i]) == name_len && memcmp(keys[i], name, name_len) == 0)
            out[i] = v;
}

int pl_jscan_members(const char *json, size_t len, const char *const *keys, size_t nkeys,
                     pl_jspan *out)
{
    const char *end = json + len, *p = skip_ws(json, end);
    memset(out, 0, nkeys * sizeof *out);
    if (p == end || *p++ != '{')
        return -EINVAL;
    p = skip_ws(p, end);
    if (p < end && *p == '}')
        return skip_ws(p + 1, end) == end ? 0 : -EINVAL;
    for (;;) {
        const char *name = p;
        if (p == end || *p != '"' || !(p = skip_string(p, end)))
            return -EINVAL;
        size_t name_len = (size_t)(p - name) - 2;
        p = skip_ws(p, end);
        if (p == end || *p++ != ':')
            return -EINVAL;
        const char *v = skip_ws(p, end);
        if (!(p = skip_value(v, end)))
            return -EINVAL;
        note(name + 1, name_len, (pl_jspan){v, (size_t)(p - v)}, keys, nkeys, out);
        p = skip_ws(p, end);
        if (p == end)
            return -EINVAL;
        if (*p == '}')
            return skip_ws(p + 1, end) == end ? 0 : -EINVAL;
        if (*p++ != ',')
            return -EINVAL;
        p = skip_ws(p, end);
    }
}

int pl_jscan_next(pl_jspan arr, const char **at, pl_jspan *elem)
{
    const char *end = arr.p + arr.n, *p = *at;
    if (arr.n < 2 || arr.p[0] != '[' || end[-1] != ']')
        return -EINVAL;
    end--; /* the closing bracket */
    if (!p) {
        p = skip_ws(arr.p + 1, end);
        if (p == end)
            return 0;
    } else {
        p = skip_ws(p, end);
        if (p == end)
            return 0;
        if (*p++ != ',')
            return -EINVAL;
        p = skip_ws(p, end);
    }
    const char *v = p;
    if (!(p = skip_value(v, end)))
        return -EINVAL;
    *elem = (pl_jspan){v, (size_t)(p - v)};
    *at = p;
    return 1;
}

int pl_jscan_uint(pl_jspan v, uint64_t *out)
{
    uint64_t x = 0;
    if (v.n == 0 || v.n > 19 || (v.n > 1 && v.p[0] == '0'))
        return -EINVAL;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -EINVAL;
        x = x * 10 + (uint64_t)(v.p[i] - '0');
    }
    if (x > (uint64_t)INT64_MAX)
        return -EINVAL;
    *out = x;
    return 0;
}

bool pl_jscan_string_is(pl_jspan v, const char *s)
{
    size_t n = strlen(s);
    return v.n == n + 2 && v.p[0] == '"' && v.p[n + 1] == '"' && memcmp(v.p + 1, s, n) == 0;
}
