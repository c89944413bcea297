/* RFC 6455's bytes as the client reads and writes them (client/ws_codec.c):
 * frame headers from a server, masked frames to it, the handshake's key,
 * accept value and answer. */
#include <errno.h>
#include "check.h"
#include "ws_codec.h"

static int head(const char *bytes, size_t n, pl_ws_codec_head *h)
{
    return pl_ws_codec_head_read((const unsigned char *)bytes, n, h);
}

TEST(the_accept_value_is_rfc_6455s_own_example)
{
    char accept[PL_WS_CODEC_ACCEPT_LEN + 1];
    CHECK_EQ_INT(pl_ws_codec_accept("dGhlIHNhbXBsZSBub25jZQ==", accept), 0);
    CHECK_EQ_STR(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(a_key_is_the_base64_of_its_16_bytes)
{
    char key[PL_WS_CODEC_KEY_LEN + 1];
    pl_ws_codec_key((const unsigned char *)"the sample nonce", key);
    CHECK_EQ_STR(key, "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(headers_of_each_length_form_are_read)
{
    pl_ws_codec_head h;
    CHECK_EQ_INT(head("\x81\x05", 2, &h), 1);
    CHECK(h.fin && h.opcode == PL_WS_OP_TEXT && h.len == 5 && h.head_len == 2);
    CHECK_EQ_INT(head("\x01\x7e\x01\x00", 4, &h), 1);
    CHECK(!h.fin && h.len == 256 && h.head_len == 4);
    CHECK_EQ_INT(head("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10, &h), 1);
    CHECK(h.opcode == PL_WS_OP_BINARY && h.len == 65536 && h.head_len == 10);
}

TEST(a_header_not_all_there_asks_for_more)
{
    pl_ws_codec_head h;
    CHECK_EQ_INT(head("\x81", 1, &h), 0);
    CHECK_EQ_INT(head("\x81\x7e\x01", 3, &h), 0);
    CHECK_EQ_INT(head("\x81\x7f\x00\x00\x00\x00\x00\x01\x00", 9, &h), 0);
}

TEST(headers_no_server_may_send_are_protocol_errors)
{
    pl_ws_codec_head h;
    CHECK_EQ_INT(head("\x81\x85", 2, &h), -EPROTO);         /* masked */
    CHECK_EQ_INT(head("\xc1\x05", 2, &h), -EPROTO);         /* RSV1: no extension was agreed */
    CHECK_EQ_INT(head("\x83\x05", 2, &h), -EPROTO);         /* opcode 3 is reserved */
    CHECK_EQ_INT(head("\x8b\x00", 2, &h), -EPROTO);         /* so is 11 */
    CHECK_EQ_INT(head("\x09\x00", 2, &h), -EPROTO);         /* a fragmented ping */
    CHECK_EQ_INT(head("\x89\x7e\x00\x7e", 4, &h), -EPROTO); /* a ping over 125 bytes */
    CHECK_EQ_INT(head("\x81\x7e\x00\x7d", 4, &h), -EPROTO); /* 125 in the 16-bit form */
    CHECK_EQ_INT(head("\x81\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10, &h), -EPROTO);
    CHECK_EQ_INT(head("\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, &h), -EPROTO);
}

TEST(a_client_frame_is_masked_with_its_key_after_the_header)
{
    unsigned char out[64 + PL_WS_CODEC_HEAD_MAX];
    const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    /* RFC 6455 5.7: a masked "Hello" */
    size_t n = pl_ws_codec_client_frame(out, PL_WS_OP_TEXT, "Hello", 5, mask);
    static const unsigned char want[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                         0x7f, 0x9f, 0x4d, 0x51, 0x58};
    CHECK_EQ_INT(n, sizeof want);
    CHECK(memcmp(out, want, sizeof want) == 0);
}

TEST(a_client_frame_of_200_bytes_has_the_16_bit_length)
{
    unsigned char out[200 + PL_WS_CODEC_HEAD_MAX];
    char text[200];
    const unsigned char mask[4] = {0, 0, 0, 0};
    memset(text, 'a', sizeof text);
    size_t n = pl_ws_codec_client_frame(out, PL_WS_OP_TEXT, text, sizeof text, mask);
    CHECK_EQ_INT(n, 4 + 4 + 200);
    CHECK(out[1] == (0x80 | 126) && out[2] == 0 && out[3] == 200);
    CHECK(out[8] == 'a' && out[n - 1] == 'a');
}

#define ACCEPT_OF_SAMPLE "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static int answer(const char *head, unsigned *status, const char **why)
{
    return pl_ws_codec_answer(head, strlen(head), ACCEPT_OF_SAMPLE, status, why);
}

TEST(a_101_with_the_right_accept_opens_whatever_the_case_of_its_fields)
{
    unsigned status;
    const char *why;
    CHECK_EQ_INT(answer("HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n"
                        "CONNECTION: keep-alive, Upgrade\r\nsec-websocket-accept: " ACCEPT_OF_SAMPLE
                        "\r\n\r\n",
                        &status, &why),
                 0);
    CHECK_EQ_INT(status, 101);
    CHECK(why == NULL);
}

TEST(a_101_that_is_not_an_answer_to_ours_says_what_is_wrong)
{
    unsigned status;
    const char *why;
    CHECK_EQ_INT(answer("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: AAAAMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                        &status, &why),
                 -EPROTO);
    CHECK_EQ_STR(why, "a wrong Sec-WebSocket-Accept");
    CHECK_EQ_INT(answer("HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: " ACCEPT_OF_SAMPLE "\r\n\r\n",
                        &status, &why),
                 -EPROTO);
    CHECK_EQ_STR(why, "no Upgrade: websocket");
    CHECK_EQ_INT(answer("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: " ACCEPT_OF_SAMPLE "\r\n"
                        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                        &status, &why),
                 -EPROTO);
    CHECK_EQ_STR(why, "an extension not asked for");
}

TEST(another_status_is_returned_and_bad_http_is_a_protocol_error)
{
    unsigned status;
    const char *why;
    CHECK_EQ_INT(answer("HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\n", &status, &why), 1);
    CHECK_EQ_INT(status, 403);
    CHECK_EQ_INT(answer("SSH-2.0-OpenSSH\r\n\r\n", &status, &why), -EPROTO);
    CHECK(why != NULL);
}

int main(void)
{
    RUN(the_accept_value_is_rfc_6455s_own_example);
    RUN(a_key_is_the_base64_of_its_16_bytes);
    RUN(headers_of_each_length_form_are_read);
    RUN(a_header_not_all_there_asks_for_more);
    RUN(headers_no_server_may_send_are_protocol_errors);
    RUN(a_client_frame_is_masked_with_its_key_after_the_header);
    RUN(a_client_frame_of_200_bytes_has_the_16_bit_length);
    RUN(a_101_with_the_right_accept_opens_whatever_the_case_of_its_fields);
    RUN(a_101_that_is_not_an_answer_to_ours_says_what_is_wrong);
    RUN(another_status_is_returned_and_bad_http_is_a_protocol_error);
    return CHECK_DONE();
}
