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

int main(void)
{
    RUN(format_then_parse_round_trips);
    RUN(parse_accepts_other_key_order_and_spaces);
    RUN(parse_refuses_a_missing_field);
    RUN(parse_refuses_a_non_integer_field);
    RUN(parse_refuses_a_negative_field);
    RUN(parse_refuses_null_and_non_object_meta);
    return CHECK_DONE();
}
