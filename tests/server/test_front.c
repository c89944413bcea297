/* The long-poll front (server/lp_front.c) as clients see it: its answers
 * are MHD's, byte for byte but the date; a keep-alive connection moves
 * between it and MHD at any request; pipelined, split, slow and departing
 * clients; the connection limit; shutdown. argv[1] is the server binary. */
#include <signal.h>
#include <stdlib.h>
#include "check.h"
#include "http_raw.h"
#include "spawn.h"

static const char *server_bin;
static pl_test_server srv;
static char resp[1 << 16];

static int start(const char *const *args) { return pl_test_server_start(&srv, server_bin, args); }

static void stop(void) { pl_test_server_stop(&srv, SIGTERM); }

/* The value of `key` in /api/stats's block for long polling, or -1. */
static long long lp_stat(const char *key)
{
    char pat[64];
    if (raw_request(srv.http_port, "GET", "/api/stats", NULL, NULL, resp, sizeof resp) != 200)
        return -1;
    const char *t = strstr(raw_body(resp), "\"long_poll\":{");
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = t ? strstr(t, pat) : NULL;
    return p ? atoll(p + strlen(pat)) : -1;
}

static long long wait_lp_stat(const char *key, long long want)
{
    long long v = -1;
    for (int i = 0; i < 60 && v != want; i++) {
        if (i)
            usleep(50 * 1000);
        v = lp_stat(key);
    }
    return v;
}

static int publish_to(int port, const char *room, const char *text)
{
    char path[128], body[8192];
    snprintf(path, sizeof path, "/api/rooms/%s/messages", room);
    snprintf(body, sizeof body, "{\"user\":\"t\",\"text\":\"%s\"}", text);
    return raw_request(port, "POST", path, "Content-Type: application/json\r\n", body, resp,
                       sizeof resp);
}

static int publish(const char *room, const char *text)
{
    return publish_to(srv.http_port, room, text);
}

/* Reads one whole answer (head and Content-Length body) from `fd` into
 * buf, after what is already there; returns its length, or 0. */
static size_t read_answer(int fd, char *buf, size_t cap, size_t *have)
{
    if (!raw_read_until(fd, buf, cap, have, "\r\n\r\n", 5000))
        return 0;
    const char *cl = strstr(buf, "Content-Length: ");
    size_t want = (size_t)(strstr(buf, "\r\n\r\n") + 4 - buf) + (cl ? (size_t)atoll(cl + 16) : 0);
    long long end = raw_now_ms() + 10000;
    while (*have < want && want < cap && raw_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n = poll(&p, 1, 100) > 0 ? read(fd, buf + *have, cap - 1 - *have) : 1;
        if (n <= 0)
            break;
        if (p.revents)
            *have += (size_t)n;
    }
    buf[*have] = '\0';
    return *have >= want ? want : 0;
}

/* Drops the first `n` bytes of buf (one answer read), keeping the rest. */
static void consume(char *buf, size_t *have, size_t n)
{
    memmove(buf, buf + n, *have - n);
    *have -= n;
    buf[*have] = '\0';
}

/* The answer without its Date line. */
static void strip_date(char *a)
{
    char *d = strstr(a, "Date: ");
    char *e = d ? strstr(d, "\r\n") : NULL;
    if (e)
        memmove(d, e + 2, strlen(e + 2) + 1);
}

static int poll_once(int port, const char *path, char *out, size_t cap)
{
    char req[256];
    size_t have = 0;
    int fd = raw_connect(port);
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (fd < 0 || raw_send(fd, req, strlen(req)) != 0)
        return -1;
    size_t n = read_answer(fd, out, cap, &have);
    close(fd);
    out[n] = '\0';
    return n ? 0 : -1;
}

TEST(a_front_answer_is_mhds_answer_but_for_the_date)
{
    static char a[8192], b[8192];
    pl_test_server mhd;
    const char *args[] = {"--no-poll-front", NULL};
    CHECK(start(NULL) == 0);
    CHECK(pl_test_server_start(&mhd, server_bin, args) == 0);
    const char *path = "/api/rooms/same/poll?timeout=0";
    int ra = poll_once(srv.http_port, path, a, sizeof a);
    int rb = poll_once(mhd.http_port, path, b, sizeof b);
    pl_test_server_stop(&mhd, SIGTERM);
    stop();
    CHECK(ra == 0 && rb == 0);
    CHECK(strstr(a, "\r\nDate: ") && strstr(b, "\r\nDate: "));
    strip_date(a);
    strip_date(b);
    CHECK_EQ_STR(a, b);
}

