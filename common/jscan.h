/* A few members of a JSON object found without building it: for hot paths
 * that need two or three fields of a message and ignore the rest (the
 * bench's deliveries, where a jansson tree per message was a third of its
 * CPU). It checks the object's shape (strings, escapes, nesting, nothing
 * after it), not every token: whoever needs a validated document parses
 * it with jansson. No allocation, no state; any thread. */
#ifndef PL_JSCAN_H
#define PL_JSCAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_JSCAN_DEPTH 32 /* nesting under the top-level object */

/* A value's bytes inside the scanned text; n == 0: absent. */
typedef struct pl_jspan {
    const char *p;
    size_t n;
} pl_jspan;

/* Scans the object json[0..len) for its top-level members named keys[i]
 * (compared byte for byte: a name written with escapes does not match)
 * and sets out[i] to each one's value, or {NULL, 0}; a repeated name
 * keeps the last, as jansson does. Returns 0, or -EINVAL when the text is
 * not one object with only whitespace around it, or nests deeper than
 * PL_JSCAN_DEPTH. */
int pl_jscan_members(const char *json, size_t len, const char *const *keys, size_t nkeys,
                     pl_jspan *out);

/* Steps through the elements of the array `arr` (a member's span, which
 * pl_jscan_members has already bracket-matched): *at starts at NULL and
 * is moved past each element. Returns 1 with *elem, 0 after the last, or
 * -EINVAL when `arr` is no array or an element is not one value. */
int pl_jscan_next(pl_jspan arr, const char **at, pl_jspan *elem);

/* A value that is a plain non-negative integer (digits only) below 2^63,
 * the range of a jansson integer. Returns 0 and *out, or -EINVAL. */
int pl_jscan_uint(pl_jspan v, uint64_t *out);

/* Whether `v` is the JSON string `s` written without escapes. */
bool pl_jscan_string_is(pl_jspan v, const char *s);

#endif
