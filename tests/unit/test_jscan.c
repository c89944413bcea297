/* Specification of common/jscan: the members it finds are the ones
 * jansson's tree has, and text that is not one object is refused. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include "check.h"
#include "jscan.h"

static const char *const keys[] = {"type", "id", "meta"};

static int scan(const char *json, pl_jspan *out)
{
    return pl_jscan_members(json, strlen(json), keys, 3, out);
}

static int span_is(pl_jspan v, const char *want)
{
    return v.n == strlen(want) && memcmp(v.p, want, v.n) == 0;
}

TEST(a_message_frame_gives_its_type_id_and_meta)
{
    pl_jspan v[3];
    uint64_t id;
    CHECK_EQ_INT(scan("{\"type\":\"message\",\"id\":42,\"room\":\"r\",\"text\":\"a } \\\" ]\","
                      "\"meta\":{\"seq\":7,\"x\":[1,{\"y\":\"}\"}]}}",
                      v),
                 0);
    CHECK(pl_jscan_string_is(v[0], "message"));
    CHECK_EQ_INT(pl_jscan_uint(v[1], &id), 0);
    CHECK_EQ_INT(id, 42);
    CHECK(span_is(v[2], "{\"seq\":7,\"x\":[1,{\"y\":\"}\"}]}"));
}

TEST(an_absent_member_is_an_empty_span)
{
    pl_jspan v[3];
    CHECK_EQ_INT(scan(" { \"id\" : 1 } \n", v), 0);
    CHECK(v[0].n == 0 && v[0].p == NULL);
    CHECK(span_is(v[1], "1"));
    CHECK_EQ_INT(scan("{}", v), 0);
    CHECK(v[1].n == 0);
}

TEST(only_top_level_members_are_found)
{
    pl_jspan v[3];
    CHECK_EQ_INT(scan("{\"meta\":{\"id\":5},\"list\":[{\"id\":6}]}", v), 0);
    CHECK(v[1].n == 0);
}

TEST(a_repeated_member_keeps_the_last_as_jansson_does)
{
    pl_jspan v[3];
    CHECK_EQ_INT(scan("{\"id\":1,\"id\":2}", v), 0);
    CHECK(span_is(v[1], "2"));
    json_t *j = json_loads("{\"id\":1,\"id\":2}", 0, NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "id")), 2);
    json_decref(j);
}

TEST(text_that_is_not_one_object_is_refused)
{
    static const char *const bad[] = {
        "",
        "[]",
        "\"x\"",
        "{",
        "{\"id\":1",
        "{\"id\":1}}",
        "{\"id\":1} x",
        "{\"id\" 1}",
        "{\"id\":}",
        "{id:1}",
        "{\"id\":1,}",
        "{\"id\":\"a}",
        "{\"id\":[1,2}",
        "{\"id\":{]}",
        "{\"id\":\"a\nb\"}",
        "{\"id\":\"\\\"}",
        "{\"a\":1}{\"b\":2}",
    };
    pl_jspan v[3];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (scan(bad[i], v) != -EINVAL)
            printf("# accepted: %s\n", bad[i]);
        CHECK_EQ_INT(scan(bad[i], v), -EINVAL);
        json_t *j = json_loads(bad[i], 0, NULL); /* jansson refuses each too */
        CHECK(!json_is_object(j));
        json_decref(j);
    }
}

TEST(nesting_past_the_depth_is_refused)
{
    char deep[2 * PL_JSCAN_DEPTH + 16], ok[2 * PL_JSCAN_DEPTH + 16];
    pl_jspan v[3];
    size_t n = 0;
    n += (size_t)sprintf(deep, "{\"meta\":");
    memcpy(ok, deep, n);
    memset(deep + n, '[', PL_JSCAN_DEPTH + 1);
    memset(deep + n + PL_JSCAN_DEPTH + 1, ']', PL_JSCAN_DEPTH + 1);
    strcpy(deep + n + 2 * (PL_JSCAN_DEPTH + 1), "}");
    memset(ok + n, '[', PL_JSCAN_DEPTH);
    memset(ok + n + PL_JSCAN_DEPTH, ']', PL_JSCAN_DEPTH);
    strcpy(ok + n + 2 * PL_JSCAN_DEPTH, "}");
    CHECK_EQ_INT(scan(deep, v), -EINVAL);
    CHECK_EQ_INT(scan(ok, v), 0);
}