TEST(a_front_short_poll_answer_is_mhds_answer_but_for_the_date)
{
    static char a[8192], b[8192];
    pl_test_server mhd;
    const char *args[] = {"--no-poll-front", NULL};
    CHECK(start(NULL) == 0);
    CHECK(pl_test_server_start(&mhd, server_bin, args) == 0);
    int pa = publish("sp", "one");
    int pb = publish_to(mhd.http_port, "sp", "one");
    const char *path = "/api/rooms/sp/messages?since=0";
    int ra = poll_once(srv.http_port, path, a, sizeof a);
    int rb = poll_once(mhd.http_port, path, b, sizeof b);
    long long served = lp_stat("requests"); /* long polls: none */
    pl_test_server_stop(&mhd, SIGTERM);
    stop();
    CHECK(pa == 201 && pb == 201 && ra == 0 && rb == 0);
    CHECK(strstr(a, "\"text\":\"one\""));
    /* Equal but for the date and the message's stored time. */
    strip_date(a);
    strip_date(b);
    char *ta = strstr(a, "\"ts\":"), *tb = strstr(b, "\"ts\":");
    CHECK(ta && tb && strlen(ta) == strlen(tb));
    memset(ta, '0', strcspn(ta, "}"));
    memset(tb, '0', strcspn(tb, "}"));
    CHECK_EQ_STR(a, b);
    CHECK_EQ_INT(served, 0);
}

TEST(one_keep_alive_connection_moves_between_long_polls_and_other_requests)
{
    static char buf[16384];
    size_t have = 0, n;
    CHECK(start(NULL) == 0);
    int fd = raw_connect(srv.http_port);
    const char *poll0 = "GET /api/rooms/mix/poll?timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *post = "POST /api/rooms/mix/messages HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/json\r\nContent-Length: 24\r\n\r\n"
                       "{\"user\":\"u\",\"text\":\"hi\"}";
    const char *poll1 = "GET /api/rooms/mix/poll?since=0&timeout=5 HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(raw_send(fd, poll0, strlen(poll0)) == 0);
    CHECK((n = read_answer(fd, buf, sizeof buf, &have)) > 0);
    CHECK(strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "\"messages\":[]"));
    consume(buf, &have, n);
    CHECK(raw_send(fd, post, strlen(post)) == 0);
    CHECK((n = read_answer(fd, buf, sizeof buf, &have)) > 0);
    CHECK(strncmp(buf, "HTTP/1.1 201", 12) == 0);
    consume(buf, &have, n);
    CHECK(raw_send(fd, poll1, strlen(poll1)) == 0); /* MHD's now: it still answers */
    CHECK((n = read_answer(fd, buf, sizeof buf, &have)) > 0);
    close(fd);
    stop();
    CHECK(strstr(buf, "\"text\":\"hi\"") != NULL);
}

TEST(pipelined_long_polls_are_answered_in_order)
{
    static char buf[16384];
    size_t have = 0, n;
    CHECK(start(NULL) == 0);
    int fd = raw_connect(srv.http_port);
    const char *reqs = "GET /api/rooms/p1/poll?timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /api/rooms/p2/poll?timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /api/rooms/p3/poll?timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(raw_send(fd, reqs, strlen(reqs)) == 0);
    const char *want[] = {"\"room\":\"p1\"", "\"room\":\"p2\"", "\"room\":\"p3\""};
    for (int i = 0; i < 3; i++) {
        n = read_answer(fd, buf, sizeof buf, &have);
        if (!n || !strstr(buf, want[i]) || strstr(buf, want[i]) > buf + n)
            printf("# answer %d: %.*s\n", i, (int)have, buf);
        CHECK(n > 0 && strstr(buf, want[i]) && strstr(buf, want[i]) < buf + n);
        consume(buf, &have, n);
    }
    close(fd);
    stop();
}

/* The second request arrives while the first poll waits: its event comes
 * then, and it is read once the first is answered. */
TEST(a_request_sent_while_a_poll_waits_is_answered_after_it)
{
    static char buf[16384];
    size_t have = 0, n1, n2 = 0;
    CHECK(start(NULL) == 0);
    int fd = raw_connect(srv.http_port);
    const char *wait = "GET /api/rooms/later/poll?timeout=30 HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *next = "GET /api/rooms/later/poll?since=1&timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(raw_send(fd, wait, strlen(wait)) == 0);
    CHECK_EQ_INT(wait_lp_stat("waiting", 1), 1);
    CHECK(raw_send(fd, next, strlen(next)) == 0);
    usleep(100 * 1000);
    CHECK_EQ_INT(publish("later", "hi"), 201);
    n1 = read_answer(fd, buf, sizeof buf, &have);
    int first = n1 && strstr(buf, "\"id\":1,") != NULL;
    if (n1) {
        consume(buf, &have, n1);
        n2 = read_answer(fd, buf, sizeof buf, &have);
    }
    close(fd);
    stop();
    CHECK(first);
    CHECK(n2 > 0 && strstr(buf, "\"messages\":[]") && strstr(buf, "\"last_id\":1"));
}

