/* A subscription with no loop and no connection, for the client fuzzers:
 * what the transports hand to pl_sub_deliver_obj() goes through the real
 * cursor code, and a plain model of the protocol's rule checks each call:
 * an id at or below the cursor is a duplicate and dropped, an id past
 * cursor + 1 is reported as exactly the missing range, then delivered. */
#ifndef PL_FUZZ_SUB_H
#define PL_FUZZ_SUB_H
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include "client_internal.h"
#include "fuzz.h"

typedef struct fuzz_model {
    uint64_t cursor;              /* the model's own cursor */
    uint64_t gap_first, gap_last; /* the gap the core reported, 0 when none */
    uint64_t delivered_id;        /* id of the last on_message */
    int messages, gaps;           /* callbacks in the current call */
} fuzz_model;

static void fuzz_on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    fuzz_model *fm = ud;
    (void)s;
    FUZZ_CHECK(m->user && m->text && m->room);
    fm->delivered_id = m->id;
    fm->messages++;
}

static void fuzz_on_gap(pl_sub *s, uint64_t first, uint64_t last, void *ud)
{
    fuzz_model *fm = ud;
    (void)s;
    fm->gap_first = first;
    fm->gap_last = last;
    fm->gaps++;
}

static inline pl_sub *fuzz_sub_new(fuzz_model *fm, uint64_t cursor)
{
    static char room[] = "fuzz";
    pl_sub *s = calloc(1, sizeof *s);
    FUZZ_CHECK(s);
    memset(fm, 0, sizeof *fm);
    s->room = room;
    s->cursor = fm->cursor = cursor;
    s->o.cb.on_message = fuzz_on_message;
    s->o.cb.on_gap = fuzz_on_gap;
    s->o.ud = fm;
    return s;
}

/* Hands a message to the core as a transport does: the text `data` (SSE)
 * when given, else the object `obj` it parsed (WebSocket). Either may be
 * no message at all. Checks what the core did against the model. */
static inline void fuzz_sub_deliver(pl_sub *s, fuzz_model *fm, json_t *obj, const char *data,
                                    size_t len)
{
    json_t *jid = json_object_get(obj, "id");
    bool valid = json_is_integer(jid) && json_integer_value(jid) > 0;
    uint64_t id = valid ? (uint64_t)json_integer_value(jid) : 0;
    uint64_t dups = s->ctr.duplicates, msgs = s->ctr.messages, gaps = s->ctr.gaps;
    fm->messages = fm->gaps = 0;
    fm->gap_first = fm->gap_last = 0;

    int rc = data ? pl_sub_deliver_json(s, data, len) : pl_sub_deliver_obj(s, obj);

    if (!valid) {
        FUZZ_CHECK(rc == -EPROTO && fm->messages == 0 && fm->gaps == 0);
        FUZZ_CHECK(s->cursor == fm->cursor);
        return;
    }
    FUZZ_CHECK(rc == 0);
    if (id <= fm->cursor) {
        FUZZ_CHECK(fm->messages == 0 && fm->gaps == 0 && s->ctr.duplicates == dups + 1);
        FUZZ_CHECK(s->cursor == fm->cursor);
        return;
    }
    if (id > fm->cursor + 1) {
        FUZZ_CHECK(fm->gaps == 1 && s->ctr.gaps == gaps + 1);
        FUZZ_CHECK(fm->gap_first == fm->cursor + 1 && fm->gap_last == id - 1);
    } else {
        FUZZ_CHECK(fm->gaps == 0 && s->ctr.gaps == gaps);
    }
    FUZZ_CHECK(fm->messages == 1 && fm->delivered_id == id && s->ctr.messages == msgs + 1);
    FUZZ_CHECK(s->cursor == id);
    fm->cursor = id;
}

#endif
