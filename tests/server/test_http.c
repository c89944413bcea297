/* Integration tests of pushlab-server's HTTP side against the real binary
 * on free ports: publish, short polling, long polling, SSE, errors, stats,
 * static files and shutdown. argv[1] is the server binary. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include "check.h"
#include "http_raw.h"
#include "spawn.h"

static const char *server_bin;
static pl_test_server srv;
static char resp[65536];

#define JSON_CT "Content-Type: application/json\r\n"

static int post(const char *room, const char *body)
{
    char path[256];
    snprintf(path, sizeof path, "/api/rooms/%s/messages", room);
    return raw_request(srv.http_port, "POST", path, JSON_CT, body, resp, sizeof resp);
}

static int get(const char *path)
{
    return raw_request(srv.http_port, "GET", path, NULL, NULL, resp, sizeof resp);
}

/* Value of numeric field "key": in the last response body, or -1. */
static long long field(const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(raw_body(resp), pat);
    return p ? atoll(p + strlen(pat)) : -1;
}

TEST(listening_line_names_both_ports)
{
    CHECK(srv.http_port > 0);
    CHECK(srv.ws_port > 0);
    CHECK(srv.http_port != srv.ws_port);
    CHECK(strncmp(srv.ws, "ws://127.0.0.1:", 15) == 0);
}

TEST(publish_returns_201_with_the_stored_message)
{
    CHECK_EQ_INT(post("pub", "{\"user\":\"ann\",\"text\":\"hello\"}"), 201);
    CHECK(strstr(resp, "Content-Type: application/json") != NULL);
    const char *want = "{\"id\":1,\"room\":\"pub\",\"user\":\"ann\",\"text\":\"hello\",\"ts\":";
    CHECK(strncmp(raw_body(resp), want, strlen(want)) == 0);
    CHECK_EQ_INT(post("pub", "{\"user\":\"ann\",\"text\":\"again\"}"), 201);
    CHECK_EQ_INT(field("id"), 2);
}

TEST(repeated_cid_returns_200_and_the_same_message)
{
    CHECK_EQ_INT(post("cid", "{\"user\":\"ann\",\"text\":\"once\",\"cid\":\"k1\"}"), 201);
    long long id = field("id");
    CHECK_EQ_INT(post("cid", "{\"user\":\"ann\",\"text\":\"once\",\"cid\":\"k1\"}"), 200);
    CHECK_EQ_INT(field("id"), id);
    CHECK_EQ_INT(get("/api/rooms/cid/messages"), 200);
    CHECK_EQ_INT(field("last_id"), 1);
}

TEST(short_poll_pages_after_since_with_limit)
{
    for (int i = 0; i < 5; i++)
        post("page", "{\"user\":\"ann\",\"text\":\"m\"}");
    CHECK_EQ_INT(get("/api/rooms/page/messages?since=1&limit=2"), 200);
    const char *b = raw_body(resp);
    CHECK(strstr(b, "{\"room\":\"page\",\"messages\":[{\"id\":2,") == b);
    CHECK(strstr(b, "{\"id\":3,") != NULL);
    CHECK(strstr(b, "{\"id\":4,") == NULL);
    CHECK(strstr(b, "\"last_id\":5,\"oldest_id\":1,\"gap\":false}") != NULL);
}

TEST(short_poll_of_an_unused_room_is_an_empty_page)
{
    CHECK_EQ_INT(get("/api/rooms/never-used/messages"), 200);
    CHECK_EQ_STR(
        raw_body(resp),
        "{\"room\":\"never-used\",\"messages\":[],\"last_id\":0,\"oldest_id\":0,\"gap\":false}");
}

typedef struct bg_get {
    char path[256];
    char resp[8192];
    int status;
    long long ms;
} bg_get;

static void *bg_get_main(void *arg)
{
    bg_get *g = arg;
    long long t0 = raw_now_ms();
    g->status = raw_request(srv.http_port, "GET", g->path, NULL, NULL, g->resp, sizeof g->resp);
    g->ms = raw_now_ms() - t0;
    return NULL;
}

