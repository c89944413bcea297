/* Specification of bench/meta: the seq and send times the bench puts in
 * every message come back intact from the object the server relays, in any
 * key order, and anything else is refused rather than misread. */
#include "check.h"
#include "meta.h"
#include <jansson.h>

/* Parses `text` as the client library would and reads the meta from it. */
static int parse_text(const char *text, pl_meta *out)
{
    json_t *o = json_loads(text, 0, NULL);
    int rc = pl_meta_parse(o, out);
    json_decref(o);
    return rc;
}

TEST(format_then_parse_round_trips)
{
    char buf[96];
    pl_meta in = {.seq = 123456789, .intended_us = 9007199254740, .sent_us = 9007199254999}, out;
    size_t n = pl_meta_format(buf, sizeof buf, &in);
    CHECK(n > 0 && n < sizeof buf);
    CHECK_EQ_INT(parse_text(buf, &out), 0);
    CHECK_EQ_INT(out.seq, in.seq);
    CHECK_EQ_INT(out.intended_us, in.intended_us);
    CHECK_EQ_INT(out.sent_us, in.sent_us);
}

TEST(parse_accepts_other_key_order_and_spaces)
{
    pl_meta m;
    CHECK_EQ_INT(parse_text("{\"sent_us\": 30, \"seq\": 1, \"intended_us\": 20}", &m), 0);
    CHECK_EQ_INT(m.seq, 1);
    CHECK_EQ_INT(m.intended_us, 20);
    CHECK_EQ_INT(m.sent_us, 30);
}

TEST(parse_refuses_a_missing_field)
{
    pl_meta m;
    CHECK(parse_text("{\"seq\":1,\"sent_us\":30}", &m) < 0);
}

TEST(parse_refuses_a_non_integer_field)
{
    pl_meta m;
    CHECK(parse_text("{\"seq\":\"1\",\"intended_us\":20,\"sent_us\":30}", &m) < 0);
    CHECK(parse_text("{\"seq\":1.5,\"intended_us\":20,\"sent_us\":30}", &m) < 0);
}

TEST(parse_refuses_a_negative_field)
{
    pl_meta m;
    CHECK(parse_text("{\"seq\":1,\"intended_us\":-20,\"sent_us\":30}", &m) < 0);
}

TEST(parse_refuses_null_and_non_object_meta)
{
    pl_meta m;
    CHECK(pl_meta_parse(NULL, &m) < 0);
    CHECK(parse_text("[1,20,30]", &m) < 0);
}

/* A lean subscription's meta text is read by scanning: it must agree
 * with the parse on every case above, accepted or refused. */
TEST(scan_agrees_with_parse)
{
    static const char *const cases[] = {
        "{\"seq\":123456789,\"intended_us\":9007199254740,\"sent_us\":9007199254999}",
        "{\"sent_us\": 30, \"seq\": 1, \"intended_us\": 20}",
        "{\"seq\":1,\"sent_us\":30}",
        "{\"seq\":\"1\",\"intended_us\":20,\"sent_us\":30}",
        "{\"seq\":1.5,\"intended_us\":20,\"sent_us\":30}",
        "{\"seq\":1,\"intended_us\":-20,\"sent_us\":30}",
        "[1,20,30]",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pl_meta a = {0}, b = {0};
        int pa = parse_text(cases[i], &a), sb = pl_meta_scan(cases[i], strlen(cases[i]), &b);
        printf("# %s: parse %d, scan %d\n", cases[i], pa, sb);
        CHECK(pa == sb);
        CHECK(a.seq == b.seq && a.intended_us == b.intended_us && a.sent_us == b.sent_us);
    }
    pl_meta m;
    CHECK(pl_meta_scan(NULL, 0, &m) < 0);
}

TEST(scan_body_finds_the_meta_of_a_publish_body)
{
    const char *body = "{\"user\":\"b\",\"text\":\"x {\\\"meta\\\":1}\","
                       "\"meta\":{\"seq\":4,\"intended_us\":5,\"sent_us\":6}}";
    pl_meta m;
    CHECK_EQ_INT(pl_meta_scan_body(body, strlen(body), &m), 0);
    CHECK(m.seq == 4 && m.intended_us == 5 && m.sent_us == 6);
    CHECK(pl_meta_scan_body("{\"user\":\"b\"}", 12, &m) < 0);
    CHECK(pl_meta_scan_body("not json", 8, &m) < 0);
}

int main(void)
{
    RUN(format_then_parse_round_trips);
    RUN(parse_accepts_other_key_order_and_spaces);
    RUN(parse_refuses_a_missing_field);
    RUN(parse_refuses_a_non_integer_field);
    RUN(parse_refuses_a_negative_field);
    RUN(scan_agrees_with_parse);
    RUN(scan_body_finds_the_meta_of_a_publish_body);
    RUN(parse_refuses_null_and_non_object_meta);
    return CHECK_DONE();
}
