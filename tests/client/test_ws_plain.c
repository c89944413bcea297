/* The client's own WebSocket link (client/ws_plain.c) against a scripted
 * server in the test's loop: what it does with the server's bytes (frames
 * cut anywhere, fragments, pings, close, a bad handshake, frames no
 * server may send) and the bytes it answers with. The subscriptions speak
 * the nchan dialect, where each text frame is a message verbatim. */
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include "check.h"
#include "client.h"
#include "proxy.h"
#include "ws_codec.h"

#define GOOD_101                                                                                   \
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"            \
    "Sec-WebSocket-Accept: %s\r\n\r\n"

/* A server that answers the first upgrade with `head` (a format with the
 * accept value as %s) and then `script`, and keeps what the client sends. */
typedef struct fake {
    pl_loop *loop;
    int lfd, cfd, port, accepts;
    const char *head;
    unsigned char script[80000];
    size_t script_len, sent;
    bool bytewise; /* one byte per millisecond */
    bool silent;   /* never answers the upgrade */
    int heartbeat_s;
    bool answered;
    pl_timer *drip;
    char req[4096];
    size_t req_len;
    unsigned char got[8192]; /* the client's bytes after its request */
    size_t got_len;
    /* what the subscription saw */
    char texts[8][320];
    int n_texts, stop_at_texts;
    char last_err[320];
    pl_sub_state last_state;
    int stop_at_accepts;
} fake;

static void add_frame(fake *f, unsigned first_byte, const char *p, size_t n, bool masked)
{
    unsigned char *o = f->script + f->script_len;
    size_t h = 2;
    o[0] = (unsigned char)first_byte;
    if (n < 126) {
        o[1] = (unsigned char)n;
    } else if (n <= 0xffff) {
        o[1] = 126, o[2] = (unsigned char)(n >> 8), o[3] = (unsigned char)n, h = 4;
    } else {
        o[1] = 127, h = 10;
        for (int i = 0; i < 8; i++)
            o[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    }
    if (masked) {
        o[1] |= 0x80;
        memcpy(o + h, "\x01\x02\x03\x04", 4);
        h += 4;
    }
    for (size_t i = 0; i < n; i++)
        o[h + i] = (unsigned char)(p ? p[i] : 'x') ^ (masked ? (unsigned char)(1 + (i & 3)) : 0);
    f->script_len += h + n;
}

static void send_rest(fake *f)
{
    while (f->sent < f->script_len) {
        size_t n = f->bytewise ? 1 : f->script_len - f->sent;
        ssize_t w = write(f->cfd, f->script + f->sent, n);
        if (w <= 0)
            return;
        f->sent += (size_t)w;
        if (f->bytewise) {
            pl_timer_start(f->drip, 1000);
            return;
        }
    }
}

static void drip(pl_timer *t, void *ud)
{
    (void)t;
    send_rest(ud);
}

/* The request is whole: answer it with the head and the script. */
static void answer(fake *f)
{
    char key[64] = "", accept[PL_WS_CODEC_ACCEPT_LEN + 1] = "", head[512];
    const char *k = strstr(f->req, "Sec-WebSocket-Key: ");
    if (k)
        sscanf(k + 19, "%63[^\r]", key);
    pl_ws_codec_accept(key, accept);
    int n = snprintf(head, sizeof head, f->head, accept);
    if (write(f->cfd, head, (size_t)n) != n)
        return;
    f->answered = true;
    send_rest(f);
}

static void on_client_bytes(pl_loop *l, int fd, int events, void *ud)
{
    fake *f = ud;
    (void)events;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        pl_loop_unwatch_fd(l, fd);
        close(fd);
        f->cfd = -1;
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (!f->answered && f->req_len < sizeof f->req - 1)
            f->req[f->req_len++] = buf[i];
        else if (f->answered && f->got_len < sizeof f->got)
            f->got[f->got_len++] = (unsigned char)buf[i];
    }
    f->req[f->req_len] = '\0';
    if (!f->answered && !f->silent && strstr(f->req, "\r\n\r\n"))
        answer(f);
}

