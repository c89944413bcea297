/* Fuzz target: common/jscan against jansson on the same text. Whatever
 * the input, the scan ends without reading past it; on a text jansson
 * reads as an object (without \u escapes, whose names the scan compares
 * unescaped by design, and NUL bytes, which jansson skips between tokens
 * and the scan refuses), the scan accepts it and every member it reports
 * is the one jansson holds, an array member's elements are jansson's
 * (pl_jscan_next), and an integer it reads is jansson's. */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include "fuzz.h"
#include "jscan.h"

static const char *const keys[] = {"id", "meta", "type", ""};
#define NKEYS (sizeof keys / sizeof *keys)

/* An array member walked with pl_jscan_next: jansson's elements, in order. */
static void compare_elements(json_t *want, pl_jspan arr)
{
    const char *at = NULL;
    pl_jspan e;
    size_t i = 0;
    int rc;
    while ((rc = pl_jscan_next(arr, &at, &e)) == 1) {
        json_t *got = json_loadb(e.p, e.n, JSON_DECODE_ANY, NULL);
        FUZZ_CHECK(got && json_equal(json_array_get(want, i++), got));
        json_decref(got);
    }
    FUZZ_CHECK(rc == 0 && i == json_array_size(want));
}

static void compare(json_t *o, const pl_jspan *v)
{
    for (size_t i = 0; i < NKEYS; i++) {
        json_t *want = json_object_get(o, keys[i]);
        FUZZ_CHECK((want == NULL) == (v[i].n == 0));
        if (!want)
            continue;
        json_t *got = json_loadb(v[i].p, v[i].n, JSON_DECODE_ANY, NULL);
        FUZZ_CHECK(got && json_equal(want, got));
        json_decref(got);
        if (json_is_array(want))
            compare_elements(want, v[i]);
        uint64_t x;
        if (pl_jscan_uint(v[i], &x) == 0)
            FUZZ_CHECK(json_is_integer(want) && (uint64_t)json_integer_value(want) == x);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes: ASan catches a read past the end. */
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    pl_jspan v[NKEYS];
    int rc = pl_jscan_members(text, size, keys, NKEYS, v);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    json_t *o = json_loadb(text, size, 0, NULL);
    if (json_is_object(o) && !memmem(text, size, "\\u", 2) && !memchr(text, 0, size)) {
        FUZZ_CHECK(rc == 0);
        compare(o, v);
    }
    json_decref(o);
    free(text);
    return 0;
}
