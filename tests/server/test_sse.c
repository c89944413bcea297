/* Integration tests of the SSE stream's framing and its direct path (the
 * publisher writing a caught-up stream's socket itself): the answer is
 * close-delimited, a reader that stalls loses nothing, one that reads
 * late has its writes coalesced (or not, with --no-coalesce), a stream the
 * server ends says so, and a large fan-out (two writing threads) loses
 * and repeats nothing. Each test runs its own server; argv[1] is it. */
#include <signal.h>
#include <stdlib.h>
#include "check.h"
#include "http_raw.h"
#include "spawn.h"

static const char *server_bin;
static pl_test_server srv;
static char resp[65536];

static int post(const char *room, const char *body)
{
    char path[256];
    snprintf(path, sizeof path, "/api/rooms/%s/messages", room);
    return raw_request(srv.http_port, "POST", path, "Content-Type: application/json\r\n", body,
                       resp, sizeof resp);
}

/* A stream of `path`, its socket's receive buffer `rcvbuf` bytes (0: the
 * default), read up to its retry line. */
static int sse_open(const char *path, int rcvbuf, char *buf, size_t cap, size_t *len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.http_port)};
    char req[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    raw_send(fd, req, strlen(req));
    *len = 0;
    raw_read_until(fd, buf, cap, len, "retry: 2000\n\n", 3000);
    return fd;
}

static int start(const char *const *args)
{
    if (pl_test_server_start(&srv, server_bin, args) == 0)
        return 0;
    printf("# server did not start\n");
    return -1;
}

TEST(sse_answer_is_close_delimited_with_the_events_as_its_body)
{
    const char *args[] = {"--heartbeat", "30", NULL};
    char buf[8192];
    size_t len;
    CHECK(start(args) == 0);
    int fd = sse_open("/api/rooms/plain/events", 0, buf, sizeof buf, &len);
    post("plain", "{\"user\":\"ann\",\"text\":\"raw\"}");
    int got = raw_read_until(fd, buf, sizeof buf, &len, "\"text\":\"raw\"", 3000);
    close(fd);
    pl_test_server_stop(&srv, SIGTERM);
    CHECK(got);
    const char *body = strstr(buf, "\r\n\r\n");
    CHECK(body != NULL);
    CHECK(strstr(buf, "Connection: close\r\n") < body);
    CHECK(strstr(buf, "Transfer-Encoding") == NULL);
    CHECK(strstr(buf, "Content-Length") == NULL);
    /* No chunk sizes between the events: the body is the events. */
    CHECK(strncmp(body + 4, "retry: 2000\n\nid: 1\nevent: message\ndata: {\"id\":1,", 46) == 0);
}

/* Ids of the events in `text`, in order, checked to be 1..n: returns n,
 * or -1 at the first id out of place. */
static long events_in_order(const char *text)
{
    long want = 1;
    for (const char *p = text; (p = strstr(p, "\nid: ")); p++) {
        if (atol(p + 5) != want)
            return -1;
        want++;
    }
    return want - 1;
}

#define STALL_MESSAGES 1200

TEST(sse_reader_that_stalls_gets_every_message_in_order_when_it_reads_again)
{
    /* 1200 events of 4 KB (4.9 MB) overflow both sockets' buffers while
     * the reader does not read, so the publisher's writes fall short and
     * the rest goes out later; the lag limit is above the backlog. */
    const char *args[] = {"--heartbeat", "30", "--history", "2000", "--max-lag", "2000", NULL};
    static char text[4001], body[4200], all[6 << 20];
    size_t len = 0;
    CHECK(start(args) == 0);
    memset(text, 'x', sizeof text - 1);
    snprintf(body, sizeof body, "{\"user\":\"ann\",\"text\":\"%s\"}", text);
    int fd = sse_open("/api/rooms/stall/events", 4096, all, sizeof all, &len);
    int stored = 0;
    for (int i = 0; i < STALL_MESSAGES; i++)
        stored += post("stall", body) == 201;
    char last[32];
    snprintf(last, sizeof last, "\nid: %d\n", STALL_MESSAGES);
    int got = raw_read_until(fd, all, sizeof all, &len, last, 20000);
    raw_read_until(fd, all, sizeof all, &len, "\n\n\n", 300); /* the rest of the last event */
    close(fd);
    pl_test_server_stop(&srv, SIGTERM);
    CHECK_EQ_INT(stored, STALL_MESSAGES);
    CHECK(got);
    CHECK_EQ_INT(events_in_order(all), STALL_MESSAGES);
}

/* sse.coalesced in GET /api/stats, or -1. */
static long sse_coalesced(void)
{
    if (raw_request(srv.http_port, "GET", "/api/stats", "", NULL, resp, sizeof resp) != 200)
        return -1;
    const char *sse = strstr(resp, "\"sse\":{");
    const char *n = sse ? strstr(sse, "\"coalesced\":") : NULL;
    return n ? atol(n + 12) : -1;
}