static void on_accept(pl_loop *l, int fd, int events, void *ud)
{
    fake *f = ud;
    (void)events;
    int c = accept(fd, NULL, NULL);
    if (c < 0)
        return;
    if (++f->accepts >= f->stop_at_accepts && f->stop_at_accepts)
        pl_loop_stop(l);
    if (f->cfd >= 0) { /* only the first connection gets the script */
        close(c);
        return;
    }
    f->cfd = c;
    pl_loop_watch_fd(l, c, PL_FD_READ, on_client_bytes, f);
}

static void on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    fake *f = ud;
    (void)s;
    if (f->n_texts < 8)
        snprintf(f->texts[f->n_texts++], sizeof f->texts[0], "%.*s", (int)m->text_len, m->text);
    if (f->n_texts == f->stop_at_texts)
        pl_loop_stop(f->loop);
}

static void on_state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *e,
                     void *ud)
{
    fake *f = ud;
    (void)s;
    (void)detail;
    f->last_state = st;
    if (e && e->message[0])
        snprintf(f->last_err, sizeof f->last_err, "%s", e->message);
    if (st == PL_SUB_FAILED)
        pl_loop_stop(f->loop);
}

/* Opens a subscription to the fake and runs the loop for up to `ms`. */
static int run_fake(fake *f, int ms, pl_sub **out)
{
    char ep[96];
    pl_sub *sub = NULL;
    f->cfd = -1;
    if ((f->lfd = listen_any(&f->port)) < 0 || pl_loop_new(&f->loop) != 0)
        return -1;
    if (!f->head)
        f->head = GOOD_101;
    f->drip = pl_timer_new(f->loop, drip, f);
    pl_loop_watch_fd(f->loop, f->lfd, PL_FD_READ, on_accept, f);
    snprintf(ep, sizeof ep, "ws://127.0.0.1:%d/sub?id=t", f->port);
    pl_sub_opts o = {.transport = PL_TRANSPORT_WS,
                     .dialect = PL_DIALECT_NCHAN,
                     .endpoint = ep,
                     .room = "t",
                     .backoff_min_ms = 20,
                     .backoff_max_ms = 50,
                     .heartbeat_s = f->heartbeat_s,
                     .cb = {.on_message = on_message, .on_state = on_state},
                     .ud = f};
    int rc = pl_sub_open(f->loop, &o, &sub);
    if (out)
        *out = sub;
    if (rc == 0)
        pl_loop_run(f->loop, ms);
    return rc;
}

static void fake_free(fake *f)
{
    pl_timer_free(f->drip);
    pl_loop_unwatch_fd(f->loop, f->lfd);
    if (f->cfd >= 0) {
        pl_loop_unwatch_fd(f->loop, f->cfd);
        close(f->cfd);
    }
    pl_loop_free(f->loop);
    close(f->lfd);
}

/* The client frame at `p` (`n` bytes): its first byte and unmasked
 * payload into `out`. Returns the frame's length, 0 when not whole or not
 * masked. */
static size_t client_frame(const unsigned char *p, size_t n, unsigned *first, char *out,
                           size_t *out_len)
{
    if (n < 6 || !(p[1] & 0x80) || (p[1] & 0x7f) > 125 || n < 6 + (size_t)(p[1] & 0x7f))
        return 0;
    size_t len = p[1] & 0x7f;
    *first = p[0];
    for (size_t i = 0; i < len; i++)
        out[i] = (char)(p[6 + i] ^ p[2 + (i & 3)]);
    out[len] = '\0';
    *out_len = len;
    return 6 + len;
}

static fake *fake_new(void) { return calloc(1, sizeof(fake)); }

/* ------------------------------------------------------------- the tests */

