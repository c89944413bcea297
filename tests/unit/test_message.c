/* Specification of common/message: what a publish may hold, and the three
 * encodings of a stored message. */
#include <stdlib.h>
#include "check.h"
#include "message.h"

/* Parses `body` as a publish; returns the status (0 when accepted). */
static int parse(const char *body)
{
    json_t *obj = NULL;
    pl_publish p;
    pl_err err = {0};
    int rc = pl_msg_parse_body(body, strlen(body), &obj, &err);
    if (rc == 0)
        rc = pl_msg_parse_publish(obj, &p, &err);
    json_decref(obj);
    return rc == 0 ? 0 : err.status;
}

static char *repeat(char c, size_t n, const char *pre, const char *post)
{
    static char buf[20000];
    size_t a = strlen(pre);
    memcpy(buf, pre, a);
    memset(buf + a, c, n);
    strcpy(buf + a + n, post);
    return buf;
}

TEST(publish_with_user_and_text_is_accepted)
{
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"hi\"}"), 0);
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"hi\",\"cid\":\"c1\",\"meta\":{\"t\":1}}"), 0);
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"a\\tb\\nc\",\"extra\":true}"), 0);
}

TEST(malformed_json_and_non_objects_are_400)
{
    CHECK_EQ_INT(parse("{\"user\":"), 400);
    CHECK_EQ_INT(parse("[1,2]"), 400);
    CHECK_EQ_INT(parse("\"text\""), 400);
    CHECK_EQ_INT(parse(""), 400);
    CHECK_EQ_INT(parse("{\"user\":\"a\",\"user\":\"b\",\"text\":\"x\"}"), 400);
}

TEST(missing_empty_or_mistyped_fields_are_400)
{
    CHECK_EQ_INT(parse("{\"text\":\"hi\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"ann\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"\",\"text\":\"hi\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":7,\"text\":\"hi\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":[\"hi\"]}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"hi\",\"cid\":5}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"hi\",\"cid\":\"\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"hi\",\"meta\":[1]}"), 400);
}

TEST(sizes_are_bounded)
{
    CHECK_EQ_INT(parse(repeat('u', 64, "{\"text\":\"x\",\"user\":\"", "\"}")), 0);
    CHECK_EQ_INT(parse(repeat('u', 65, "{\"text\":\"x\",\"user\":\"", "\"}")), 400);
    CHECK_EQ_INT(parse(repeat('t', 4096, "{\"user\":\"a\",\"text\":\"", "\"}")), 0);
    CHECK_EQ_INT(parse(repeat('t', 4097, "{\"user\":\"a\",\"text\":\"", "\"}")), 400);
    CHECK_EQ_INT(parse(repeat('c', 65, "{\"user\":\"a\",\"text\":\"x\",\"cid\":\"", "\"}")), 400);
    CHECK_EQ_INT(
        parse(repeat('m', 1020, "{\"user\":\"a\",\"text\":\"x\",\"meta\":{\"k\":\"", "\"}}")), 400);
    CHECK_EQ_INT(parse(repeat(' ', 16400, "{\"user\":\"a\",\"text\":\"x\"", "}")), 413);
}

TEST(invalid_utf8_nul_and_control_characters_in_user_are_400)
{
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"\xc3\x28\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"ann\",\"text\":\"a\\u0000b\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"a\\u001bb\",\"text\":\"hi\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"a\\rb\",\"text\":\"hi\"}"), 400);
    CHECK_EQ_INT(parse("{\"user\":\"a\\tb\",\"text\":\"hi\"}"), 0);
}

static pl_msg *make(const char *body)
{
    json_t *obj;
    pl_publish p;
    pl_err err;
    if (pl_msg_parse_body(body, strlen(body), &obj, &err) || pl_msg_parse_publish(obj, &p, &err))
        return NULL;
    pl_msg *m = pl_msg_new("lobby", 42, 1764140000123456, &p);
    json_decref(obj);
    return m;
}

TEST(stored_message_json_has_the_protocol_shape)
{
    pl_msg *m = make("{\"user\":\"ann\",\"text\":\"hi\"}");
    CHECK(m != NULL);
    CHECK_EQ_STR(m->json, "{\"id\":42,\"room\":\"lobby\",\"user\":\"ann\",\"text\":\"hi\","
                          "\"ts\":1764140000123456}");
    CHECK_EQ_INT(m->json_len, strlen(m->json));
    pl_msg_unref(m);
}

TEST(cid_and_meta_are_carried_through)
{
    pl_msg *m = make("{\"user\":\"ann\",\"text\":\"hi\",\"cid\":\"c-9\",\"meta\":{\"seq\":3}}");
    CHECK(m != NULL);
    CHECK(strstr(m->json, "\"cid\":\"c-9\"") != NULL);
    CHECK(strstr(m->json, "\"meta\":{\"seq\":3}") != NULL);
    CHECK_EQ_STR(m->cid, "c-9");
    CHECK(m->cid_hash == pl_cid_hash("c-9", 3));
    pl_msg_unref(m);
}

TEST(sse_event_is_id_event_data_and_a_blank_line)
{
    pl_msg *m = make("{\"user\":\"ann\",\"text\":\"two\\nlines\"}");
    CHECK(m != NULL);
    char want[512];
    snprintf(want, sizeof want, "id: 42\nevent: message\ndata: %s\n\n", m->json);
    CHECK_EQ_STR(m->sse, want);
    CHECK_EQ_INT(m->sse_len, strlen(want));
    pl_msg_unref(m);
}

