/* Shared by the libFuzzer targets in tests/fuzz: a check that aborts (so
 * libFuzzer saves the input that broke it) and a byte reader that turns
 * the fuzzer's input into choices. */
#ifndef PL_FUZZ_H
#define PL_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Reads the input front to back; past its end every read is 0. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline uint8_t fuzz_u8(fuzz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* Up to `max` bytes (fewer at the end of the input); returns how many. */
static inline size_t fuzz_bytes(fuzz_in *in, size_t max, const uint8_t **out)
{
    size_t n = max < in->n ? max : in->n;
    *out = in->p;
    in->p += n;
    in->n -= n;
    return n;
}

#endif
