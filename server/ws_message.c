/* A client's WebSocket message and its answer; see ws_message.h.
 * Touches only the counters, `out` and what the caller hands in. */
#include "ws_message.h"
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include "backend.h"
#include "message.h"

/* Writes `obj` (a reference taken; NULL means no memory) into `out`. */
static int dump(json_t *obj, char *out)
{
    size_t len = obj ? json_dumpb(obj, out, PL_WS_ANSWER_MAX, JSON_COMPACT) : 0;
    json_decref(obj);
    return len == 0 || len > PL_WS_ANSWER_MAX ? -ENOMEM : (int)len;
}

int pl_ws_message_error(pl_stats *st, const pl_err *err, char *out)
{
    pl_stat_add(&st->errors[PL_ERR_WS_FRAME], 1);
    pl_stat_add(&st->errors_at[PL_SEP_WS][PL_ERR_WS_FRAME], 1);
    return dump(
        json_pack("{s:s, s:s, s:s}", "type", "error", "code", err->code, "message", err->message),
        out);
}

int pl_ws_message_stored(pl_stats *st, int rc, const pl_msg *m, bool dup, char *out)
{
    pl_err err;
    if (rc != 0) {
        pl_stat_add(&st->publishes.refused, 1);
        pl_backend_err(&err, rc);
        return pl_ws_message_error(st, &err, out);
    }
    pl_stat_add(dup ? &st->publishes.duplicate : &st->publishes.stored, 1);
    pl_stat_add(&st->ws.messages_in, 1);
    json_t *ack = json_pack("{s:s, s:I}", "type", "ack", "id", (json_int_t)m->id);
    if (ack && m->cid)
        json_object_set_new(ack, "cid", json_string(m->cid));
    return dump(ack, out);
}

int pl_ws_message_read(pl_stats *st, const char *in, size_t len, char *out, pl_publish *pub,
                       json_t **hold)
{
    json_t *obj;
    pl_err err;
    *hold = NULL;
    if (len == 4 && memcmp(in, "ping", 4) == 0) {
        memcpy(out, "pong", 4);
        return 4;
    }
    if (pl_msg_parse_body(in, len, &obj, &err) != 0)
        return pl_ws_message_error(st, &err, out);
    const char *type = json_string_value(json_object_get(obj, "type"));
    int rc;
    if (!type) {
        pl_err_set(&err, 400, "\"type\" must be a string");
        rc = pl_ws_message_error(st, &err, out);
    } else if (strcmp(type, "publish") == 0) {
        if (pl_msg_parse_publish(obj, pub, &err) == 0) {
            *hold = obj; /* pub's strings are obj's */
            return 0;
        }
        pl_stat_add(&st->publishes.refused, 1);
        rc = pl_ws_message_error(st, &err, out);
    } else if (strcmp(type, "ping") == 0) {
        rc = dump(json_pack("{s:s}", "type", "pong"), out);
    } else {
        pl_err_set(&err, 400, "unknown type \"%.64s\"", type);
        rc = pl_ws_message_error(st, &err, out);
    }
    json_decref(obj);
    return rc;
}