TEST(websocket_frame_is_the_message_with_type_first)
{
    pl_msg *m = make("{\"user\":\"ann\",\"text\":\"hi\"}");
    CHECK(m != NULL);
    CHECK_EQ_STR(m->ws, "{\"type\":\"message\",\"id\":42,\"room\":\"lobby\",\"user\":\"ann\","
                        "\"text\":\"hi\",\"ts\":1764140000123456}");
    CHECK_EQ_INT(m->ws_len, strlen(m->ws));
    pl_msg_unref(m);
}

TEST(websocket_frame_is_a_final_text_frame_with_a_7_bit_length_under_126)
{
    pl_msg *m = make("{\"user\":\"ann\",\"text\":\"hi\"}");
    CHECK(m != NULL);
    CHECK(m->ws_len < 126);
    CHECK_EQ_INT(m->ws_frame_len, 2 + m->ws_len);
    CHECK_EQ_INT(m->ws_frame[0], 0x81);
    CHECK_EQ_INT(m->ws_frame[1], m->ws_len); /* no mask bit: a server's frame */
    CHECK(memcmp(m->ws_frame + 2, m->ws, m->ws_len) == 0);
    pl_msg_unref(m);
}

TEST(websocket_frame_of_126_bytes_or_more_has_a_16_bit_length)
{
    pl_msg *m = make(repeat('x', 4000, "{\"user\":\"ann\",\"text\":\"", "\"}"));
    CHECK(m != NULL);
    CHECK_EQ_INT(m->ws_frame_len, 4 + m->ws_len);
    CHECK_EQ_INT(m->ws_frame[0], 0x81);
    CHECK_EQ_INT(m->ws_frame[1], 126);
    CHECK_EQ_INT((size_t)m->ws_frame[2] << 8 | m->ws_frame[3], m->ws_len);
    CHECK(memcmp(m->ws_frame + 4, m->ws, m->ws_len) == 0);
    pl_msg_unref(m);
}

TEST(fragments_joined_give_the_bytes_of_a_stored_message)
{
    const char *body =
        "{\"user\":\"ann\",\"text\":\"h\u00e9\\\"\",\"cid\":\"c\",\"meta\":{\"a\":[1]}}";
    json_t *obj = NULL;
    pl_publish p;
    pl_err err;
    pl_msg_parts parts;
    CHECK(pl_msg_parse_body(body, strlen(body), &obj, &err) == 0);
    CHECK(pl_msg_parse_publish(obj, &p, &err) == 0);
    pl_msg *m = pl_msg_new("lobby", 7, 1764140000123456, &p);
    CHECK(pl_msg_fragments(&p, &parts) == 0);
    char *joined = pl_msg_join("lobby", 7, 1764140000123456, &parts);
    CHECK_EQ_STR(joined, m->json);
    CHECK(parts.tail[0] == ',');
    free(joined);
    pl_msg_parts_free(&parts);
    pl_msg_unref(m);
    json_decref(obj);
}

TEST(fragments_without_cid_or_meta_have_an_empty_tail)
{
    pl_publish p = {.user = "ann", .user_len = 3, .text = "hi", .text_len = 2};
    pl_msg_parts parts;
    CHECK(pl_msg_fragments(&p, &parts) == 0);
    CHECK_EQ_STR(parts.head, "\"user\":\"ann\",\"text\":\"hi\"");
    CHECK_EQ_STR(parts.tail, "");
    pl_msg_parts_free(&parts);
}

TEST(message_rebuilt_from_its_json_is_the_same_message)
{
    pl_msg *m = make("{\"user\":\"ann\",\"text\":\"hi\",\"cid\":\"c-9\"}");
    CHECK(m != NULL);
    pl_msg *r = pl_msg_from_json(m->json, m->json_len);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->id, 42);
    CHECK_EQ_INT(r->ts, 1764140000123456);
    CHECK_EQ_STR(r->json, m->json);
    CHECK_EQ_STR(r->sse, m->sse);
    CHECK_EQ_STR(r->ws, m->ws);
    CHECK(r->ws_frame_len == m->ws_frame_len &&
          memcmp(r->ws_frame, m->ws_frame, m->ws_frame_len) == 0);
    CHECK_EQ_STR(r->cid, "c-9");
    CHECK(r->cid_hash == m->cid_hash);
    pl_msg_unref(r);
    pl_msg_unref(m);
}

TEST(json_without_an_id_or_ts_is_not_a_message)
{
    CHECK(pl_msg_from_json("{\"ts\":1}", 8) == NULL);
    CHECK(pl_msg_from_json("{\"id\":0,\"ts\":1}", 15) == NULL);
    CHECK(pl_msg_from_json("{\"id\":1}", 8) == NULL);
    CHECK(pl_msg_from_json("not json", 8) == NULL);
}

int main(void)
{
    RUN(publish_with_user_and_text_is_accepted);
    RUN(malformed_json_and_non_objects_are_400);
    RUN(missing_empty_or_mistyped_fields_are_400);
    RUN(sizes_are_bounded);
    RUN(invalid_utf8_nul_and_control_characters_in_user_are_400);
    RUN(stored_message_json_has_the_protocol_shape);
    RUN(cid_and_meta_are_carried_through);
    RUN(sse_event_is_id_event_data_and_a_blank_line);
    RUN(websocket_frame_is_the_message_with_type_first);
    RUN(websocket_frame_is_a_final_text_frame_with_a_7_bit_length_under_126);
    RUN(websocket_frame_of_126_bytes_or_more_has_a_16_bit_length);
    RUN(fragments_joined_give_the_bytes_of_a_stored_message);
    RUN(fragments_without_cid_or_meta_have_an_empty_tail);
    RUN(message_rebuilt_from_its_json_is_the_same_message);
    RUN(json_without_an_id_or_ts_is_not_a_message);
    return CHECK_DONE();
}