TEST(uint_takes_plain_digits_below_2_63_only)
{
    uint64_t x;
    static const char *const no[] = {
        "-1", "1.0", "1e3", "01", "\"1\"", "true", "9223372036854775808", ""};
    CHECK_EQ_INT(pl_jscan_uint((pl_jspan){"0", 1}, &x), 0);
    CHECK_EQ_INT(x, 0);
    CHECK_EQ_INT(pl_jscan_uint((pl_jspan){"9223372036854775807", 19}, &x), 0);
    CHECK(x == 9223372036854775807ULL);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        CHECK_EQ_INT(pl_jscan_uint((pl_jspan){no[i], strlen(no[i])}, &x), -EINVAL);
}

TEST(string_is_compares_the_unescaped_text_exactly)
{
    CHECK(pl_jscan_string_is((pl_jspan){"\"ack\"", 5}, "ack"));
    CHECK(!pl_jscan_string_is((pl_jspan){"\"acks\"", 6}, "ack"));
    CHECK(!pl_jscan_string_is((pl_jspan){"\"a\\u0063k\"", 10}, "ack"));
    CHECK(!pl_jscan_string_is((pl_jspan){"ack", 3}, "ack"));
}

/* Random objects built by jansson: every member the scanner reports is
 * the one jansson reads back from the same text. */
/* Every element of the array span, joined by '|'; "ERR" when refused. */
static void elements(const char *arr, char *out, size_t len)
{
    pl_jspan a = {arr, strlen(arr)}, e;
    const char *at = NULL;
    int rc;
    size_t o = 0;
    out[0] = '\0';
    while ((rc = pl_jscan_next(a, &at, &e)) == 1)
        o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? "|" : "", (int)e.n, e.p);
    if (rc < 0)
        snprintf(out, len, "ERR");
}

TEST(next_steps_through_an_arrays_elements_in_order)
{
    char got[128];
    elements("[{\"id\":1,\"t\":\"],\"}, 2 ,\"x\",[3,[4]]]", got, sizeof got);
    CHECK_EQ_STR(got, "{\"id\":1,\"t\":\"],\"}|2|\"x\"|[3,[4]]");
    elements("[ \n]", got, sizeof got);
    CHECK_EQ_STR(got, "");
    elements("[]", got, sizeof got);
    CHECK_EQ_STR(got, "");
}

TEST(next_refuses_what_is_not_an_array_of_values)
{
    const char *bad[] = {"{\"a\":1}", "[1,]", "[,1]", "[1 2]", "[1,,2]", "\"[]\"", "[", ""};
    char got[128];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        elements(bad[i], got, sizeof got);
        CHECK_EQ_STR(got, "ERR");
    }
}

TEST(members_agree_with_jansson_on_random_objects)
{
    srand(7);
    for (int round = 0; round < 2000; round++) {
        json_t *o = json_object();
        int n = rand() % 6;
        for (int i = 0; i < n; i++) {
            const char *k = (const char *[]){"type", "id", "meta", "t\"x", "a"}[rand() % 5];
            json_t *v = (rand() % 3 == 0)   ? json_integer(rand())
                        : (rand() % 2 == 0) ? json_string("q\"}]\\\n\x01 é")
                                            : json_pack("{s:[i,{s:s}]}", "k", 1, "z", "]}");
            json_object_set_new(o, k, v);
        }
        char *text = json_dumps(o, (round & 1) ? JSON_INDENT(2) : JSON_COMPACT);
        pl_jspan v[3];
        CHECK_EQ_INT(scan(text, v), 0);
        for (int i = 0; i < 3; i++) {
            json_t *want = json_object_get(o, keys[i]);
            json_t *got = v[i].n ? json_loadb(v[i].p, v[i].n, JSON_DECODE_ANY, NULL) : NULL;
            CHECK((want == NULL) == (got == NULL));
            CHECK(!want || json_equal(want, got));
            json_decref(got);
        }
        free(text);
        json_decref(o);
    }
}

int main(void)
{
    RUN(a_message_frame_gives_its_type_id_and_meta);
    RUN(an_absent_member_is_an_empty_span);
    RUN(only_top_level_members_are_found);
    RUN(a_repeated_member_keeps_the_last_as_jansson_does);
    RUN(text_that_is_not_one_object_is_refused);
    RUN(nesting_past_the_depth_is_refused);
    RUN(uint_takes_plain_digits_below_2_63_only);
    RUN(string_is_compares_the_unescaped_text_exactly);
    RUN(next_steps_through_an_arrays_elements_in_order);
    RUN(next_refuses_what_is_not_an_array_of_values);
    RUN(members_agree_with_jansson_on_random_objects);
    return CHECK_DONE();
}
