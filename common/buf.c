/* The bounded growable buffer; see buf.h. Owns only the memory of the
 * buffers it is given; touches nothing else. */
#include "buf.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pl_buf_init(pl_buf *b, size_t first, size_t max) { *b = (pl_buf){.first = first, .max = max}; }

int pl_buf_reserve(pl_buf *b, size_t extra)
{
    if (b->max && (extra > b->max || b->len > b->max - extra))
        return -EMSGSIZE;
    size_t need = b->len + extra + 1; /* room for the NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : b->first ? b->first : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int pl_buf_append(pl_buf *b, const void *s, size_t n)
{
    int rc = pl_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

char *pl_buf_take(pl_buf *b)
{
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void pl_buf_free(pl_buf *b) { free(pl_buf_take(b)); }