TEST(long_poll_returns_on_publish_not_at_its_timeout)
{
    bg_get g = {.path = "/api/rooms/lp/poll?since=0&timeout=20"};
    pthread_t t;
    pthread_create(&t, NULL, bg_get_main, &g);
    usleep(300 * 1000);
    post("lp", "{\"user\":\"ann\",\"text\":\"wake up\"}");
    pthread_join(t, NULL);
    CHECK_EQ_INT(g.status, 200);
    CHECK(strstr(g.resp, "\"text\":\"wake up\"") != NULL);
    CHECK(strstr(g.resp, "\"id\":1,") != NULL);
    CHECK(g.ms < 10000); /* woken by the publish, far before the 20 s timeout */
}

TEST(long_poll_times_out_with_an_empty_page)
{
    CHECK_EQ_INT(get("/api/rooms/lp-idle/poll?timeout=1"), 200);
    CHECK(strstr(raw_body(resp), "\"messages\":[]") != NULL);
}

TEST(long_poll_answers_at_once_when_messages_wait)
{
    post("lp-ready", "{\"user\":\"ann\",\"text\":\"already\"}");
    bg_get g = {.path = "/api/rooms/lp-ready/poll?since=0&timeout=30"};
    bg_get_main(&g);
    CHECK_EQ_INT(g.status, 200);
    CHECK(strstr(g.resp, "\"text\":\"already\"") != NULL);
    CHECK(g.ms < 10000);
}

/* Opens an SSE stream with `extra` headers; returns the socket. */
static int sse_open(const char *path, const char *extra, char *buf, size_t cap, size_t *len)
{
    char req[512];
    int fd = raw_connect(srv.http_port);
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n%s\r\n",
             path, extra ? extra : "");
    raw_send(fd, req, strlen(req));
    *len = 0;
    raw_read_until(fd, buf, cap, len, "retry: 2000\n\n", 3000);
    return fd;
}

TEST(sse_stream_has_the_protocol_headers_and_retry)
{
    char buf[4096];
    size_t len;
    int fd = sse_open("/api/rooms/sse-h/events", NULL, buf, sizeof buf, &len);
    CHECK(strstr(buf, "HTTP/1.1 200") == buf);
    CHECK(strstr(buf, "Content-Type: text/event-stream\r\n") != NULL);
    CHECK(strstr(buf, "Cache-Control: no-cache\r\n") != NULL);
    CHECK(strstr(buf, "X-Accel-Buffering: no\r\n") != NULL);
    CHECK(strstr(buf, "retry: 2000\n\n") != NULL);
    close(fd);
}

TEST(sse_delivers_a_published_message_as_one_event_with_its_id)
{
    char buf[8192];
    size_t len;
    int fd = sse_open("/api/rooms/sse-d/events", NULL, buf, sizeof buf, &len);
    post("sse-d", "{\"user\":\"ann\",\"text\":\"live\"}");
    CHECK(raw_read_until(fd, buf, sizeof buf, &len, "\"text\":\"live\"", 3000));
    CHECK(strstr(buf, "id: 1\nevent: message\ndata: {\"id\":1,\"room\":\"sse-d\",\"user\":\"ann\","
                      "\"text\":\"live\",\"ts\":") != NULL);
    close(fd);
}

TEST(sse_without_resume_point_sends_only_new_messages)
{
    char buf[8192];
    size_t len;
    post("sse-new", "{\"user\":\"ann\",\"text\":\"old\"}");
    int fd = sse_open("/api/rooms/sse-new/events", NULL, buf, sizeof buf, &len);
    post("sse-new", "{\"user\":\"ann\",\"text\":\"new\"}");
    CHECK(raw_read_until(fd, buf, sizeof buf, &len, "\"text\":\"new\"", 3000));
    CHECK(strstr(buf, "\"text\":\"old\"") == NULL);
    CHECK(strstr(buf, "id: 2\n") != NULL);
    close(fd);
}

