/* Fuzz target: the client's reading of a server's WebSocket bytes
 * (client/ws_codec.c). The first input byte picks what the rest is fed
 * to: a frame header, or the upgrade's answer head. Checked: a header
 * read is whole, minimal and legal, the same with more bytes after it,
 * and one the client writes reads back with its length; an answer is
 * opened only by a 101 and a refusal always says why. */
#include <errno.h>
#include <string.h>
#include "fuzz.h"
#include "ws_codec.h"

static void check_head(const uint8_t *p, size_t n)
{
    pl_ws_codec_head h, again;
    int rc = pl_ws_codec_head_read(p, n, &h);
    FUZZ_CHECK(rc == 1 || rc == 0 || rc == -EPROTO);
    if (rc == 0) {
        FUZZ_CHECK(n < 10);
        return;
    }
    if (rc < 0)
        return;
    FUZZ_CHECK(h.head_len == 2 || h.head_len == 4 || h.head_len == 10);
    FUZZ_CHECK(h.head_len <= n);
    FUZZ_CHECK(h.head_len == 2   ? h.len < 126
               : h.head_len == 4 ? h.len >= 126 && h.len <= 0xffff
                                 : h.len > 0xffff);
    FUZZ_CHECK(!(p[1] & 0x80) && !(p[0] & 0x70));
    FUZZ_CHECK(h.opcode < 8 || (h.fin && h.len <= 125));
    FUZZ_CHECK(pl_ws_codec_head_read(p, h.head_len, &again) == 1);
    FUZZ_CHECK(again.len == h.len && again.opcode == h.opcode && again.fin == h.fin);
}

/* A frame the client writes, mask bit and key taken out, reads back. */
static void check_round_trip(const uint8_t *p, size_t n)
{
    static unsigned char out[70000 + PL_WS_CODEC_HEAD_MAX];
    const unsigned char mask[4] = {0xde, 0xad, 0xbe, 0xef};
    pl_ws_codec_head h;
    size_t len = n > 0 ? (size_t)p[0] * 300 : 0; /* up to 76,500: all three forms */
    if (len > 70000)
        len = 70000;
    memset(out + PL_WS_CODEC_HEAD_MAX, 'a', len);
    size_t w = pl_ws_codec_client_frame(out, PL_WS_OP_TEXT, out + PL_WS_CODEC_HEAD_MAX, len, mask);
    size_t hl = w - len;
    FUZZ_CHECK(hl == 6 || hl == 8 || hl == 14);
    FUZZ_CHECK(memcmp(out + hl - 4, mask, 4) == 0);
    out[1] &= 0x7f;
    FUZZ_CHECK(pl_ws_codec_head_read(out, hl - 4, &h) == 1);
    FUZZ_CHECK(h.len == len && h.head_len == hl - 4 && h.fin && h.opcode == PL_WS_OP_TEXT);
}

static void check_answer(const uint8_t *p, size_t n)
{
    unsigned status = 7;
    const char *why = "unset";
    int rc = pl_ws_codec_answer((const char *)p, n, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &status, &why);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EPROTO);
    if (rc == 0)
        FUZZ_CHECK(status == 101 && why == NULL);
    else if (rc == 1)
        FUZZ_CHECK(status != 101 && why == NULL);
    else
        FUZZ_CHECK(why != NULL && strcmp(why, "unset") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: check_head(data + 1, size - 1); break;
    case 1: check_round_trip(data + 1, size - 1); break;
    default: check_answer(data + 1, size - 1); break;
    }
    return 0;
}
