/* Fuzz target: the client's Server-Sent Events path. The input (after a
 * byte choosing the line bound) is a stream as a server might send it. It
 * is parsed three times, whole, byte by byte and in chunks the input
 * chooses, and the three transcripts (events, retry fields, comments, the
 * error) must match: the parser may not depend on how TCP split the bytes.
 * Each `message` event then goes to the real cursor code (fuzz_sub.h). */
#include <errno.h>
#include <string.h>
#include "fuzz.h"
#include "fuzz_sub.h"
#include "sse_parser.h"

/* What one parse saw, as text: easy to compare, easy to print. */
typedef struct transcript {
    char *p;
    size_t len, cap;
    int rc;
    int events;
} transcript;

static void put(transcript *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        FUZZ_CHECK(t->p);
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void on_event(void *ud, const pl_sse_parser_event *ev)
{
    transcript *t = ud;
    char head[96];
    /* The callback's strings are NUL-terminated at their stated length. */
    FUZZ_CHECK(ev->type[ev->type_len] == '\0' && ev->data[ev->data_len] == '\0' &&
               ev->id[ev->id_len] == '\0');
    FUZZ_CHECK(ev->type_len > 0);
    int n = snprintf(head, sizeof head, "E %zu %zu %zu\n", ev->type_len, ev->data_len, ev->id_len);
    put(t, head, (size_t)n);
    put(t, ev->type, ev->type_len);
    put(t, ev->data, ev->data_len);
    put(t, ev->id, ev->id_len);
    t->events++;
}

static void on_retry(void *ud, uint64_t ms)
{
    char line[40];
    int n = snprintf(line, sizeof line, "R %llu\n", (unsigned long long)ms);
    put(ud, line, (size_t)n);
}

static void on_comment(void *ud) { put(ud, "C\n", 2); }

static const pl_sse_parser_callbacks cb = {on_event, on_retry, on_comment};

/* Parses `data` fed in pieces of the sizes `split` returns; stops at the
 * first error, as the client does (it drops the stream). */
static void parse(const uint8_t *data, size_t size, size_t max_line, transcript *t,
                  size_t (*split)(size_t at, void *ud), void *ud)
{
    pl_sse_parser p;
    memset(t, 0, sizeof *t);
    pl_sse_parser_init(&p, max_line, &cb, t);
    for (size_t at = 0; at < size && t->rc == 0;) {
        size_t n = split(at, ud);
        if (n > size - at)
            n = size - at;
        t->rc = pl_sse_parser_feed(&p, (const char *)data + at, n);
        at += n;
    }
    pl_sse_parser_free(&p);
}

static size_t whole(size_t at, void *ud)
{
    (void)at;
    (void)ud;
    return SIZE_MAX;
}

static size_t bytewise(size_t at, void *ud)
{
    (void)at;
    (void)ud;
    return 1;
}

/* Chunk sizes 1..16 taken from the input itself. */
static size_t chunked(size_t at, void *ud)
{
    const fuzz_in *sizes = ud;
    return sizes->n ? 1 + (sizes->p[at % sizes->n] & 15) : 1;
}

/* Delivers each `message` event as the SSE transport does. */
static void deliver(void *ud, const pl_sse_parser_event *ev)
{
    void **ctx = ud;
    if (ev->type_len != 7 || memcmp(ev->type, "message", 7) != 0)
        return;
    json_t *obj = json_loadb(ev->data, ev->data_len, 0, NULL);
    fuzz_sub_deliver(ctx[0], ctx[1], obj, ev->data, ev->data_len);
    json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    size_t max_line = (size_t)16 << (fuzz_u8(&in) & 7); /* 16 .. 2048 bytes */
    transcript a, b, c;
    parse(in.p, in.n, max_line, &a, whole, NULL);
    parse(in.p, in.n, max_line, &b, bytewise, NULL);
    parse(in.p, in.n, max_line, &c, chunked, &in);
    FUZZ_CHECK(a.rc == b.rc && a.rc == c.rc);
    FUZZ_CHECK(a.rc == 0 || a.rc == -EMSGSIZE);
    FUZZ_CHECK(a.len == b.len && a.len == c.len);
    FUZZ_CHECK(a.len == 0 || (memcmp(a.p, b.p, a.len) == 0 && memcmp(a.p, c.p, a.len) == 0));
    free(a.p);
    free(b.p);
    free(c.p);

    /* The same stream through the subscription's cursor. */
    fuzz_model fm;
    pl_sub *s = fuzz_sub_new(&fm, 0);
    void *ctx[2] = {s, &fm};
    pl_sse_parser_callbacks dcb = {.on_event = deliver};
    pl_sse_parser p;
    pl_sse_parser_init(&p, max_line, &dcb, ctx);
    pl_sse_parser_feed(&p, (const char *)in.p, in.n);
    pl_sse_parser_free(&p);
    free(s);
    return 0;
}