TEST(a_poll_head_split_across_writes_is_still_answered)
{
    static char buf[8192];
    size_t have = 0;
    CHECK(start(NULL) == 0);
    int fd = raw_connect(srv.http_port);
    CHECK(raw_send(fd, "GET /api/rooms/split/po", 23) == 0);
    usleep(100 * 1000);
    const char *rest = "ll?timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(raw_send(fd, rest, strlen(rest)) == 0);
    size_t n = read_answer(fd, buf, sizeof buf, &have);
    close(fd);
    stop();
    CHECK(n > 0 && strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "\"room\":\"split\""));
}

/* A connection whose receive window is small from the handshake on. */
static int small_window_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), small = 16384;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1000 messages of 4 KiB: over 4 MB, more than the server's send buffer
 * grows to and a small receive window take, so the answer goes out across
 * many writes. */
TEST(an_answer_larger_than_the_socket_buffers_reaches_a_slow_reader_whole)
{
    static char text[4097], buf[5 << 20];
    size_t have = 0;
    CHECK(start(NULL) == 0);
    memset(text, 'x', 4096);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ_INT(publish("big", text), 201);
    long long before = lp_stat("bytes_out");
    int fd = small_window_connect(srv.http_port);
    const char *req =
        "GET /api/rooms/big/poll?since=0&limit=1000&timeout=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(raw_send(fd, req, strlen(req)) == 0);
    usleep(300 * 1000); /* the server meets a full socket */
    size_t n = read_answer(fd, buf, sizeof buf, &have);
    close(fd);
    long long after = wait_lp_stat("bytes_out", before + (long long)n);
    stop();
    CHECK(n > 1000 * 4096);
    CHECK(strstr(buf, "\"id\":1000,") && strcmp(buf + n - 1, "}") == 0);
    CHECK_EQ_INT(after - before, n); /* every byte counted, once */
}

TEST(a_waiting_poll_whose_client_leaves_stops_waiting_at_once)
{
    CHECK(start(NULL) == 0);
    int fd = raw_connect(srv.http_port);
    const char *req = "GET /api/rooms/gone/poll?timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(raw_send(fd, req, strlen(req)) == 0);
    long long parked = wait_lp_stat("waiting", 1);
    close(fd);
    long long left = wait_lp_stat("waiting", 0);
    stop();
    CHECK_EQ_INT(parked, 1);
    CHECK_EQ_INT(left, 0);
}

/* Clients that send a poll and leave (FIN for half, reset for the others)
 * while the server is stopped: the poll and the hang-up reach the front in
 * one edge-triggered event. None of them is kept waiting for its timeout. */
#define EARLY 20
TEST(a_poll_whose_client_left_before_it_was_read_is_not_kept_waiting)
{
    const char *req = "GET /api/rooms/early/poll?timeout=30 HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(start(NULL) == 0);
    long long served0 = lp_stat("requests");
    kill(srv.pid, SIGSTOP);
    for (int i = 0; i < EARLY; i++) {
        int fd = raw_connect(srv.http_port);
        struct linger now = {.l_onoff = 1, .l_linger = 0};
        raw_send(fd, req, strlen(req));
        if (i % 2)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
        close(fd);
    }
    kill(srv.pid, SIGCONT);
    long long served = 0;
    for (int i = 0; i < 60 && served < served0 + EARLY / 2; i++, usleep(50 * 1000))
        served = lp_stat("requests");
    long long left = wait_lp_stat("waiting", 0);
    stop();
    CHECK(served >= served0 + EARLY / 2); /* the FIN ones were read as polls */
    CHECK_EQ_INT(left, 0);
}

/* Four connections allowed: three parked polls and the /api/stats check
 * of them, then a fourth poll in its place; the next one is closed
 * unanswered until one leaves. */
