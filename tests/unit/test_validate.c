/* Specification of common/validate: room names, UTF-8, control characters,
 * query integers and heartbeat bounds. */
#include "check.h"
#include "validate.h"

#define ROOM_OK(s) pl_valid_room(s, strlen(s))
#define UTF8_OK(s) pl_valid_utf8(s, sizeof(s) - 1)

TEST(room_accepts_letters_digits_dash_underscore)
{
    CHECK(ROOM_OK("lobby"));
    CHECK(ROOM_OK("Room_2-b"));
    CHECK(ROOM_OK("a"));
}

TEST(room_rejects_empty_long_and_other_characters)
{
    char long_name[66];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    CHECK(!ROOM_OK(""));
    CHECK(!ROOM_OK(long_name));
    long_name[64] = '\0';
    CHECK(ROOM_OK(long_name));
    CHECK(!ROOM_OK("a b"));
    CHECK(!ROOM_OK("a/b"));
    CHECK(!ROOM_OK("a.b"));
    CHECK(!ROOM_OK("caf\xc3\xa9"));
    CHECK(!ROOM_OK("%41"));
}

TEST(utf8_accepts_well_formed_text)
{
    CHECK(UTF8_OK("plain"));
    CHECK(UTF8_OK("\xe4\xbd\xa0\xe5\xa5\xbd")); /* 你好 */
    CHECK(UTF8_OK("\xf0\x9f\x98\x80"));         /* emoji, 4 bytes */
    CHECK(UTF8_OK("\xf4\x8f\xbf\xbf"));         /* U+10FFFF */
}

TEST(utf8_rejects_overlongs_surrogates_and_truncation)
{
    CHECK(!UTF8_OK("\xc0\xaf"));         /* overlong '/' */
    CHECK(!UTF8_OK("\xe0\x80\xaf"));     /* overlong, 3 bytes */
    CHECK(!UTF8_OK("\xed\xa0\x80"));     /* surrogate D800 */
    CHECK(!UTF8_OK("\xf4\x90\x80\x80")); /* past U+10FFFF */
    CHECK(!UTF8_OK("\xe4\xbd"));         /* truncated */
    CHECK(!UTF8_OK("\xff"));
    CHECK(!UTF8_OK("\x80"));
}

TEST(control_characters_other_than_tab_and_newline_are_found)
{
    CHECK(!pl_has_control("a\tb\nc", 5));
    CHECK(pl_has_control("a\rb", 3));
    CHECK(pl_has_control("\x1b[31m", 5));
    CHECK(pl_has_control("a\x7f", 2));
}

TEST(uint_parses_plain_decimal_digits)
{
    uint64_t v = 99;
    CHECK(pl_parse_uint("0", &v) == 0 && v == 0);
    CHECK(pl_parse_uint("42", &v) == 0 && v == 42);
    CHECK(pl_parse_uint("9007199254740991", &v) == 0 && v == PL_INT_MAX);
}

TEST(uint_rejects_signs_spaces_empty_and_overflow)
{
    uint64_t v = 7;
    CHECK(pl_parse_uint("", &v) != 0);
    CHECK(pl_parse_uint(NULL, &v) != 0);
    CHECK(pl_parse_uint("-1", &v) != 0);
    CHECK(pl_parse_uint("+1", &v) != 0);
    CHECK(pl_parse_uint(" 1", &v) != 0);
    CHECK(pl_parse_uint("1.5", &v) != 0);
    CHECK(pl_parse_uint("0x10", &v) != 0);
    CHECK(pl_parse_uint("9007199254740992", &v) != 0);
    CHECK(pl_parse_uint("99999999999999999999999", &v) != 0);
    CHECK_EQ_INT(v, 7); /* untouched on error */
}

TEST(heartbeat_is_clamped_into_the_server_bounds)
{
    CHECK_EQ_INT(pl_heartbeat_clamp(0, 5, 300), 5);
    CHECK_EQ_INT(pl_heartbeat_clamp(5, 5, 300), 5);
    CHECK_EQ_INT(pl_heartbeat_clamp(60, 5, 300), 60);
    CHECK_EQ_INT(pl_heartbeat_clamp(301, 5, 300), 300);
    CHECK_EQ_INT(pl_heartbeat_clamp(PL_INT_MAX, 5, 300), 300);
}

int main(void)
{
    RUN(room_accepts_letters_digits_dash_underscore);
    RUN(room_rejects_empty_long_and_other_characters);
    RUN(utf8_accepts_well_formed_text);
    RUN(utf8_rejects_overlongs_surrogates_and_truncation);
    RUN(control_characters_other_than_tab_and_newline_are_found);
    RUN(uint_parses_plain_decimal_digits);
    RUN(uint_rejects_signs_spaces_empty_and_overflow);
    RUN(heartbeat_is_clamped_into_the_server_bounds);
    return CHECK_DONE();
}