TEST(sse_resumes_after_last_event_id_without_loss_or_repeat)
{
    char buf[16384];
    size_t len;
    for (int i = 0; i < 6; i++)
        post("sse-r", "{\"user\":\"ann\",\"text\":\"m\"}");
    int fd =
        sse_open("/api/rooms/sse-r/events?since=0", "Last-Event-ID: 3\r\n", buf, sizeof buf, &len);
    CHECK(raw_read_until(fd, buf, sizeof buf, &len, "id: 6\n", 3000));
    CHECK(strstr(buf, "id: 3\n") == NULL); /* the header wins over ?since=0 */
    const char *p4 = strstr(buf, "id: 4\n"), *p5 = strstr(buf, "id: 5\n");
    CHECK(p4 && p5 && p4 < p5);
    CHECK(strstr(p4 + 1, "id: 4\n") == NULL);
    close(fd);
}

TEST(sse_since_query_replays_history)
{
    char buf[16384];
    size_t len;
    for (int i = 0; i < 3; i++)
        post("sse-s", "{\"user\":\"ann\",\"text\":\"m\"}");
    int fd = sse_open("/api/rooms/sse-s/events?since=1", NULL, buf, sizeof buf, &len);
    CHECK(raw_read_until(fd, buf, sizeof buf, &len, "id: 3\n", 3000));
    CHECK(strstr(buf, "id: 1\n") == NULL);
    CHECK(strstr(buf, "id: 2\n") != NULL);
    close(fd);
}

/* The "sse" block of the last /api/stats response. */
static long long sse_field(const char *key)
{
    char pat[64];
    const char *sse = strstr(raw_body(resp), "\"sse\":{");
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = sse ? strstr(sse, pat) : NULL;
    return p ? atoll(p + strlen(pat)) : -1;
}

/* Runs `body` against a server of its own started with `args`, then
 * restores the shared one. */
static void on_server_with(const char *const *args, void (*body)(void))
{
    pl_test_server shared = srv;
    if (pl_test_server_start(&srv, server_bin, args) != 0) {
        srv = shared;
        printf("# own server did not start\n");
        check_failed_now = 1;
        return;
    }
    body();
    pl_test_server_stop(&srv, SIGTERM);
    srv = shared;
}

/* A server of its own with heartbeat 30 s: no pings and no other streams
 * to blur the counters. */
static void on_own_server(void (*body)(void))
{
    const char *args[] = {"--heartbeat", "30", NULL};
    on_server_with(args, body);
}

/* Polls /api/stats until the "key" counter of `transport` equals `want`
 * (up to 3 s); returns the last value seen. */
static long long wait_stat(const char *transport, const char *key, long long want)
{
    char pat[64];
    long long v = -1;
    for (int i = 0; i < 60 && v != want; i++) {
        if (i)
            usleep(50 * 1000);
        get("/api/stats");
        snprintf(pat, sizeof pat, "\"%s\":{", transport);
        const char *t = strstr(raw_body(resp), pat);
        snprintf(pat, sizeof pat, "\"%s\":", key);
        const char *p = t ? strstr(t, pat) : NULL;
        v = p ? atoll(p + strlen(pat)) : -1;
    }
    return v;
}

static void sse_bytes_body(void)
{
    char buf[8192];
    size_t len;
    CHECK_EQ_INT(get("/api/stats"), 200);
    long long before = sse_field("bytes_out");
    int fd = sse_open("/api/rooms/sse-bytes/events", NULL, buf, sizeof buf, &len);
    post("sse-bytes", "{\"user\":\"ann\",\"text\":\"count me\"}");
    CHECK(raw_read_until(fd, buf, sizeof buf, &len, "count me", 3000));
    usleep(100 * 1000);
    CHECK_EQ_INT(get("/api/stats"), 200);
    /* Every byte the client read, headers included, and nothing more. */
    CHECK_EQ_INT(sse_field("bytes_out") - before, (long long)len);
    close(fd);
}

TEST(sse_bytes_out_include_the_headers_while_the_stream_is_open) { on_own_server(sse_bytes_body); }

static void sse_hangup_body(void)
{
    char buf[4096];
    size_t len;
    int fd = sse_open("/api/rooms/sse-gone/events", NULL, buf, sizeof buf, &len);
    CHECK_EQ_INT(wait_stat("sse", "connections", 1), 1);
    close(fd);
    /* Noticed at once, not at a heartbeat write 30 s away. */
    CHECK_EQ_INT(wait_stat("sse", "connections", 0), 0);
}