/* A stream whose 4 KB window is full while 40 events of 1 KB come: its
 * writes wait unacknowledged, so Nagle takes over (common/coalesce.h).
 * Returns the events it then read, in order; *coalesced the count. */
static long late_stream_reads(const char *const *args, long *coalesced)
{
    enum { N = 40 };
    static char text[1001], body[1100], all[1 << 17];
    size_t len = 0;
    *coalesced = -1;
    if (start(args) != 0)
        return -1;
    memset(text, 'y', sizeof text - 1);
    snprintf(body, sizeof body, "{\"user\":\"ann\",\"text\":\"%s\"}", text);
    int fd = sse_open("/api/rooms/late/events", 4096, all, sizeof all, &len);
    for (int i = 0; i < N; i++)
        post("late", body);
    int got = raw_read_until(fd, all, sizeof all, &len, "\nid: 40\n", 5000);
    raw_read_until(fd, all, sizeof all, &len, "\n\n\n", 300);
    *coalesced = sse_coalesced();
    close(fd);
    pl_test_server_stop(&srv, SIGTERM);
    return got ? events_in_order(all) : -1;
}

TEST(a_stream_that_reads_late_is_coalesced_and_gets_every_event)
{
    const char *args[] = {"--heartbeat", "30", NULL};
    long coalesced;
    CHECK_EQ_INT(late_stream_reads(args, &coalesced), 40);
    CHECK(coalesced >= 1);
}

TEST(with_no_coalesce_a_stream_that_reads_late_is_never_coalesced)
{
    const char *args[] = {"--heartbeat", "30", "--no-coalesce", NULL};
    long coalesced;
    CHECK_EQ_INT(late_stream_reads(args, &coalesced), 40);
    CHECK_EQ_INT(coalesced, 0);
}

TEST(sse_stream_the_server_ends_closes_with_the_end_comment)
{
    const char *args[] = {"--heartbeat", "30", NULL};
    char buf[8192];
    size_t len;
    CHECK(start(args) == 0);
    int fd = sse_open("/api/rooms/bye/events", 0, buf, sizeof buf, &len);
    post("bye", "{\"user\":\"ann\",\"text\":\"before\"}");
    raw_read_until(fd, buf, sizeof buf, &len, "\"text\":\"before\"", 3000);
    kill(srv.pid, SIGTERM);
    raw_read_until(fd, buf, sizeof buf, &len, NULL, 5000); /* to EOF */
    close(fd);
    int rc = pl_test_server_stop(&srv, SIGTERM);
    CHECK_EQ_INT(rc, 0);
    CHECK(len > 6 && strcmp(buf + len - 6, ": end\n") == 0);
}

/* 600 streams: past the fan-out that wakes the helper thread, in many
 * batches, so two threads write this publish's streams. */
#define MANY 600

TEST(a_publish_to_many_streams_reaches_each_once_in_order)
{
    const char *args[] = {"--heartbeat", "30", NULL};
    static int fds[MANY];
    static char buf[4096];
    size_t len;
    int opened = 0, complete = 0;
    CHECK(start(args) == 0);
    for (int i = 0; i < MANY; i++)
        if ((fds[i] = sse_open("/api/rooms/many/events", 0, buf, sizeof buf, &len)) >= 0)
            opened++;
    for (int m = 1; m <= 3; m++) {
        char body[64];
        snprintf(body, sizeof body, "{\"user\":\"ann\",\"text\":\"m%d\"}", m);
        post("many", body);
    }
    for (int i = 0; i < MANY; i++) {
        buf[0] = '\n'; /* what came before the first id (events_in_order) */
        len = 1;
        if (fds[i] >= 0 && raw_read_until(fds[i], buf, sizeof buf, &len, "\"text\":\"m3\"", 3000) &&
            events_in_order(buf) == 3)
            complete++;
        if (fds[i] >= 0)
            close(fds[i]);
    }
    int rc = pl_test_server_stop(&srv, SIGTERM);
    CHECK_EQ_INT(opened, MANY);
    CHECK_EQ_INT(complete, MANY);
    CHECK_EQ_INT(rc, 0); /* the helper thread stopped with the server */
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_sse SERVER_BIN\n");
        return 2;
    }
    server_bin = argv[1];
    signal(SIGPIPE, SIG_IGN);
    RUN(sse_answer_is_close_delimited_with_the_events_as_its_body);
    RUN(sse_reader_that_stalls_gets_every_message_in_order_when_it_reads_again);
    RUN(a_stream_that_reads_late_is_coalesced_and_gets_every_event);
    RUN(with_no_coalesce_a_stream_that_reads_late_is_never_coalesced);
    RUN(sse_stream_the_server_ends_closes_with_the_end_comment);
    RUN(a_publish_to_many_streams_reaches_each_once_in_order);
    return CHECK_DONE();
}