TEST(connections_past_max_connections_are_closed_unanswered)
{
    static char buf[4096];
    const char *args[] = {"--max-connections", "4", NULL};
    int fd[4];
    size_t have = 0;
    CHECK(start(args) == 0);
    const char *req = "GET /api/rooms/full/poll?timeout=30 HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 4; i++) {
        if (i == 3)
            CHECK_EQ_INT(wait_lp_stat("waiting", 3), 3);
        fd[i] = raw_connect(srv.http_port);
        raw_send(fd[i], req, strlen(req));
    }
    usleep(200 * 1000);
    int extra = raw_connect(srv.http_port);
    const char *get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(extra, get, strlen(get));
    int answered = raw_read_until(extra, buf, sizeof buf, &have, "HTTP/1.1", 2000);
    close(extra);
    close(fd[3]);
    long long after = wait_lp_stat("waiting", 3);
    for (int i = 0; i < 3; i++)
        close(fd[i]);
    stop();
    CHECK_EQ_INT(answered, 0);
    CHECK_EQ_INT(have, 0);
    CHECK_EQ_INT(after, 3);
}

/* Waiting polls whose clients hang up just as a publish answers them: the
 * answer and the hang-up come in one batch of events, in either order
 * (under ASan, a connection freed by the first and read by the second was
 * caught here). Every one of them is dropped and the server keeps going. */
#define HANGUPS 100
TEST(polls_answered_as_their_clients_hang_up_are_all_dropped)
{
    int fd[HANGUPS];
    long long parked[5] = {0}, left[5] = {0};
    char req[128];
    CHECK(start(NULL) == 0);
    for (int round = 0; round < 5; round++) {
        snprintf(req, sizeof req,
                 "GET /api/rooms/hup/poll?since=%d&timeout=30 HTTP/1.1\r\nHost: x\r\n\r\n", round);
        for (int i = 0; i < HANGUPS; i++) {
            fd[i] = raw_connect(srv.http_port);
            raw_send(fd[i], req, strlen(req));
        }
        parked[round] = wait_lp_stat("waiting", HANGUPS);
        CHECK_EQ_INT(publish("hup", "hi"), 201);
        for (int i = 0; i < HANGUPS; i++) {
            struct linger now = {.l_onoff = 1, .l_linger = 0};
            if (i % 2) /* a reset for half of them, a FIN for the others */
                setsockopt(fd[i], SOL_SOCKET, SO_LINGER, &now, sizeof now);
            close(fd[i]);
        }
        left[round] = wait_lp_stat("waiting", 0);
    }
    char buf[8192];
    int ra = poll_once(srv.http_port, "/api/rooms/hup/poll?since=4&timeout=0", buf, sizeof buf);
    int rc = pl_test_server_stop(&srv, SIGTERM);
    for (int round = 0; round < 5; round++) {
        CHECK_EQ_INT(parked[round], HANGUPS);
        CHECK_EQ_INT(left[round], 0);
    }
    CHECK(ra == 0 && strstr(buf, "\"id\":5,"));
    CHECK_EQ_INT(rc, 0);
}

TEST(sigterm_answers_a_waiting_poll_and_exits_zero)
{
    static char buf[8192];
    size_t have = 0;
    CHECK(start(NULL) == 0);
    int fd = raw_connect(srv.http_port);
    const char *req = "GET /api/rooms/bye/poll?timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(raw_send(fd, req, strlen(req)) == 0);
    CHECK_EQ_INT(wait_lp_stat("waiting", 1), 1);
    kill(srv.pid, SIGTERM);
    size_t n = read_answer(fd, buf, sizeof buf, &have);
    close(fd);
    int rc = pl_test_server_stop(&srv, SIGTERM);
    CHECK(n > 0 && strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "\"messages\":[]"));
    CHECK_EQ_INT(rc, 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_front SERVER_BIN\n");
        return 2;
    }
    server_bin = argv[1];
    signal(SIGPIPE, SIG_IGN);
    RUN(a_front_answer_is_mhds_answer_but_for_the_date);
    RUN(a_front_short_poll_answer_is_mhds_answer_but_for_the_date);
    RUN(one_keep_alive_connection_moves_between_long_polls_and_other_requests);
    RUN(pipelined_long_polls_are_answered_in_order);
    RUN(a_request_sent_while_a_poll_waits_is_answered_after_it);
    RUN(a_poll_head_split_across_writes_is_still_answered);
    RUN(an_answer_larger_than_the_socket_buffers_reaches_a_slow_reader_whole);
    RUN(a_waiting_poll_whose_client_leaves_stops_waiting_at_once);
    RUN(a_poll_whose_client_left_before_it_was_read_is_not_kept_waiting);
    RUN(connections_past_max_connections_are_closed_unanswered);
    RUN(polls_answered_as_their_clients_hang_up_are_all_dropped);
    RUN(sigterm_answers_a_waiting_poll_and_exits_zero);
    return CHECK_DONE();
}