TEST(sse_stream_whose_client_left_is_closed_at_once) { on_own_server(sse_hangup_body); }

static void lp_hangup_body(void)
{
    int fd = raw_connect(srv.http_port);
    const char *req = "GET /api/rooms/lp-gone/poll?timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(fd, req, strlen(req));
    CHECK_EQ_INT(wait_stat("long_poll", "waiting", 1), 1);
    close(fd);
    /* The slot is freed now, not when the 60 s timeout runs out. */
    CHECK_EQ_INT(wait_stat("long_poll", "waiting", 0), 0);
    post("lp-gone", "{\"user\":\"ann\",\"text\":\"still fine\"}");
    CHECK_EQ_INT(get("/api/rooms/lp-gone/messages"), 200);
    CHECK_EQ_INT(field("last_id"), 1);
}

TEST(long_poll_whose_client_left_stops_waiting_at_once) { on_own_server(lp_hangup_body); }

/* The hang-up watch of a poll starts after it waited a second; a client
 * leaving after that is noticed by the watch already in place. */
static void lp_late_hangup_body(void)
{
    int fd = raw_connect(srv.http_port);
    const char *req = "GET /api/rooms/lp-late/poll?timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(fd, req, strlen(req));
    CHECK_EQ_INT(wait_stat("long_poll", "waiting", 1), 1);
    usleep(1500 * 1000);
    close(fd);
    CHECK_EQ_INT(wait_stat("long_poll", "waiting", 0), 0);
}

TEST(long_poll_whose_client_left_after_a_second_stops_waiting)
{
    on_own_server(lp_late_hangup_body);
}

TEST(sse_sends_heartbeat_comments)
{
    char buf[4096];
    size_t len;
    int fd = sse_open("/api/rooms/sse-ping/events", NULL, buf, sizeof buf, &len);
    CHECK(raw_read_until(fd, buf, sizeof buf, &len, ": ping\n\n", 4000)); /* --heartbeat 1 */
    close(fd);
}

/* Reads until `n` pings arrived (each is its own chunk) or `ms` passed. */
static bool read_pings(int fd, char *buf, size_t cap, size_t *len, int n, int ms)
{
    long long end = raw_now_ms() + ms;
    for (;;) {
        int seen = 0;
        buf[*len] = '\0';
        for (const char *p = buf; (p = strstr(p, ": ping\n\n")); p++)
            seen++;
        long long left = end - raw_now_ms();
        if (seen >= n)
            return true;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (left <= 0 || *len + 1 >= cap || poll(&pf, 1, (int)left) <= 0)
            return false;
        ssize_t r = read(fd, buf + *len, cap - 1 - *len);
        if (r <= 0)
            return false;
        *len += (size_t)r;
    }
}

/* Two streams side by side: `asked` (its own heartbeat) gets two pings
 * within 3 s, the other gets none while that happens, or the other way
 * round when `asked_pings` is false. */
static void beat_pair(const char *asked, bool asked_pings)
{
    char a[4096], b[4096];
    size_t la, lb;
    int fa = sse_open(asked, NULL, a, sizeof a, &la);
    int fb = sse_open("/api/rooms/beat/events", NULL, b, sizeof b, &lb);
    int fast = asked_pings ? fa : fb, slow = asked_pings ? fb : fa;
    char *fbuf = asked_pings ? a : b, *sbuf = asked_pings ? b : a;
    size_t *flen = asked_pings ? &la : &lb, *slen = asked_pings ? &lb : &la;
    bool got_fast = read_pings(fast, fbuf, sizeof a, flen, 2, 3500);
    bool got_slow = read_pings(slow, sbuf, sizeof a, slen, 1, 200);
    close(fa);
    close(fb);
    CHECK(got_fast);
    CHECK(!got_slow);
}

/* --heartbeat 30: the stream asking for 1 s is pinged, the other not. */
static void sse_own_beat_body(void) { beat_pair("/api/rooms/beat/events?heartbeat=1", true); }

