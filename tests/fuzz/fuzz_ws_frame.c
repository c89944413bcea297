/* Fuzz target: the client's handling of WebSocket messages from a server.
 * The input is a bound (one byte) and then fragments, each a flags byte
 * (bit 0: the message ends here), a length byte and that many bytes.
 * Fragments are joined as ws.c joins them (pl_ws_frame_rx_add), each whole
 * message is classified (pl_ws_frame_parse), and message frames go to the
 * real cursor code (fuzz_sub.h). Checked: the joined message is exactly
 * the fragments' bytes, the bound holds exactly, and each kind carries
 * what ws.c reads from it. */
#include <errno.h>
#include <string.h>
#include "fuzz.h"
#include "fuzz_sub.h"
#include "ws_frame.h"

static void check_frame(const char *msg, size_t n, pl_sub *s, fuzz_model *fm)
{
    pl_ws_frame f;
    pl_ws_frame_parse(msg, n, &f);
    json_t *ref = json_loadb(msg, n, 0, NULL);
    const char *type = json_string_value(json_object_get(ref, "type"));
    switch (f.kind) {
    case PL_WS_FRAME_PONG: FUZZ_CHECK(n == 4 && memcmp(msg, "pong", 4) == 0 && !f.obj); break;
    case PL_WS_FRAME_BAD: FUZZ_CHECK(!type && !f.obj); break;
    case PL_WS_FRAME_MESSAGE:
        FUZZ_CHECK(type && strcmp(type, "message") == 0 && json_is_object(f.obj));
        fuzz_sub_deliver(s, fm, f.obj, NULL, 0);
        break;
    case PL_WS_FRAME_ACK: {
        json_t *id = json_object_get(ref, "id");
        bool pos = json_is_integer(id) && json_integer_value(id) > 0;
        FUZZ_CHECK(type && strcmp(type, "ack") == 0);
        FUZZ_CHECK(f.id == (pos ? (uint64_t)json_integer_value(id) : 0));
        break;
    }
    case PL_WS_FRAME_ERROR:
        FUZZ_CHECK(type && strcmp(type, "error") == 0 && f.code && f.text);
        break;
    case PL_WS_FRAME_OTHER:
        FUZZ_CHECK(type && strcmp(type, "message") && strcmp(type, "ack") && strcmp(type, "error"));
        break;
    default: FUZZ_CHECK(!"unknown kind");
    }
    json_decref(ref);
    pl_ws_frame_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    size_t max = (size_t)8 << (fuzz_u8(&in) & 7); /* 8 .. 1024 bytes */
    pl_ws_frame_rx rx = {0};
    fuzz_model fm;
    pl_sub *s = fuzz_sub_new(&fm, fuzz_u8(&in));
    /* The model of joining: the bytes of the message so far. */
    char *want = malloc(max);
    size_t want_len = 0;
    FUZZ_CHECK(want);
    while (in.n) {
        bool whole = fuzz_u8(&in) & 1;
        const uint8_t *frag;
        size_t len = fuzz_bytes(&in, fuzz_u8(&in), &frag);
        const char *msg = NULL;
        size_t n = 0;
        int rc = pl_ws_frame_rx_add(&rx, (const char *)frag, len, whole, max, &msg, &n);
        if (whole && want_len == 0) {
            /* One piece is handed through uncopied; lws bounds a piece. */
            FUZZ_CHECK(rc == 1 && msg == (const char *)frag && n == len);
        } else if (want_len + len > max) {
            FUZZ_CHECK(rc == -EMSGSIZE);
            want_len = 0;
            continue;
        } else {
            memcpy(want + want_len, frag, len);
            want_len += len;
            FUZZ_CHECK(rc == (whole ? 1 : 0));
            if (!whole)
                continue;
            FUZZ_CHECK(n == want_len && msg[n] == '\0' && memcmp(msg, want, n) == 0);
        }
        check_frame(msg, n, s, &fm);
        want_len = 0;
    }
    pl_ws_frame_rx_free(&rx);
    free(want);
    free(s);
    return 0;
}