TEST(a_frame_in_the_same_segment_as_the_101_is_delivered)
{
    fake *f = fake_new();
    f->stop_at_texts = 1;
    add_frame(f, 0x81, "hello", 5, false);
    CHECK(run_fake(f, 3000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->n_texts, 1);
    CHECK_EQ_STR(f->texts[0], "hello");
    CHECK(strstr(f->req, "GET /sub?id=t HTTP/1.1\r\n") == f->req);
    free(f);
}

TEST(frames_cut_into_single_bytes_arrive_whole_and_in_order)
{
    char big[300];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fake *f = fake_new();
    f->bytewise = true;
    f->stop_at_texts = 3;
    add_frame(f, 0x81, "one", 3, false);
    add_frame(f, 0x81, big, strlen(big), false); /* a 16-bit length */
    add_frame(f, 0x81, "three", 5, false);
    CHECK(run_fake(f, 5000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->n_texts, 3);
    CHECK_EQ_STR(f->texts[0], "one");
    CHECK_EQ_STR(f->texts[1], big);
    CHECK_EQ_STR(f->texts[2], "three");
    free(f);
}

TEST(a_fragmented_message_is_one_message_with_a_ping_between_its_parts)
{
    fake *f = fake_new();
    f->stop_at_texts = 2;
    add_frame(f, 0x01, "hel", 3, false); /* text, not final */
    add_frame(f, 0x89, "p", 1, false);   /* a ping may come between */
    add_frame(f, 0x80, "lo", 2, false);  /* the final continuation */
    add_frame(f, 0x81, "next", 4, false);
    CHECK(run_fake(f, 3000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->n_texts, 2);
    CHECK_EQ_STR(f->texts[0], "hello");
    CHECK_EQ_STR(f->texts[1], "next");
    free(f);
}

TEST(a_servers_ping_is_answered_with_a_masked_pong_of_its_payload)
{
    fake *f = fake_new();
    f->stop_at_texts = 1;
    add_frame(f, 0x89, "abc", 3, false);
    add_frame(f, 0x81, "after", 5, false);
    CHECK(run_fake(f, 3000, NULL) == 0);
    pl_loop_run(f->loop, 100); /* the pong's bytes reach the fake */
    fake_free(f);
    unsigned first = 0;
    char payload[200];
    size_t n = 0;
    CHECK(client_frame(f->got, f->got_len, &first, payload, &n) == 9);
    CHECK_EQ_INT(first, 0x8a);
    CHECK_EQ_STR(payload, "abc");
    free(f);
}

TEST(a_close_frame_is_answered_with_its_code_and_the_subscription_reconnects)
{
    fake *f = fake_new();
    f->stop_at_accepts = 2;
    add_frame(f, 0x88,
              "\x03\xe9"
              "bye",
              5, false); /* 1001, going away */
    CHECK(run_fake(f, 3000, NULL) == 0);
    fake_free(f);
    unsigned first = 0;
    char payload[200];
    size_t n = 0;
    CHECK(client_frame(f->got, f->got_len, &first, payload, &n) == 8);
    CHECK_EQ_INT(first, 0x88);
    CHECK_EQ_INT((unsigned char)payload[0] << 8 | (unsigned char)payload[1], 1001);
    CHECK_EQ_INT(f->accepts, 2);
    CHECK(strstr(f->last_err, "WebSocket closed: code 1001") != NULL);
    free(f);
}

TEST(a_masked_frame_from_a_server_ends_the_connection_unread)
{
    fake *f = fake_new();
    f->stop_at_accepts = 2;
    add_frame(f, 0x81, "secret", 6, true);
    CHECK(run_fake(f, 3000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->n_texts, 0);
    CHECK_EQ_INT(f->accepts, 2);
    CHECK(strstr(f->last_err, "bad WebSocket frame") != NULL);
    free(f);
}

TEST(a_continuation_with_no_message_to_continue_ends_the_connection)
{
    fake *f = fake_new();
    f->stop_at_accepts = 2;
    add_frame(f, 0x80, "lo", 2, false);
    CHECK(run_fake(f, 3000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->n_texts, 0);
    CHECK(strstr(f->last_err, "continuation") != NULL);
    free(f);
}

TEST(a_frame_over_the_bound_ends_the_connection_before_its_payload)
{
    fake *f = fake_new();
    f->stop_at_accepts = 2;
    add_frame(f, 0x81, NULL, 70000, false);
    CHECK(run_fake(f, 3000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->n_texts, 0);
    CHECK(strstr(f->last_err, "WebSocket frame over 65536 bytes") != NULL);
    free(f);
}

TEST(a_101_with_a_wrong_accept_is_refused)
{
    fake *f = fake_new();
    f->stop_at_accepts = 2;
    f->head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: x%.27s\r\n\r\n";
    add_frame(f, 0x81, "never", 5, false);
    CHECK(run_fake(f, 3000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->n_texts, 0);
    CHECK(strstr(f->last_err, "WebSocket handshake: a wrong Sec-WebSocket-Accept") != NULL);
    free(f);
}

TEST(a_404_answer_is_the_servers_verdict_and_final)
{
    fake *f = fake_new();
    f->head = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n%.0s";
    CHECK(run_fake(f, 3000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->last_state, PL_SUB_FAILED);
    CHECK_EQ_INT(f->accepts, 1);
    CHECK(strstr(f->last_err, "WebSocket handshake answered HTTP 404") != NULL);
    free(f);
}

TEST(a_server_that_never_answers_the_upgrade_is_left_after_twice_the_heartbeat)
{
    fake *f = fake_new();
    f->silent = true;
    f->heartbeat_s = 1;
    f->stop_at_accepts = 2;
    CHECK(run_fake(f, 5000, NULL) == 0);
    fake_free(f);
    CHECK_EQ_INT(f->accepts, 2);
    CHECK(strstr(f->last_err, "WebSocket handshake cut: no answer to the upgrade in time") != NULL);
    free(f);
}

static void on_published(void *ud, uint64_t id, bool dup, const pl_client_err *err)
{
    fake *f = ud;
    (void)id, (void)dup;
    snprintf(f->last_err, sizeof f->last_err, "published: %s", err->rc ? err->message : "ok");
    pl_loop_stop(f->loop);
}

TEST(a_publish_goes_out_as_one_masked_text_frame)
{
    fake *f = fake_new();
    pl_sub *sub = NULL;
    f->stop_at_texts = 1;
    add_frame(f, 0x81, "ready", 5, false);
    CHECK(run_fake(f, 3000, &sub) == 0);
    CHECK_EQ_INT(f->n_texts, 1);
    pl_pub_msg m = {.text = "from the client"};
    CHECK(pl_sub_publish(sub, &m, on_published, f) == 0);
    pl_loop_run(f->loop, 3000);
    pl_loop_run(f->loop, 100); /* the frame's bytes reach the fake */
    fake_free(f);
    CHECK_EQ_STR(f->last_err, "published: ok");
    unsigned first = 0;
    char payload[200];
    size_t n = 0;
    CHECK(client_frame(f->got, f->got_len, &first, payload, &n) == 6 + 15);
    CHECK_EQ_INT(first, 0x81);
    CHECK_EQ_STR(payload, "from the client");
    free(f);
}

int main(void)
{
    pl_client_global_init();
    RUN(a_frame_in_the_same_segment_as_the_101_is_delivered);
    RUN(frames_cut_into_single_bytes_arrive_whole_and_in_order);
    RUN(a_fragmented_message_is_one_message_with_a_ping_between_its_parts);
    RUN(a_servers_ping_is_answered_with_a_masked_pong_of_its_payload);
    RUN(a_close_frame_is_answered_with_its_code_and_the_subscription_reconnects);
    RUN(a_masked_frame_from_a_server_ends_the_connection_unread);
    RUN(a_continuation_with_no_message_to_continue_ends_the_connection);
    RUN(a_frame_over_the_bound_ends_the_connection_before_its_payload);
    RUN(a_101_with_a_wrong_accept_is_refused);
    RUN(a_404_answer_is_the_servers_verdict_and_final);
    RUN(a_server_that_never_answers_the_upgrade_is_left_after_twice_the_heartbeat);
    RUN(a_publish_goes_out_as_one_masked_text_frame);
    return CHECK_DONE();
}
