/* The bytes of RFC 6455 as a client sees them, with no I/O: a server
 * frame's header, a client's masked frame, the upgrade's key and accept
 * value, the answer's head. ws_plain.c speaks WebSocket with it; the fuzzer
 * (tests/fuzz/fuzz_ws_codec.c) runs the header reader. No state. */
#ifndef PL_WS_CODEC_H
#define PL_WS_CODEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_WS_CODEC_HEAD_MAX   14 /* 2 + 8 length bytes + 4 mask bytes */
#define PL_WS_CODEC_KEY_LEN    24 /* base64 of 16 bytes */
#define PL_WS_CODEC_ACCEPT_LEN 28

enum {
    PL_WS_OP_CONT = 0,
    PL_WS_OP_TEXT = 1,
    PL_WS_OP_BINARY = 2,
    PL_WS_OP_CLOSE = 8,
    PL_WS_OP_PING = 9,
    PL_WS_OP_PONG = 10,
};

/* A frame's header as read. */
typedef struct pl_ws_codec_head {
    bool fin;
    unsigned opcode;
    uint64_t len;    /* payload bytes */
    size_t head_len; /* header bytes before the payload */
} pl_ws_codec_head;

/* Reads the header of a frame from a server at `p` (`n` bytes there).
 * Returns 1 with *h filled, 0 when more bytes are needed, or -EPROTO for
 * a header no server may send: masked, reserved bits set (no extension
 * is negotiated), an opcode RFC 6455 does not define, a control frame
 * fragmented or over 125 bytes, a 64-bit length with its top bit set or
 * a length written longer than it needs. */
int pl_ws_codec_head_read(const unsigned char *p, size_t n, pl_ws_codec_head *h);

/* Writes a final client frame of `opcode` to `out`: the header with
 * `mask`, then the `n` bytes at `p` masked. `out` has room for
 * n + PL_WS_CODEC_HEAD_MAX bytes. Returns the bytes written. */
size_t pl_ws_codec_client_frame(unsigned char *out, unsigned opcode, const void *p, size_t n,
                                const unsigned char mask[4]);

/* A Sec-WebSocket-Key: base64 of the 16 bytes at `nonce`, NUL-ended. */
void pl_ws_codec_key(const unsigned char nonce[16], char key[PL_WS_CODEC_KEY_LEN + 1]);

/* The Sec-WebSocket-Accept a server must answer to `key`, NUL-ended.
 * Returns 0, or -ENOMEM when libcrypto fails. */
int pl_ws_codec_accept(const char *key, char accept[PL_WS_CODEC_ACCEPT_LEN + 1]);

/* Reads an answer's whole head (through its blank line) to an upgrade
 * whose key has the accept value `accept`. Returns 0 for a 101 that opens
 * the connection, 1 for another status, or -EPROTO for bad HTTP or a 101
 * that is not an answer to ours (*why says which, else NULL). *status is
 * the answer's status, 0 when none could be read. */
int pl_ws_codec_answer(const char *head, size_t len, const char *accept, unsigned *status,
                       const char **why);

#endif
