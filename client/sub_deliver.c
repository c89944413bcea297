/* Delivery, the subscription's half that every transport's messages go
 * through: the cursor rule (cursor.c) on each id and on each page's
 * last_id, then the user's on_gap, on_message and, for a restarted
 * server, on_state. Touches the sub's cursor and counters only; calls
 * cursor.c and proto.c, never back into sub.c. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include "client_internal.h"
#include "cursor.h"

bool pl_sub_page_head(pl_sub *s, uint64_t last_id)
{
    /* A trimmed history shows as an id jump in the messages. */
    if (s->new_only) {
        s->new_only = false;
        s->cursor = last_id;
        return false;
    }
    pl_cursor_step st = pl_cursor_next(s->cursor, PL_CURSOR_LAST_ID, last_id);
    if (st.verdict == PL_CURSOR_RESTART) {
        char detail[96];
        snprintf(detail, sizeof detail, "server last_id %llu < cursor %llu: resuming from 0",
                 (unsigned long long)last_id, (unsigned long long)s->cursor);
        s->cursor = st.cursor;
        if (s->o.cb.on_state && !s->closed)
            s->o.cb.on_state(s, PL_SUB_RESTARTED, detail, NULL, s->o.ud);
        return false;
    }
    return true;
}

/* The cursor rule for message `id`: 1 when it is to be delivered (the
 * cursor now at it), 0 for a duplicate, -ECANCELED once closed. */
static int step(pl_sub *s, uint64_t id)
{
    if (s->closed)
        return -ECANCELED;
    pl_cursor_step st = pl_cursor_next(s->cursor, PL_CURSOR_MESSAGE, id);
    if (st.verdict == PL_CURSOR_DUPLICATE) {
        s->ctr.duplicates++;
        return 0;
    }
    if (st.verdict == PL_CURSOR_GAP) {
        s->ctr.gaps++;
        s->cursor = st.last;
        if (s->o.cb.on_gap)
            s->o.cb.on_gap(s, st.first, st.last, s->o.ud);
        if (s->closed)
            return -ECANCELED;
    }
    s->cursor = st.cursor;
    s->ctr.messages++;
    return 1;
}

int pl_sub_deliver_obj(pl_sub *s, void *obj)
{
    uint64_t id;
    if (pl_proto_message_id(obj, &id) != 0)
        return -EPROTO;
    int rc = step(s, id);
    if (rc <= 0 || !s->o.cb.on_message)
        return rc < 0 ? rc : 0;
    pl_client_msg m;
    pl_proto_message(obj, id, s->room, &m);
    s->o.cb.on_message(s, &m, s->o.ud);
    return s->closed ? -ECANCELED : 0;
}

bool pl_sub_deliver_lean(pl_sub *s, const char *json, size_t len, bool want_type)
{
    uint64_t id;
    const char *meta;
    size_t meta_len;
    if (pl_proto_lean_message(json, len, want_type, &id, &meta, &meta_len) != 0)
        return false;
    if (step(s, id) <= 0 || !s->o.cb.on_message)
        return true;
    pl_client_msg m = {.id = id,
                       .room = s->room,
                       .user = "",
                       .text = "",
                       .meta_raw = meta,
                       .meta_raw_len = meta_len};
    s->o.cb.on_message(s, &m, s->o.ud);
    return true;
}

int pl_sub_deliver_json(pl_sub *s, const char *json, size_t len)
{
    json_t *o = json_loadb(json, len, 0, NULL);
    if (!o)
        return -EPROTO;
    int rc = pl_sub_deliver_obj(s, o);
    json_decref(o);
    return rc;
}

int pl_sub_deliver_raw(pl_sub *s, const char *body, size_t len)
{
    if (s->closed)
        return -ECANCELED;
    s->cursor++;
    s->ctr.messages++;
    if (!s->o.cb.on_message)
        return 0;
    pl_client_msg m = {.id = s->cursor, .room = s->room, .user = "", .text = body, .text_len = len};
    s->o.cb.on_message(s, &m, s->o.ud);
    return s->closed ? -ECANCELED : 0;
}
