/* Which request heads the long-poll front answers itself (server/
 * poll_head.c): a plain long or short poll, and nothing else, complete or
 * not. */
#include "check.h"
#include "poll_head.h"

static pl_poll_head h;

static int parse(const char *s) { return pl_poll_head_parse(s, strlen(s), &h); }

#define HOST "Host: 127.0.0.1:8080\r\n"

TEST(a_plain_long_poll_is_the_fronts_with_its_arguments)
{
    const char *s = "GET /api/rooms/lobby/poll?since=7&limit=5&timeout=3 HTTP/1.1\r\n" HOST
                    "Accept: */*\r\n\r\n";
    CHECK_EQ_INT(parse(s), 1);
    CHECK(h.longp);
    CHECK_EQ_STR(h.room, "lobby");
    CHECK_EQ_INT(h.since, 7);
    CHECK_EQ_INT(h.limit, 5);
    CHECK_EQ_INT(h.timeout, 3);
    CHECK_EQ_INT(h.len, strlen(s));
}

TEST(a_plain_short_poll_is_the_fronts_too)
{
    CHECK_EQ_INT(parse("GET /api/rooms/lobby/messages?since=4 HTTP/1.1\r\n" HOST "\r\n"), 1);
    CHECK(!h.longp);
    CHECK_EQ_STR(h.room, "lobby");
    CHECK_EQ_INT(h.since, 4);
}

TEST(missing_arguments_take_the_handlers_defaults)
{
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "\r\n"), 1);
    CHECK_EQ_INT(h.since, 0);
    CHECK_EQ_INT(h.limit, PL_LIMIT_DEFAULT);
    CHECK_EQ_INT(h.timeout, PL_TIMEOUT_DEFAULT);
}

TEST(limit_and_timeout_are_clamped_like_the_handlers)
{
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll?limit=99999&timeout=999 HTTP/1.1\r\n" HOST "\r\n"),
                 1);
    CHECK_EQ_INT(h.limit, PL_LIMIT_MAX);
    CHECK_EQ_INT(h.timeout, PL_TIMEOUT_MAX);
}

TEST(unknown_arguments_are_ignored_like_the_handlers)
{
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll?x=1&&since=2 HTTP/1.1\r\n" HOST "\r\n"), 1);
    CHECK_EQ_INT(h.since, 2);
}

TEST(only_the_first_head_of_pipelined_bytes_is_measured)
{
    const char *one = "GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "\r\n";
    char two[512];
    snprintf(two, sizeof two, "%sGET /api/stats HTTP/1.1\r\n", one);
    CHECK_EQ_INT(parse(two), 1);
    CHECK_EQ_INT(h.len, strlen(one));
}

TEST(an_unfinished_head_is_mhds)
{
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/po"), 0);
    CHECK_EQ_INT(parse(""), 0);
}

TEST(other_endpoints_and_methods_are_mhds)
{
    CHECK_EQ_INT(parse("POST /api/rooms/a/messages HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/stats HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/events HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("HEAD /api/rooms/a/poll HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("POST /api/rooms/a/poll HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("get /api/rooms/a/poll HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.0\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET  /api/rooms/a/poll HTTP/1.1\r\n" HOST "\r\n"), 0);
}

TEST(a_room_or_argument_the_router_refuses_is_mhds_to_refuse)
{
    CHECK_EQ_INT(parse("GET /api/rooms/bad!room/poll HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll?since=-1 HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll?since HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll?since=1&since=2 HTTP/1.1\r\n" HOST "\r\n"), 0);
}

TEST(percent_escapes_are_left_to_mhds_unescaping)
{
    CHECK_EQ_INT(parse("GET /api/rooms/%61/poll HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll?since=%31 HTTP/1.1\r\n" HOST "\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll?since=1+ HTTP/1.1\r\n" HOST "\r\n"), 0);
}

TEST(a_head_without_host_is_mhds)
{
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\nAccept: */*\r\n\r\n"), 0);
}

TEST(a_head_asking_for_a_body_an_upgrade_or_a_close_is_mhds)
{
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "transfer-encoding: x\r\n\r\n"),
                 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "Expect: 100-continue\r\n\r\n"),
                 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "Connection: Close\r\n\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "Upgrade: websocket\r\n\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "Connection: keep-alive\r\n\r\n"),
                 1);
}

TEST(a_malformed_header_line_is_mhds)
{
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "NoColon\r\n\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST " folded: x\r\n\r\n"), 0);
    CHECK_EQ_INT(parse("GET /api/rooms/a/poll HTTP/1.1\r\n" HOST ": x\r\n\r\n"), 0);
}

TEST(a_nul_byte_in_the_head_makes_it_mhds)
{
    char s[] = "GET /api/rooms/a/poll HTTP/1.1\r\nHost: a\r\n\r\n";
    s[36] = '\0';
    CHECK_EQ_INT(pl_poll_head_parse(s, sizeof s - 1, &h), 0);
}

TEST(a_head_longer_than_the_peek_is_mhds)
{
    static char s[PL_POLL_HEAD_MAX + 64];
    int n = snprintf(s, sizeof s, "GET /api/rooms/a/poll HTTP/1.1\r\n" HOST "X: ");
    memset(s + n, 'x', sizeof s - (size_t)n - 5);
    memcpy(s + sizeof s - 5, "\r\n\r\n", 4);
    CHECK_EQ_INT(pl_poll_head_parse(s, sizeof s - 1, &h), 0);
}

int main(void)
{
    RUN(a_plain_long_poll_is_the_fronts_with_its_arguments);
    RUN(a_plain_short_poll_is_the_fronts_too);
    RUN(missing_arguments_take_the_handlers_defaults);
    RUN(limit_and_timeout_are_clamped_like_the_handlers);
    RUN(unknown_arguments_are_ignored_like_the_handlers);
    RUN(only_the_first_head_of_pipelined_bytes_is_measured);
    RUN(an_unfinished_head_is_mhds);
    RUN(other_endpoints_and_methods_are_mhds);
    RUN(a_room_or_argument_the_router_refuses_is_mhds_to_refuse);
    RUN(percent_escapes_are_left_to_mhds_unescaping);
    RUN(a_head_without_host_is_mhds);
    RUN(a_head_asking_for_a_body_an_upgrade_or_a_close_is_mhds);
    RUN(a_malformed_header_line_is_mhds);
    RUN(a_nul_byte_in_the_head_makes_it_mhds);
    RUN(a_head_longer_than_the_peek_is_mhds);
    return CHECK_DONE();
}
