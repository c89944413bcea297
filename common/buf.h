/* One bounded growable byte buffer for the whole tree: request bodies,
 * pages, parser lines, message fragments. It grows by doubling from a
 * first size, never past its bound, and keeps a NUL after the bytes so a
 * text in it is a C string. Single owner, no locking, no I/O. */
#ifndef PL_BUF_H
#define PL_BUF_H
#include <stddef.h>

typedef struct pl_buf {
    char *p;         /* NULL until the first append */
    size_t len, cap; /* bytes held; bytes allocated */
    size_t first;    /* the first allocation (0: 256 bytes) */
    size_t max;      /* the most bytes it may hold (0: no bound) */
} pl_buf;

/* An empty buffer, allocating nothing yet. Also valid: a zeroed pl_buf
 * (unbounded, 256 bytes first). */
void pl_buf_init(pl_buf *b, size_t first, size_t max);

/* Makes room for `extra` more bytes and the NUL. Returns 0, -EMSGSIZE
 * when the bound would be passed or -ENOMEM; the bytes held stay as they
 * are in both cases. */
int pl_buf_reserve(pl_buf *b, size_t extra);

/* Appends `n` bytes of `s`. Returns 0, -EMSGSIZE or -ENOMEM (then nothing
 * was appended). */
int pl_buf_append(pl_buf *b, const void *s, size_t n);

/* Forgets the bytes held, keeping the memory for reuse. */
static inline void pl_buf_clear(pl_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

/* The bytes as a C string ("" before the first append). */
static inline const char *pl_buf_str(const pl_buf *b) { return b->p ? b->p : ""; }

/* Hands the memory over to the caller (who frees it) and leaves `b` empty.
 * NULL when nothing was ever appended. */
char *pl_buf_take(pl_buf *b);

/* Frees the memory; the buffer is empty again and keeps its bounds. */
void pl_buf_free(pl_buf *b);

#endif