TEST(sse_heartbeat_query_gives_the_stream_its_own_ping_period) { on_own_server(sse_own_beat_body); }

/* --max-heartbeat 1: asking for 600 s gets 1 s. */
static void sse_max_beat_body(void) { beat_pair("/api/rooms/beat/events?heartbeat=600", true); }

TEST(sse_heartbeat_above_the_maximum_is_clamped_to_it)
{
    const char *args[] = {"--heartbeat", "30", "--max-heartbeat", "1", NULL};
    on_server_with(args, sse_max_beat_body);
}

/* --heartbeat 1 --min-heartbeat 30: asking for 0 s gets 30 s, so the
 * default stream is pinged and this one not. */
static void sse_min_beat_body(void) { beat_pair("/api/rooms/beat/events?heartbeat=0", false); }

TEST(sse_heartbeat_below_the_minimum_is_clamped_to_it)
{
    const char *args[] = {"--heartbeat", "1", "--min-heartbeat", "30", NULL};
    on_server_with(args, sse_min_beat_body);
}

TEST(server_refuses_a_minimum_heartbeat_above_the_maximum)
{
    pl_test_server s2;
    const char *args[] = {"--min-heartbeat", "10", "--max-heartbeat", "5", NULL};
    CHECK(pl_test_server_start(&s2, server_bin, args) != 0);
}

static void expect_error(int status, int want, const char *code)
{
    char pat[64];
    snprintf(pat, sizeof pat, "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    if (status != want || strstr(raw_body(resp), pat) != raw_body(resp)) {
        printf("# wanted %d %s, got %d: %s\n", want, code, status, raw_body(resp));
        check_failed_now = 1;
    }
}

TEST(bad_room_name_is_400)
{
    expect_error(get("/api/rooms/bad.room/messages"), 400, "bad_request");
    expect_error(get("/api/rooms/"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "/events"),
                 400, "bad_request");
}

TEST(bad_query_integers_are_400)
{
    expect_error(get("/api/rooms/q/messages?since=-1"), 400, "bad_request");
    expect_error(get("/api/rooms/q/messages?limit=ten"), 400, "bad_request");
    expect_error(get("/api/rooms/q/poll?timeout=1.5"), 400, "bad_request");
    expect_error(get("/api/rooms/q/events?since="), 400, "bad_request");
    expect_error(get("/api/rooms/q/events?heartbeat=ten"), 400, "bad_request");
    expect_error(get("/api/rooms/q/events?heartbeat=-5"), 400, "bad_request");
}

TEST(unknown_path_is_404)
{
    expect_error(get("/api/nothing"), 404, "not_found");
    expect_error(get("/api/rooms/x/other"), 404, "not_found");
    expect_error(get("/no-such-file.html"), 404, "not_found");
}

TEST(wrong_method_is_405_with_allow)
{
    expect_error(raw_request(srv.http_port, "DELETE", "/api/rooms/x/messages", NULL, NULL, resp,
                             sizeof resp),
                 405, "method_not_allowed");
    CHECK(strstr(resp, "Allow: GET, POST\r\n") != NULL);
    expect_error(
        raw_request(srv.http_port, "POST", "/api/rooms/x/events", JSON_CT, "{}", resp, sizeof resp),
        405, "method_not_allowed");
    CHECK(strstr(resp, "Allow: GET\r\n") != NULL);
}

TEST(publish_without_json_content_type_is_415)
{
    expect_error(raw_request(srv.http_port, "POST", "/api/rooms/x/messages",
                             "Content-Type: text/plain\r\n", "{\"user\":\"a\",\"text\":\"b\"}",
                             resp, sizeof resp),
                 415, "unsupported_media_type");
    CHECK_EQ_INT(raw_request(srv.http_port, "POST", "/api/rooms/x/messages",
                             "Content-Type: Application/JSON; charset=utf-8\r\n",
                             "{\"user\":\"a\",\"text\":\"b\"}", resp, sizeof resp),
                 201);
}

