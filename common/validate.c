/* Input rules of the wire protocol; see validate.h. Pure functions over
 * the caller's bytes: no state, no allocation. */
#include "validate.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

bool pl_valid_room(const char *s, size_t len)
{
    if (len < 1 || len > PL_ROOM_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Length of the UTF-8 sequence starting at s[i] if it is well formed, else 0. */
static size_t utf8_seq(const unsigned char *s, size_t i, size_t len)
{
    unsigned c = s[i];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else
        return 0;
    if (i + n > len)
        return 0;
    unsigned cp = c & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

bool pl_valid_utf8(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(u, i, len);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool pl_has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)
            return true;
    }
    return false;
}

int pl_parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > PL_INT_MAX)
            return -EINVAL;
    }
    *out = v;
    return 0;
}

int pl_heartbeat_clamp(uint64_t asked_s, int min_s, int max_s)
{
    if (asked_s < (uint64_t)min_s)
        return min_s;
    return asked_s > (uint64_t)max_s ? max_s : (int)asked_s;
}
