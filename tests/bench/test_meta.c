/* Specification of bench/meta: the seq and send times the bench puts in
 * every message come back intact however the server spaces or orders the
 * object, and anything else is refused rather than misread. */
#include "check.h"
#include "meta.h"

TEST(format_then_parse_round_trips)
{
    char buf[96];
    pl_meta in = {.seq = 123456789, .intended_us = 9007199254740, .sent_us = 9007199254999}, out;
    size_t n = pl_meta_format(buf, sizeof buf, &in);
    CHECK(n > 0 && n < sizeof buf);
    CHECK_EQ_INT(pl_meta_parse(buf, n, &out), 0);
    CHECK_EQ_INT(out.seq, in.seq);
    CHECK_EQ_INT(out.intended_us, in.intended_us);
    CHECK_EQ_INT(out.sent_us, in.sent_us);
}

TEST(parse_accepts_other_key_order_and_spaces)
{
    const char *t = "{\"sent_us\": 30, \"seq\": 1, \"intended_us\": 20}";
    pl_meta m;
    CHECK_EQ_INT(pl_meta_parse(t, strlen(t), &m), 0);
    CHECK_EQ_INT(m.seq, 1);
    CHECK_EQ_INT(m.intended_us, 20);
    CHECK_EQ_INT(m.sent_us, 30);
}

TEST(parse_refuses_a_missing_field)
{
    const char *t = "{\"seq\":1,\"sent_us\":30}";
    pl_meta m;
    CHECK(pl_meta_parse(t, strlen(t), &m) < 0);
}

TEST(parse_refuses_a_non_integer_field)
{
    const char *t = "{\"seq\":\"1\",\"intended_us\":20,\"sent_us\":30}";
    pl_meta m;
    CHECK(pl_meta_parse(t, strlen(t), &m) < 0);
}

TEST(parse_refuses_null_meta)
{
    pl_meta m;
    CHECK(pl_meta_parse(NULL, 0, &m) < 0);
}

TEST(parse_stays_inside_the_given_length)
{
    const char *t = "{\"seq\":1,\"intended_us\":20,\"sent_us\":30}";
    pl_meta m;
    CHECK(pl_meta_parse(t, strlen(t) - 12, &m) < 0);
}

int main(void)
{
    RUN(format_then_parse_round_trips);
    RUN(parse_accepts_other_key_order_and_spaces);
    RUN(parse_refuses_a_missing_field);
    RUN(parse_refuses_a_non_integer_field);
    RUN(parse_refuses_null_meta);
    RUN(parse_stays_inside_the_given_length);
    return CHECK_DONE();
}
