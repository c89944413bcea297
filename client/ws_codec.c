/* RFC 6455's bytes for the client; see ws_codec.h. SHA-1 and base64 are
 * libcrypto's (already linked for TLS), so nothing here is cryptography
 * of our own. */
#include "ws_codec.h"
#include <errno.h>
#include <http_parser.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

static bool opcode_known(unsigned op) { return op <= PL_WS_OP_BINARY || (op >= 8 && op <= 10); }

int pl_ws_codec_head_read(const unsigned char *p, size_t n, pl_ws_codec_head *h)
{
    if (n < 2)
        return 0;
    unsigned op = p[0] & 0x0f, len7 = p[1] & 0x7f;
    bool control = op >= 8;
    if ((p[0] & 0x70) || (p[1] & 0x80) || !opcode_known(op))
        return -EPROTO;
    if (control && (!(p[0] & 0x80) || len7 > 125))
        return -EPROTO;
    h->fin = p[0] & 0x80;
    h->opcode = op;
    h->head_len = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
    if (n < h->head_len)
        return 0;
    if (len7 < 126) {
        h->len = len7;
        return 1;
    }
    h->len = 0;
    for (size_t i = 2; i < h->head_len; i++)
        h->len = h->len << 8 | p[i];
    /* The shortest form is the only valid one (RFC 6455 5.2). */
    if ((len7 == 126 && h->len < 126) || (len7 == 127 && (h->len >> 63 || h->len <= 0xffff)))
        return -EPROTO;
    return 1;
}

size_t pl_ws_codec_client_frame(unsigned char *out, unsigned opcode, const void *p, size_t n,
                                const unsigned char mask[4])
{
    size_t h = 2;
    out[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (n < 126) {
        out[1] = (unsigned char)(0x80 | n);
    } else if (n <= 0xffff) {
        out[1] = 0x80 | 126;
        out[2] = (unsigned char)(n >> 8);
        out[3] = (unsigned char)n;
        h = 4;
    } else {
        out[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        h = 10;
    }
    memcpy(out + h, mask, 4);
    h += 4;
    const unsigned char *in = p;
    for (size_t i = 0; i < n; i++)
        out[h + i] = in[i] ^ mask[i & 3];
    return h + n;
}

void pl_ws_codec_key(const unsigned char nonce[16], char key[PL_WS_CODEC_KEY_LEN + 1])
{
    EVP_EncodeBlock((unsigned char *)key, nonce, 16);
}

int pl_ws_codec_accept(const char *key, char accept[PL_WS_CODEC_ACCEPT_LEN + 1])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
             EVP_DigestUpdate(ctx, key, strlen(key)) &&
             EVP_DigestUpdate(ctx, guid, sizeof guid - 1) && EVP_DigestFinal_ex(ctx, md, &md_len);
    EVP_MD_CTX_free(ctx);
    if (!ok || md_len != 20)
        return -ENOMEM;
    EVP_EncodeBlock((unsigned char *)accept, md, 20);
    return 0;
}

/* What the answer's head says, as http-parser reads it. */
typedef struct head_read {
    const char *field;
    size_t field_len;
    bool upgrade, connection, accept_ok, extension, protocol;
    const char *want_accept;
} head_read;

static bool field_is(const head_read *r, const char *name)
{
    return r->field_len == strlen(name) && strncasecmp(r->field, name, r->field_len) == 0;
}

/* Whether the comma-separated `v` lists `token` (any case). */
static bool lists(const char *v, size_t n, const char *token)
{
    size_t t = strlen(token);
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t k = j;
        while (k > i && (v[k - 1] == ' ' || v[k - 1] == '\t'))
            k--;
        if (k - i == t && strncasecmp(v + i, token, t) == 0)
            return true;
        i = j;
    }
    return false;
}

static int on_field(http_parser *hp, const char *p, size_t n)
{
    head_read *r = hp->data;
    r->field = p;
    r->field_len = n;
    return 0;
}

static int on_value(http_parser *hp, const char *p, size_t n)
{
    head_read *r = hp->data;
    if (field_is(r, "Upgrade"))
        r->upgrade = lists(p, n, "websocket");
    else if (field_is(r, "Connection"))
        r->connection = lists(p, n, "upgrade");
    else if (field_is(r, "Sec-WebSocket-Accept"))
        r->accept_ok = n == PL_WS_CODEC_ACCEPT_LEN && memcmp(p, r->want_accept, n) == 0;
    else if (field_is(r, "Sec-WebSocket-Extensions"))
        r->extension = true;
    else if (field_is(r, "Sec-WebSocket-Protocol"))
        r->protocol = true;
    return 0;
}

static int on_head_done(http_parser *hp)
{
    (void)hp;
    return 1; /* no body is read: a 101 has none, and another answer is refused */
}

static const http_parser_settings head_settings = {
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_head_done,
};

int pl_ws_codec_answer(const char *head, size_t len, const char *accept, unsigned *status,
                       const char **why)
{
    http_parser hp;
    head_read r = {.want_accept = accept};
    http_parser_init(&hp, HTTP_RESPONSE);
    hp.data = &r;
    http_parser_execute(&hp, &head_settings, head, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&hp);
    *status = hp.status_code;
    *why = NULL;
    if (e != HPE_OK && e != HPE_CB_headers_complete) {
        *why = http_errno_description(e);
        return -EPROTO;
    }
    if (hp.status_code != 101)
        return 1;
    *why = !r.upgrade      ? "no Upgrade: websocket"
           : !r.connection ? "no Connection: Upgrade"
           : !r.accept_ok  ? "a wrong Sec-WebSocket-Accept"
           : r.extension   ? "an extension not asked for"
           : r.protocol    ? "a subprotocol not asked for"
                           : NULL;
    return *why ? -EPROTO : 0;
}