TEST(publish_body_over_16k_is_413)
{
    static char body[17000];
    memset(body, ' ', sizeof body - 1);
    body[0] = '{';
    body[sizeof body - 2] = '}';
    expect_error(post("big", body), 413, "payload_too_large");
}

TEST(invalid_publishes_are_400)
{
    expect_error(post("v", "{not json"), 400, "bad_request");
    expect_error(post("v", "{\"user\":\"ann\",\"text\":\"\"}"), 400, "bad_request");
    expect_error(post("v", "{\"user\":\"ann\",\"text\":\"\xff\"}"), 400, "bad_request");
    expect_error(post("v", "{\"user\":\"a\\u0007\",\"text\":\"x\"}"), 400, "bad_request");
    expect_error(post("v", "{\"user\":\"ann\",\"text\":5}"), 400, "bad_request");
}

TEST(bad_input_changes_nothing_and_is_counted)
{
    CHECK_EQ_INT(get("/api/stats"), 200);
    long long before = field("400");
    post("clean", "{\"user\":\"ann\",\"text\":\"ok\"}");
    post("clean", "{\"user\":\"ann\"}");
    post("clean", "[]");
    post("clean", "{\"user\":\"ann\",\"text\":\"ok2\"}");
    CHECK_EQ_INT(get("/api/rooms/clean/messages"), 200);
    CHECK_EQ_INT(field("last_id"), 2); /* ids stay contiguous */
    CHECK_EQ_INT(get("/api/stats"), 200);
    CHECK_EQ_INT(field("400"), before + 2);
}

TEST(stats_count_requests_messages_and_bytes)
{
    CHECK_EQ_INT(get("/api/stats"), 200);
    const char *b = raw_body(resp);
    CHECK(strstr(b, "\"uptime_s\":") && strstr(b, "\"cpu_user_s\":") &&
          strstr(b, "\"rss_bytes\":"));
    CHECK(strstr(b, "\"short_poll\":{\"requests\":") != NULL);
    CHECK(strstr(b, "\"long_poll\":{\"requests\":") != NULL);
    CHECK(strstr(b, "\"ws\":{\"connections\":") != NULL);
    long long bytes = atoll(strstr(b, "\"bytes_out\":") + 12);
    CHECK(bytes > 0); /* short polls above sent bytes, headers included */
    CHECK(field("messages_published") > 0);
}

TEST(config_names_the_websocket_listener)
{
    CHECK_EQ_INT(get("/api/config"), 200);
    char want[160];
    snprintf(want, sizeof want, "\"ws_url\":\"%s\"", srv.ws);
    CHECK(strstr(raw_body(resp), want) != NULL);
    CHECK(
        strstr(raw_body(resp), "\"heartbeat_s\":1,\"heartbeat_min_s\":1,\"heartbeat_max_s\":300}"));
}

TEST(config_uses_the_host_the_client_dialled)
{
    CHECK_EQ_INT(raw_request(srv.http_port, "GET", "/api/config", "Host: localhost:1234\r\n", NULL,
                             resp, sizeof resp),
                 200);
    char want[160];
    snprintf(want, sizeof want, "\"ws_url\":\"ws://localhost:%d\"", srv.ws_port);
    CHECK(strstr(raw_body(resp), want) != NULL);
}

TEST(healthz_is_ok)
{
    CHECK_EQ_INT(get("/healthz"), 200);
    CHECK_EQ_STR(raw_body(resp), "ok\n");
}

TEST(static_files_are_served_and_cannot_escape_the_root)
{
    CHECK_EQ_INT(get("/"), 200);
    CHECK(strstr(resp, "Content-Type: text/html") != NULL);
    expect_error(get("/../meson.build"), 404, "not_found");
    expect_error(get("/%2e%2e/meson.build"), 404, "not_found");
    expect_error(get("/.hidden"), 404, "not_found");
}

TEST(a_folder_serves_its_index_and_is_reached_without_its_slash)
{
    CHECK_EQ_INT(get("/slides/"), 200);
    CHECK(strstr(resp, "Content-Type: text/html") != NULL);
    CHECK(strstr(resp, "pushlab workshop: slides") != NULL);
    CHECK_EQ_INT(get("/slides"), 301);
    CHECK(strstr(resp, "\r\nLocation: /slides/\r\n") != NULL);
    CHECK_EQ_INT(get("/slides/slides.css"), 200);
    CHECK(strstr(resp, "Content-Type: text/css") != NULL);
}

