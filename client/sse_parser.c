/* WHATWG EventSource stream parsing: line splitting across reads (CR, LF,
 * CRLF, with a CRLF split between two reads counted once), the leading
 * BOM, and the field rules. No I/O; see sse.c for the transport. */
#include "sse_parser.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SSE_DEFAULT_MAX (64 * 1024)

static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

/* Replaces what `b` holds by `n` bytes of `s`. */
static int buf_set(pl_buf *b, const char *s, size_t n)
{
    b->len = 0;
    return pl_buf_append(b, s, n);
}

void pl_sse_parser_init(pl_sse_parser *p, size_t max_line, const pl_sse_parser_callbacks *cb,
                        void *ud)
{
    memset(p, 0, sizeof *p);
    if (!max_line)
        max_line = SSE_DEFAULT_MAX;
    pl_buf *bufs[] = {&p->line, &p->data, &p->type, &p->id};
    for (size_t i = 0; i < 4; i++)
        pl_buf_init(bufs[i], 128, max_line);
    p->cb = *cb;
    p->ud = ud;
}

void pl_sse_parser_free(pl_sse_parser *p)
{
    pl_buf *bufs[] = {&p->line, &p->data, &p->type, &p->id};
    for (size_t i = 0; i < 4; i++)
        pl_buf_free(bufs[i]);
    p->bom_seen = 0;
    p->after_cr = false;
}

void pl_sse_parser_reset_stream(pl_sse_parser *p)
{
    p->line.len = p->data.len = p->type.len = 0;
    p->bom_seen = 0;
    p->after_cr = false;
}

static void dispatch(pl_sse_parser *p)
{
    if (p->data.len == 0) {
        p->type.len = 0;
        return;
    }
    p->data.len--; /* the "\n" after the last data line */
    p->data.p[p->data.len] = '\0';
    pl_sse_parser_event ev = {
        .type = p->type.len ? p->type.p : "message",
        .type_len = p->type.len ? p->type.len : 7,
        .data = p->data.p,
        .data_len = p->data.len,
        .id = p->id.len ? p->id.p : "",
        .id_len = p->id.len,
    };
    p->data.len = 0;
    p->type.len = 0;
    if (p->cb.on_event)
        p->cb.on_event(p->ud, &ev);
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int field(pl_sse_parser *p, const char *name, size_t nlen, const char *v, size_t vlen)
{
    if (nlen == 4 && memcmp(name, "data", 4) == 0) {
        int rc = pl_buf_append(&p->data, v, vlen);
        return rc ? rc : pl_buf_append(&p->data, "\n", 1);
    }
    if (nlen == 5 && memcmp(name, "event", 5) == 0)
        return buf_set(&p->type, v, vlen);
    if (nlen == 2 && memcmp(name, "id", 2) == 0) {
        if (memchr(v, '\0', vlen))
            return 0; /* the spec ignores an id holding NUL */
        return buf_set(&p->id, v, vlen);
    }
    if (nlen == 5 && memcmp(name, "retry", 5) == 0 && all_digits(v, vlen)) {
        uint64_t ms = 0;
        for (size_t i = 0; i < vlen && ms < UINT64_MAX / 10 - 10; i++)
            ms = ms * 10 + (uint64_t)(v[i] - '0');
        if (p->cb.on_retry)
            p->cb.on_retry(p->ud, ms);
    }
    return 0; /* unknown fields are ignored */
}

static int line(pl_sse_parser *p, const char *s, size_t n)
{
    if (n == 0) {
        dispatch(p);
        return 0;
    }
    if (s[0] == ':') {
        if (p->cb.on_comment)
            p->cb.on_comment(p->ud);
        return 0;
    }
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return field(p, s, n, "", 0);
    size_t nlen = (size_t)(colon - s);
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    return field(p, s, nlen, v, vlen);
}

/* Consumes the leading BOM, which may itself be split across reads. A
 * partial match that then differs is handed back as ordinary bytes. */
static int skip_bom(pl_sse_parser *p, const char **buf, size_t *n)
{
    while (p->bom_seen < 3 && *n) {
        if ((unsigned char)**buf != bom[p->bom_seen]) {
            size_t had = p->bom_seen;
            p->bom_seen = 3;
            return had ? pl_buf_append(&p->line, (const char *)bom, had) : 0;
        }
        p->bom_seen++;
        (*buf)++;
        (*n)--;
    }
    return 0;
}

static const char *find_eol(const char *s, const char *end)
{
    for (; s < end; s++)
        if (*s == '\n' || *s == '\r')
            return s;
    return NULL;
}

int pl_sse_parser_feed(pl_sse_parser *p, const char *buf, size_t n)
{
    int rc = skip_bom(p, &buf, &n);
    if (rc)
        return rc;
    const char *end = buf + n;
    if (p->after_cr && buf < end) {
        p->after_cr = false;
        if (*buf == '\n')
            buf++;
    }
    while (buf < end) {
        const char *eol = find_eol(buf, end);
        if (!eol)
            return pl_buf_append(&p->line, buf, (size_t)(end - buf));
        if (p->line.len) { /* the line started in an earlier read */
            if ((rc = pl_buf_append(&p->line, buf, (size_t)(eol - buf))))
                return rc;
            size_t len = p->line.len;
            p->line.len = 0;
            rc = line(p, p->line.p, len);
        } else if ((size_t)(eol - buf) > p->line.max) {
            return -EMSGSIZE; /* as if it had come in pieces and been buffered */
        } else {
            rc = line(p, buf, (size_t)(eol - buf));
        }
        if (rc)
            return rc;
        buf = eol + 1;
        if (*eol == '\r') {
            if (buf == end)
                p->after_cr = true;
            else if (*buf == '\n')
                buf++;
        }
    }
    return 0;
}
