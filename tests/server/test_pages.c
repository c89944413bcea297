/* Integration tests of the polls' page cache (server/page_cache.c): a page
 * served again from it is the page the room would give now, and counts as
 * served like a built one. argv[1] is the server binary. */
#include <signal.h>
#include <stdlib.h>
#include "check.h"
#include "http_raw.h"
#include "spawn.h"

static pl_test_server srv;
static char resp[65536];

static int post(const char *room, const char *text)
{
    char path[128], body[256];
    snprintf(path, sizeof path, "/api/rooms/%s/messages", room);
    snprintf(body, sizeof body, "{\"user\":\"ann\",\"text\":\"%s\"}", text);
    return raw_request(srv.http_port, "POST", path, "Content-Type: application/json\r\n", body,
                       resp, sizeof resp);
}

/* The body of GET `path`, copied to `out`; returns the status. */
static int page(const char *path, char *out, size_t cap)
{
    int status = raw_request(srv.http_port, "GET", path, NULL, NULL, resp, sizeof resp);
    snprintf(out, cap, "%s", raw_body(resp));
    return status;
}

/* A counter of the short_poll transport in /api/stats, or -1. */
static long long short_poll_stat(const char *key)
{
    char pat[64];
    raw_request(srv.http_port, "GET", "/api/stats", NULL, NULL, resp, sizeof resp);
    const char *t = strstr(raw_body(resp), "\"short_poll\":{");
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = t ? strstr(t, pat) : NULL;
    return p ? atoll(p + strlen(pat)) : -1;
}

TEST(the_same_poll_of_an_unchanged_room_gets_the_same_page_each_time)
{
    char a[4096], b[4096];
    post("same", "one");
    CHECK_EQ_INT(page("/api/rooms/same/messages?since=0", a, sizeof a), 200);
    CHECK_EQ_INT(page("/api/rooms/same/messages?since=0", b, sizeof b), 200);
    CHECK(strstr(a, "\"text\":\"one\"") != NULL);
    CHECK_EQ_STR(b, a);
}

TEST(a_page_served_again_counts_its_messages_again)
{
    char a[4096];
    post("count", "x");
    post("count", "y");
    long long before = short_poll_stat("messages_out");
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(page("/api/rooms/count/messages?since=0", a, sizeof a), 200);
    CHECK_EQ_INT(short_poll_stat("messages_out") - before, 6);
}

TEST(a_publish_between_two_polls_is_in_the_second_page)
{
    char a[4096], b[4096];
    post("moves", "first");
    CHECK_EQ_INT(page("/api/rooms/moves/messages?since=0", a, sizeof a), 200);
    post("moves", "second");
    CHECK_EQ_INT(page("/api/rooms/moves/messages?since=0", b, sizeof b), 200);
    CHECK(strstr(a, "\"text\":\"second\"") == NULL);
    CHECK(strstr(b, "\"text\":\"second\"") != NULL);
    CHECK(strstr(b, "\"last_id\":2,") != NULL);
}

TEST(polls_with_another_since_or_limit_get_their_own_page)
{
    char all[4096], after[4096], one[4096];
    post("keys", "a");
    post("keys", "b");
    CHECK_EQ_INT(page("/api/rooms/keys/messages?since=0", all, sizeof all), 200);
    CHECK_EQ_INT(page("/api/rooms/keys/messages?since=1", after, sizeof after), 200);
    CHECK_EQ_INT(page("/api/rooms/keys/messages?since=0&limit=1", one, sizeof one), 200);
    CHECK(strstr(all, "\"text\":\"a\"") && strstr(all, "\"text\":\"b\""));
    CHECK(!strstr(after, "\"text\":\"a\"") && strstr(after, "\"text\":\"b\""));
    CHECK(strstr(one, "\"text\":\"a\"") && !strstr(one, "\"text\":\"b\""));
}

TEST(rooms_sharing_a_cache_slot_keep_their_own_pages)
{
    /* 200 rooms over the cache's 64 slots: neighbours evict each other,
     * and every page is still its own room's. */
    char name[32], want[64], got[4096];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "slot%d", i);
        post(name, name);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 200; i++) {
            char path[96];
            snprintf(path, sizeof path, "/api/rooms/slot%d/messages?since=0", i);
            CHECK_EQ_INT(page(path, got, sizeof got), 200);
            snprintf(want, sizeof want, "{\"room\":\"slot%d\",", i);
            CHECK(strncmp(got, want, strlen(want)) == 0);
            snprintf(want, sizeof want, "\"text\":\"slot%d\"", i);
            CHECK(strstr(got, want) != NULL);
        }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_pages SERVER_BIN\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *args[] = {"--heartbeat", "30", NULL};
    if (pl_test_server_start(&srv, argv[1], args) != 0) {
        printf("Bail out! server did not start\n");
        return 1;
    }
    RUN(the_same_poll_of_an_unchanged_room_gets_the_same_page_each_time);
    RUN(a_page_served_again_counts_its_messages_again);
    RUN(a_publish_between_two_polls_is_in_the_second_page);
    RUN(polls_with_another_since_or_limit_get_their_own_page);
    RUN(rooms_sharing_a_cache_slot_keep_their_own_pages);
    int rc = pl_test_server_stop(&srv, SIGTERM);
    printf("%sok %d - server_exits_zero_after_them\n", rc == 0 ? "" : "not ", ++check_run);
    if (rc != 0)
        check_failures++;
    return CHECK_DONE();
}