TEST(sigterm_closes_open_streams_and_exits_zero)
{
    pl_test_server s2;
    const char *args[] = {"--heartbeat", "30", NULL};
    CHECK(pl_test_server_start(&s2, server_bin, args) == 0);
    int fd = raw_connect(s2.http_port);
    const char *req = "GET /api/rooms/a/events HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(fd, req, strlen(req));
    int lp = raw_connect(s2.http_port);
    req = "GET /api/rooms/a/poll?timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(lp, req, strlen(req));
    usleep(200 * 1000);
    CHECK_EQ_INT(pl_test_server_stop(&s2, SIGTERM), 0);
    close(fd);
    close(lp);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_http SERVER_BIN WEB_ROOT\n");
        return 2;
    }
    server_bin = argv[1];
    signal(SIGPIPE, SIG_IGN);
    const char *args[] = {"--heartbeat", "1", "--web-root", argv[2], NULL};
    if (pl_test_server_start(&srv, server_bin, args) != 0) {
        printf("Bail out! server did not start\n");
        return 1;
    }
    RUN(listening_line_names_both_ports);
    RUN(publish_returns_201_with_the_stored_message);
    RUN(repeated_cid_returns_200_and_the_same_message);
    RUN(short_poll_pages_after_since_with_limit);
    RUN(short_poll_of_an_unused_room_is_an_empty_page);
    RUN(long_poll_returns_on_publish_not_at_its_timeout);
    RUN(long_poll_times_out_with_an_empty_page);
    RUN(long_poll_answers_at_once_when_messages_wait);
    RUN(sse_stream_has_the_protocol_headers_and_retry);
    RUN(sse_delivers_a_published_message_as_one_event_with_its_id);
    RUN(sse_without_resume_point_sends_only_new_messages);
    RUN(sse_resumes_after_last_event_id_without_loss_or_repeat);
    RUN(sse_since_query_replays_history);
    RUN(sse_bytes_out_include_the_headers_while_the_stream_is_open);
    RUN(sse_stream_whose_client_left_is_closed_at_once);
    RUN(long_poll_whose_client_left_stops_waiting_at_once);
    RUN(long_poll_whose_client_left_after_a_second_stops_waiting);
    RUN(sse_sends_heartbeat_comments);
    RUN(sse_heartbeat_query_gives_the_stream_its_own_ping_period);
    RUN(sse_heartbeat_above_the_maximum_is_clamped_to_it);
    RUN(sse_heartbeat_below_the_minimum_is_clamped_to_it);
    RUN(server_refuses_a_minimum_heartbeat_above_the_maximum);
    RUN(bad_room_name_is_400);
    RUN(bad_query_integers_are_400);
    RUN(unknown_path_is_404);
    RUN(wrong_method_is_405_with_allow);
    RUN(publish_without_json_content_type_is_415);
    RUN(publish_body_over_16k_is_413);
    RUN(invalid_publishes_are_400);
    RUN(bad_input_changes_nothing_and_is_counted);
    RUN(stats_count_requests_messages_and_bytes);
    RUN(config_names_the_websocket_listener);
    RUN(config_uses_the_host_the_client_dialled);
    RUN(healthz_is_ok);
    RUN(static_files_are_served_and_cannot_escape_the_root);
    RUN(a_folder_serves_its_index_and_is_reached_without_its_slash);
    RUN(sigterm_closes_open_streams_and_exits_zero);
    int still_serving = get("/healthz") == 200;
    printf("%sok %d - server_still_serves_after_all_of_the_above\n", still_serving ? "" : "not ",
           ++check_run);
    if (!still_serving)
        check_failures++;
    int rc = pl_test_server_stop(&srv, SIGTERM);
    printf("%sok %d - server_exits_zero_on_sigterm\n", rc == 0 ? "" : "not ", ++check_run);
    if (rc != 0)
        check_failures++;
    return CHECK_DONE();
}
