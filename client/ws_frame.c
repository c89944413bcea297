/* WebSocket message joining and classification; see ws_frame.h. Owns
 * the join buffer it is given; no I/O, no state of its own. */
#include "ws_frame.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pl_ws_frame_rx_add(pl_ws_frame_rx *rx, const char *in, size_t len, bool whole, size_t max,
                       const char **msg, size_t *n)
{
    pl_buf *b = &rx->buf;
    if (whole && b->len == 0) { /* the usual case: no copy, no buffer */
        *msg = in;
        *n = len;
        return 1;
    }
    b->first = 4096;
    b->max = max;
    int rc = pl_buf_append(b, in, len);
    if (rc) {
        b->len = 0;
        return rc;
    }
    if (!whole)
        return 0;
    *msg = b->p;
    *n = b->len;
    b->len = 0; /* empty for the next message; the bytes stay readable until then */
    return 1;
}

void pl_ws_frame_rx_free(pl_ws_frame_rx *rx) { pl_buf_free(&rx->buf); }

void pl_ws_frame_parse(const char *p, size_t n, pl_ws_frame *f)
{
    memset(f, 0, sizeof *f);
    if (n == 4 && memcmp(p, "pong", 4) == 0) {
        f->kind = PL_WS_FRAME_PONG;
        return;
    }
    f->obj = json_loadb(p, n, 0, NULL);
    const char *type = json_string_value(json_object_get(f->obj, "type"));
    if (!type) {
        f->kind = PL_WS_FRAME_BAD;
        json_decref(f->obj);
        f->obj = NULL;
    } else if (strcmp(type, "message") == 0) {
        f->kind = PL_WS_FRAME_MESSAGE;
    } else if (strcmp(type, "ack") == 0) {
        json_t *id = json_object_get(f->obj, "id");
        f->kind = PL_WS_FRAME_ACK;
        f->id = json_is_integer(id) && json_integer_value(id) > 0 ? (uint64_t)json_integer_value(id)
                                                                  : 0;
    } else if (strcmp(type, "error") == 0) {
        const char *code = json_string_value(json_object_get(f->obj, "code"));
        const char *text = json_string_value(json_object_get(f->obj, "message"));
        f->kind = PL_WS_FRAME_ERROR;
        f->code = code ? code : "error";
        f->text = text ? text : "";
    } else {
        f->kind = PL_WS_FRAME_OTHER;
    }
}

void pl_ws_frame_free(pl_ws_frame *f)
{
    json_decref(f->obj);
    f->obj = NULL;
}
