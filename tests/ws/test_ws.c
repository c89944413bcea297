/* The WebSocket transport (server/transport_ws.c), in process: a store, a
 * pl_ws on a free port, and raw sockets (ws_raw.h) that check the exact
 * bytes on the wire and send what a well-behaved client never would. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "segs_in.h"
#include "stats.h"
#include "store.h"
#include "transport_ws.h"
#include "ws_raw.h"

#define WAIT_MS     5000 /* generous: only reached when something is broken */
#define MAX_CLIENTS 32

static const char *const own_origin[] = {"http://127.0.0.1:8080"};

static pl_store *store;
static pl_backend *backend;
static pl_stats st;
static pl_ws *ws;
static int port;
static ws_raw *clients[MAX_CLIENTS];
static int n_clients;

static int heartbeat_s = 15, max_heartbeat_s = 300;
static int threads = 2;      /* service threads: more than one, as on any 2-core machine */
static int write_delay_ms;   /* --ws-write-delay */
static bool coalesce = true; /* the server's default; --no-coalesce clears it */

static int start_with(const char *const *origins, size_t n, size_t max_conns, size_t history)
{
    static pl_origin_policy origin; /* outlives the pl_ws, as the server's does */
    pl_origin_policy_allow(&origin, origins, n);
    pl_ws_config cfg = {.bind = "127.0.0.1",
                        .port = 0,
                        .heartbeat_s = heartbeat_s,
                        .max_heartbeat_s = max_heartbeat_s,
                        .max_connections = max_conns,
                        .origin = &origin,
                        .threads = threads,
                        .write_delay_ms = write_delay_ms,
                        .coalesce = coalesce};
    memset(&st, 0, sizeof st);
    store = pl_store_new(history, 16);
    backend = store ? pl_backend_memory_new(store) : NULL;
    if (!backend || pl_ws_start(&ws, &cfg, backend, &st) != 0)
        return -1;
    port = pl_ws_port(ws);
    return port > 0 ? 0 : -1;
}

static void stop(void)
{
    for (int i = 0; i < n_clients; i++) {
        ws_raw_close(clients[i]);
        free(clients[i]);
    }
    n_clients = 0;
    pl_ws_stop(ws);
    pl_backend_free(backend);
    pl_store_free(store);
    backend = NULL;
    ws = NULL;
    store = NULL;
}

/* A test body run between a fresh server start and its stop, so a failed
 * CHECK (which returns from the body) still cleans up. */
#define WS_TEST_WITH(name, origins, n, max_conns, history)                                         \
    static void name##_body(void);                                                                 \
    TEST(name)                                                                                     \
    {                                                                                              \
        int up_ = start_with(origins, n, max_conns, history);                                      \
        if (up_ == 0)                                                                              \
            name##_body();                                                                         \
        stop();                                                                                    \
        CHECK(up_ == 0);                                                                           \
    }                                                                                              \
    static void name##_body(void)
#define WS_TEST(name) WS_TEST_WITH(name, own_origin, 1, 0, 100)

/* A new raw client (freed at stop); *status gets the handshake's status. */
static ws_raw *open_client(const char *path, const char *origin, const char *protocol, int *status)
{
    if (n_clients == MAX_CLIENTS)
        return NULL;
    ws_raw *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    clients[n_clients++] = c;
    *status = ws_raw_connect(c, port, path, origin, protocol);
    return c;
}

/* A client whose handshake succeeded, or NULL. */
static ws_raw *subscribe(const char *path)
{
    int status = 0;
    ws_raw *c = open_client(path, NULL, NULL, &status);
    return status == 101 ? c : NULL;
}

static pl_msg *publish(const char *room, const char *text)
{
    pl_room *r;
    pl_msg *m;
    bool dup;
    pl_publish in = {.user = "ann", .user_len = 3, .text = text, .text_len = strlen(text)};
    if (pl_store_room(store, room, true, &r) != 0 || pl_store_publish(store, r, &in, &m, &dup))
        return NULL;
    return m;
}

/* Publishes and returns the message's frame text (what the wire must carry). */
static const char *publish_frame(const char *room, const char *text, char *out, size_t cap)
{
    pl_msg *m = publish(room, text);
    if (!m || m->ws_len >= cap)
        return NULL;
    memcpy(out, m->ws, m->ws_len + 1);
    pl_msg_unref(m);
    return out;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Counters move on the service thread just after the bytes leave: wait
 * (bounded) for `counter` to reach `want`. */
static long long wait_counter(const void *counter, bool is_signed, long long want)
{
    long long v = 0;
    for (int i = 0; i < WAIT_MS / 10; i++) {
        v = is_signed ? (long long)atomic_load((atomic_int_fast64_t *)counter)
                      : (long long)atomic_load((atomic_uint_fast64_t *)counter);
        if (v == want)
            break;
        sleep_ms(10);
    }
    return v;
}

static bool no_frame_pending(ws_raw *c)
{
    ws_frame f;
    return ws_raw_recv(c, 200, &f) == -ETIMEDOUT;
}

/* ---- handshake ---- */

WS_TEST(handshake_without_subprotocol_is_accepted)
{
    int status;
    ws_raw *c = open_client("/ws/lobby", NULL, NULL, &status);
    CHECK(c);
    CHECK_EQ_INT(status, 101);
    CHECK(strstr(c->response, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")); /* RFC 6455's sample key */
    CHECK(!strcasestr(c->response, "Sec-WebSocket-Protocol"));
}

WS_TEST(handshake_with_pushlab_v1_echoes_it)
{
    int status;
    ws_raw *c = open_client("/ws/lobby", NULL, "pushlab.v1", &status);
    CHECK(c);
    CHECK_EQ_INT(status, 101);
    CHECK(strcasestr(c->response, "Sec-WebSocket-Protocol: pushlab.v1\r\n"));
}

WS_TEST(subprotocol_list_naming_pushlab_v1_gets_it)
{
    int status;
    ws_raw *c = open_client("/ws/lobby", NULL, "chat, pushlab.v1", &status);
    CHECK(c);
    CHECK_EQ_INT(status, 101);
    CHECK(strcasestr(c->response, "Sec-WebSocket-Protocol: pushlab.v1\r\n"));
}

WS_TEST(only_unknown_subprotocols_are_refused_with_400)
{
    int status;
    CHECK(open_client("/ws/lobby", NULL, "chat", &status));
    CHECK_EQ_INT(status, 400);
}

WS_TEST(foreign_origin_is_refused_and_counted_as_403)
{
    int status;
    CHECK(open_client("/ws/lobby", "http://evil.example", NULL, &status));
    CHECK_EQ_INT(status, 403);
    CHECK_EQ_INT(atomic_load(&st.errors[PL_ERR_403]), 1);
    CHECK_EQ_INT(atomic_load(&st.ws.connections), 0);
}

WS_TEST(allowed_origin_is_accepted)
{
    int status;
    CHECK(open_client("/ws/lobby", "http://127.0.0.1:8080", NULL, &status));
    CHECK_EQ_INT(status, 101);
}

WS_TEST(origin_must_match_exactly)
{
    int status;
    CHECK(open_client("/ws/lobby", "http://127.0.0.1:80800", NULL, &status));
    CHECK_EQ_INT(status, 403);
    CHECK(open_client("/ws/lobby", "http://127.0.0.1", NULL, &status));
    CHECK_EQ_INT(status, 403);
}

static const char *const any_origin[] = {"*"};
WS_TEST_WITH(star_allows_any_origin, any_origin, 1, 0, 100)
{
    int status;
    CHECK(open_client("/ws/lobby", "http://evil.example", NULL, &status));
    CHECK_EQ_INT(status, 101);
}

WS_TEST(path_other_than_ws_room_is_refused)
{
    static const char *const paths[] = {"/", "/ws", "/ws/", "/other/lobby", "/wsx/lobby"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        int status;
        ws_raw c;
        status = ws_raw_connect(&c, port, paths[i], NULL, NULL);
        ws_raw_close(&c);
        if (status != 404)
            printf("# %s got %d\n", paths[i], status);
        CHECK_EQ_INT(status, 404);
    }
}

WS_TEST(plain_http_request_gets_404)
{
    char resp[256] = "";
    int fd = ws_raw_tcp(port);
    CHECK(fd >= 0);
    const char *req = "GET /ws/lobby HTTP/1.1\r\nHost: x\r\n\r\n";
    int sent = ws_raw_send_all(fd, req, strlen(req));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n = sent == 0 && poll(&p, 1, WAIT_MS) > 0 ? recv(fd, resp, sizeof resp - 1, 0) : -1;
    close(fd);
    CHECK(n > 0);
    CHECK(strncmp(resp, "HTTP/1.1 404", 12) == 0);
}

WS_TEST(invalid_room_name_is_refused_with_400)
{
    char long_room[100] = "/ws/";
    memset(long_room + 4, 'a', 65);
    const char *const paths[] = {"/ws/lobby/x", "/ws/a.b", "/ws/%20", long_room};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        int status;
        ws_raw c;
        status = ws_raw_connect(&c, port, paths[i], NULL, NULL);
        ws_raw_close(&c);
        if (status != 400)
            printf("# %s got %d\n", paths[i], status);
        CHECK_EQ_INT(status, 400);
    }
}

WS_TEST(bad_since_is_refused)
{
    static const char *const paths[] = {"/ws/lobby?since=", "/ws/lobby?since=abc",
                                        "/ws/lobby?since=-1", "/ws/lobby?since=1&since=2",
                                        "/ws/lobby?since=99999999999999999999"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        int status;
        ws_raw c;
        status = ws_raw_connect(&c, port, paths[i], NULL, NULL);
        ws_raw_close(&c);
        if (status != 400)
            printf("# %s got %d\n", paths[i], status);
        CHECK_EQ_INT(status, 400);
    }
    CHECK_EQ_INT(atomic_load(&st.errors[PL_ERR_400]), 5);
}

WS_TEST_WITH(connections_past_max_are_refused, own_origin, 1, 2, 100)
{
    int status;
    CHECK(subscribe("/ws/lobby"));
    CHECK(subscribe("/ws/lobby"));
    CHECK(open_client("/ws/lobby", NULL, NULL, &status));
    CHECK_EQ_INT(status, 503);
    CHECK_EQ_INT(atomic_load(&st.errors[PL_ERR_503]), 1);
}

/* ---- fan-out ---- */

WS_TEST(published_message_arrives_as_its_frame)
{
    char want[512], got[512];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK(publish_frame("lobby", "hello", want, sizeof want));
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, want);
    CHECK(strncmp(got, "{\"type\":\"message\",\"id\":1,", 25) == 0);
}

WS_TEST(every_subscriber_of_the_room_gets_it_and_no_other_room_does)
{
    char want[512], got[512];
    ws_raw *a = subscribe("/ws/lobby"), *b = subscribe("/ws/lobby"), *other = subscribe("/ws/x");
    CHECK(a && b && other);
    CHECK(publish_frame("lobby", "to both", want, sizeof want));
    CHECK_EQ_INT(ws_raw_recv_text(a, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, want);
    CHECK_EQ_INT(ws_raw_recv_text(b, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, want);
    CHECK(no_frame_pending(other));
}

WS_TEST(since_replays_the_messages_after_it_in_order)
{
    char want[5][512], got[512];
    for (int i = 0; i < 5; i++)
        CHECK(publish_frame("lobby", "old", want[i], sizeof want[i]));
    ws_raw *c = subscribe("/ws/lobby?since=2");
    CHECK(c);
    for (int i = 2; i < 5; i++) {
        CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
        CHECK_EQ_STR(got, want[i]);
    }
    CHECK(no_frame_pending(c));
}

WS_TEST(without_since_only_new_messages_arrive)
{
    char want[512], got[512];
    CHECK(publish_frame("lobby", "before", want, sizeof want));
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK(publish_frame("lobby", "after", want, sizeof want));
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, want);
}

WS_TEST_WITH(cursor_behind_trimmed_history_continues_from_oldest_held, own_origin, 1, 0, 3)
{
    char want[5][512], got[512];
    for (int i = 0; i < 5; i++)
        CHECK(publish_frame("lobby", "m", want[i], sizeof want[i]));
    ws_raw *c = subscribe("/ws/lobby?since=0");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, want[2]); /* id 3: the jump from 0 tells the client */
}

WS_TEST_WITH(a_burst_arrives_complete_and_in_order, own_origin, 1, 0, 1000)
{
    char got[512], prefix[64];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    for (int i = 0; i < 500; i++) {
        pl_msg *m = publish("lobby", "burst");
        CHECK(m);
        pl_msg_unref(m);
    }
    for (int i = 1; i <= 500; i++) {
        CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
        snprintf(prefix, sizeof prefix, "{\"type\":\"message\",\"id\":%d,", i);
        CHECK_EQ_STR(strncmp(got, prefix, strlen(prefix)) == 0 ? prefix : got, prefix);
    }
}

/* Bytes waiting in `fd`'s receive queue once they stop growing: the
 * sender can put no more on the wire. */
static int settled_backlog(int fd)
{
    int before = -1, now = 0;
    for (int i = 0; i < WAIT_MS / 50 && now != before; i++) {
        before = now;
        usleep(50 * 1000);
        if (ioctl(fd, FIONREAD, &now) != 0)
            return -1;
    }
    return now;
}

/* More than both sockets hold (5 MB; Linux's send buffer grows to 4 MB
 * by default), so the server's sends are cut short and the rest of a
 * frame waits for the socket: each must still arrive whole. */
WS_TEST_WITH(a_reader_that_lets_its_socket_fill_gets_every_frame_whole, own_origin, 1, 0, 2000)
{
    enum { N = 1200, TEXT = 4000 };
    static char text[TEXT + 1], got[TEXT + 512];
    char prefix[64];
    memset(text, 'x', TEXT);
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    size_t frame_len = 0;
    for (int i = 0; i < N; i++) {
        pl_msg *m = publish("lobby", text);
        CHECK(m);
        frame_len = m->ws_frame_len;
        pl_msg_unref(m);
    }
    int queued = settled_backlog(c->fd);
    CHECK(queued > 0 && (size_t)queued < N * frame_len); /* the rest is the server's */
    for (int i = 1; i <= N; i++) {
        CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
        snprintf(prefix, sizeof prefix, "{\"type\":\"message\",\"id\":%d,", i);
        CHECK_EQ_STR(strncmp(got, prefix, strlen(prefix)) == 0 ? prefix : got, prefix);
        CHECK(strstr(got, text) != NULL);
    }
}

/* A subscriber that does not read while 100 frames of 4 KB come (more
 * than its window holds, so our bytes wait unacknowledged), then reads
 * them all, then one more. Returns the messages it got in order. */
static int late_reader_gets(ws_raw *c)
{
    enum { N = 100, TEXT = 4000 };
    static char text[TEXT + 1], got[TEXT + 512];
    char prefix[64];
    memset(text, 'x', TEXT);
    for (int i = 0; i < N; i++) {
        pl_msg *m = publish("lobby", text);
        if (!m)
            return -1;
        pl_msg_unref(m);
        sleep_ms(1); /* one write each: no backlog batches them */
    }
    if (settled_backlog(c->fd) <= 0)
        return -1;
    pl_msg *m = publish("lobby", "caught up");
    pl_msg_unref(m);
    for (int i = 1; i <= N + 1; i++) {
        snprintf(prefix, sizeof prefix, "{\"type\":\"message\",\"id\":%d,", i);
        if (ws_raw_recv_text(c, WAIT_MS, got, sizeof got) != 0 ||
            strncmp(got, prefix, strlen(prefix)) != 0)
            return i - 1;
    }
    return N + 1;
}

/* Nagle's algorithm takes over from TCP_NODELAY while the peer leaves
 * our bytes unacknowledged (common/coalesce.h); nothing is held for good
 * once it reads. */
WS_TEST_WITH(a_subscriber_that_reads_late_is_coalesced_and_gets_every_message, own_origin, 1, 0,
             1000)
{
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(late_reader_gets(c), 101);
    CHECK(atomic_load(&st.ws.coalesced) >= 1);
}

TEST(with_no_coalesce_a_subscriber_that_reads_late_is_never_coalesced)
{
    coalesce = false;
    int up = start_with(own_origin, 1, 0, 1000);
    coalesce = true;
    ws_raw *c = up == 0 ? subscribe("/ws/lobby") : NULL;
    if (c) {
        CHECK_EQ_INT(late_reader_gets(c), 101);
        CHECK_EQ_INT(atomic_load(&st.ws.coalesced), 0);
    }
    stop();
    CHECK(c);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* --ws-write-delay: messages published within the delay come no sooner
 * than it, and together, in one write of their frames. A first message,
 * awaited, makes sure the room is open and no write is pending: the
 * writable that follows the room's opening sends what is due at once. */
TEST(with_a_write_delay_what_is_published_within_it_arrives_in_one_write)
{
    enum { N = 5, DELAY_MS = 300 };
    write_delay_ms = DELAY_MS;
    int up = start_with(own_origin, 1, 0, 100);
    write_delay_ms = 0;
    CHECK(up == 0);
    ws_raw *c = up == 0 ? subscribe("/ws/lobby") : NULL;
    CHECK(c);
    if (c) {
        char first[512];
        size_t frames = 0;
        uint32_t segs_before = 0, segs_after = 0;
        pl_msg *opener = publish("lobby", "first");
        CHECK(opener);
        pl_msg_unref(opener);
        CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, first, sizeof first), 0);
        usleep((DELAY_MS + 100) * 1000); /* its delay, if it ran, is over */
        CHECK_EQ_INT(segs_in_read(c->fd, &segs_before), 0);
        int64_t t0 = now_ms();
        for (int i = 0; i < N; i++) {
            pl_msg *m = publish("lobby", "together");
            CHECK(m);
            frames += m ? m->ws_frame_len : 0;
            pl_msg_unref(m);
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        CHECK_EQ_INT(poll(&p, 1, WAIT_MS), 1);
        int64_t waited = now_ms() - t0;
        CHECK(waited >= DELAY_MS * 8 / 10);
        usleep(100 * 1000); /* anything sent later would be in by now, too */
        unsigned char buf[4096];
        CHECK_EQ_INT(recv(c->fd, buf, sizeof buf, MSG_DONTWAIT), frames);
        CHECK_EQ_INT(buf[0], 0x81);
        CHECK_EQ_INT(segs_in_read(c->fd, &segs_after), 0);
        CHECK_EQ_INT(segs_after - segs_before, 1); /* one write: one segment on loopback */
    }
    stop();
}

/* ---- client frames ---- */

WS_TEST(publish_is_acked_with_id_and_cid_then_delivered)
{
    char got[512];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_send_text(
                     c, "{\"type\":\"publish\",\"user\":\"ann\",\"text\":\"hi\",\"cid\":\"c-1\"}"),
                 0);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, "{\"type\":\"ack\",\"id\":1,\"cid\":\"c-1\"}");
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK(strncmp(got, "{\"type\":\"message\",\"id\":1,", 25) == 0);
    CHECK(strstr(got, "\"text\":\"hi\""));
}

WS_TEST(publish_without_cid_is_acked_without_cid)
{
    char got[512];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_send_text(c, "{\"type\":\"publish\",\"user\":\"ann\",\"text\":\"hi\"}"), 0);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, "{\"type\":\"ack\",\"id\":1}");
}

WS_TEST(repeated_cid_is_acked_with_the_same_id_and_stored_once)
{
    char got[512];
    const char *pub = "{\"type\":\"publish\",\"user\":\"ann\",\"text\":\"hi\",\"cid\":\"again\"}";
    ws_raw *c = subscribe("/ws/lobby?since=0");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_send_text(c, pub), 0);
    CHECK_EQ_INT(ws_raw_send_text(c, pub), 0);
    int acks = 0;
    while (acks < 2) {
        CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
        if (strstr(got, "\"type\":\"ack\"")) {
            CHECK_EQ_STR(got, "{\"type\":\"ack\",\"id\":1,\"cid\":\"again\"}");
            acks++;
        }
    }
    CHECK_EQ_INT(pl_store_published(store), 1);
}

WS_TEST(json_ping_gets_json_pong)
{
    char got[64];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_send_text(c, "{\"type\":\"ping\"}"), 0);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, "{\"type\":\"pong\"}");
}

WS_TEST(bare_ping_gets_bare_pong)
{
    char got[64];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_send_text(c, "ping"), 0);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, "pong");
}

WS_TEST(rfc6455_ping_gets_pong_with_same_payload)
{
    ws_frame f;
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_send_frame(c, WS_OP_PING, true, "abc", 3), 0);
    CHECK_EQ_INT(ws_raw_recv(c, WAIT_MS, &f), 0);
    CHECK_EQ_INT(f.opcode, WS_OP_PONG);
    CHECK_EQ_INT(f.len, 3);
    CHECK(memcmp(f.data, "abc", 3) == 0);
}

/* Sends `frame`, expects an error frame with `code`, then checks the
 * connection still answers a ping. */
static int error_then_alive(ws_raw *c, int opcode, const char *frame, const char *code)
{
    char got[512], want[64];
    if (ws_raw_send_frame(c, opcode, true, frame, strlen(frame)) != 0 ||
        ws_raw_recv_text(c, WAIT_MS, got, sizeof got) != 0)
        return -1;
    snprintf(want, sizeof want, "{\"type\":\"error\",\"code\":\"%s\",\"message\":\"", code);
    if (strncmp(got, want, strlen(want)) != 0) {
        printf("# got %s\n", got);
        return -1;
    }
    if (ws_raw_send_text(c, "ping") != 0 || ws_raw_recv_text(c, WAIT_MS, got, sizeof got) != 0)
        return -1;
    return strcmp(got, "pong") == 0 ? 0 : -1;
}

WS_TEST(bad_json_gets_bad_request_and_connection_stays_open)
{
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(error_then_alive(c, WS_OP_TEXT, "{nope", "bad_request"), 0);
    CHECK_EQ_INT(atomic_load(&st.errors[PL_ERR_WS_FRAME]), 1);
}

WS_TEST(unknown_type_gets_bad_request)
{
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(error_then_alive(c, WS_OP_TEXT, "{\"type\":\"subscribe\"}", "bad_request"), 0);
}

WS_TEST(missing_type_gets_bad_request)
{
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(
        error_then_alive(c, WS_OP_TEXT, "{\"user\":\"ann\",\"text\":\"hi\"}", "bad_request"), 0);
}

WS_TEST(publish_without_text_gets_bad_request_and_stores_nothing)
{
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(
        error_then_alive(c, WS_OP_TEXT, "{\"type\":\"publish\",\"user\":\"ann\"}", "bad_request"),
        0);
    CHECK_EQ_INT(pl_store_published(store), 0);
}

WS_TEST(binary_frame_gets_bad_request)
{
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(error_then_alive(c, WS_OP_BINARY, "{\"type\":\"ping\"}", "bad_request"), 0);
}

/* Sends `text` as fragments of at most `piece` bytes. */
static int send_fragmented(ws_raw *c, const char *text, size_t len, size_t piece)
{
    for (size_t off = 0; off < len; off += piece) {
        size_t n = len - off < piece ? len - off : piece;
        if (ws_raw_send_frame(c, off ? WS_OP_CONT : WS_OP_TEXT, off + n == len, text + off, n))
            return -1;
    }
    return 0;
}

WS_TEST(fragmented_publish_is_reassembled)
{
    char got[512];
    char *pub = malloc(8192);
    CHECK(pub);
    int n = snprintf(pub, 8192, "{\"type\":\"publish\",\"user\":\"ann\",\"text\":\"");
    memset(pub + n, 'x', 4000);
    strcpy(pub + n + 4000, "\"}");
    ws_raw *c = subscribe("/ws/lobby");
    int rc = c ? send_fragmented(c, pub, strlen(pub), 1000) : -1;
    free(pub);
    CHECK(c);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, "{\"type\":\"ack\",\"id\":1}");
}

WS_TEST(message_over_16k_in_fragments_gets_payload_too_large)
{
    char got[512];
    size_t len = 17 * 1024;
    char *big = malloc(len);
    CHECK(big);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    ws_raw *c = subscribe("/ws/lobby");
    int rc = c ? send_fragmented(c, big, len, 4096) : -1;
    free(big);
    CHECK(c);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK(strncmp(got, "{\"type\":\"error\",\"code\":\"payload_too_large\"", 41) == 0);
    CHECK_EQ_INT(ws_raw_send_text(c, "ping"), 0);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, "pong");
}

WS_TEST(flooding_client_is_closed_with_1008)
{
    enum { PINGS = 2000 };
    ws_frame f;
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    /* All in one write, never reading: replies pile up faster than they go. */
    static unsigned char flood[PINGS * 10];
    for (int i = 0; i < PINGS; i++) {
        unsigned char *p = flood + i * 10;
        p[0] = 0x81;
        p[1] = 0x80 | 4;
        memset(p + 2, 0, 4); /* a zero mask leaves the payload as is */
        memcpy(p + 6, "ping", 4);
    }
    CHECK_EQ_INT(ws_raw_send_all(c->fd, flood, sizeof flood), 0);
    int rc;
    while ((rc = ws_raw_recv(c, WAIT_MS, &f)) == 0 && f.opcode == WS_OP_TEXT)
        ; /* pongs that made it out before the close */
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(f.opcode, WS_OP_CLOSE);
    CHECK(f.len >= 2);
    CHECK_EQ_INT((f.data[0] << 8) | f.data[1], 1008);
}

/* ---- idle peers ---- */

/* Run with heartbeat_s = 1: ping after 1 s of silence, hang up after 7 s. */

WS_TEST(silent_peer_gets_an_rfc6455_ping)
{
    ws_frame f;
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_recv(c, 10000, &f), 0);
    CHECK_EQ_INT(f.opcode, WS_OP_PING);
}

WS_TEST(peer_that_never_answers_pings_is_dropped)
{
    ws_frame f;
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    int rc;
    while ((rc = ws_raw_recv(c, 20000, &f)) == 0 && f.opcode == WS_OP_PING)
        ;
    CHECK(rc == -EPIPE || (rc == 0 && f.opcode == WS_OP_CLOSE));
    CHECK_EQ_INT(wait_counter(&st.ws.connections, true, 0), 0);
}

/* A listen-only client (npm ws, websocat, a browser) answers pings and
 * sends nothing else: that is an answer, so it stays past the 7 s. */
WS_TEST(peer_that_only_answers_pings_stays_open)
{
    ws_frame f;
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    time_t end = time(NULL) + 10;
    int pings = 0, rc = 0;
    while (time(NULL) < end && (rc = ws_raw_recv(c, 1000, &f)) != -EPIPE) {
        if (rc == 0 && f.opcode == WS_OP_PING) {
            pings++;
            CHECK_EQ_INT(ws_raw_send_frame(c, WS_OP_PONG, true, "", 0), 0);
        }
        CHECK(rc != 0 || f.opcode == WS_OP_PING);
    }
    CHECK(pings >= 2);
    CHECK(rc != -EPIPE);
    CHECK_EQ_INT(atomic_load(&st.ws.connections), 1);
}

/* Run with heartbeat_s = 15: a peer's own ?heartbeat= decides. */

WS_TEST(peer_asking_for_a_1_s_heartbeat_is_pinged_and_others_are_not)
{
    ws_frame f;
    ws_raw *fast = subscribe("/ws/lobby?heartbeat=1");
    ws_raw *slow = subscribe("/ws/lobby");
    CHECK(fast && slow);
    CHECK_EQ_INT(ws_raw_recv(fast, 3000, &f), 0);
    CHECK_EQ_INT(f.opcode, WS_OP_PING);
    CHECK_EQ_INT(ws_raw_recv(fast, 3000, &f), 0);
    CHECK_EQ_INT(f.opcode, WS_OP_PING);
    CHECK(ws_raw_recv(slow, 100, &f) != 0); /* silent 2 s, its heartbeat is 15 s */
}

WS_TEST(heartbeat_above_the_maximum_is_clamped_to_it) /* max_heartbeat_s = 1 */
{
    ws_frame f;
    ws_raw *c = subscribe("/ws/lobby?heartbeat=600");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_recv(c, 3000, &f), 0);
    CHECK_EQ_INT(f.opcode, WS_OP_PING);
}

WS_TEST(bad_heartbeat_is_refused)
{
    static const char *const paths[] = {"/ws/lobby?heartbeat=", "/ws/lobby?heartbeat=ten",
                                        "/ws/lobby?heartbeat=-1",
                                        "/ws/lobby?heartbeat=1&heartbeat=2"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        ws_raw c;
        int status = ws_raw_connect(&c, port, paths[i], NULL, NULL);
        ws_raw_close(&c);
        if (status != 400)
            printf("# %s got %d\n", paths[i], status);
        CHECK_EQ_INT(status, 400);
    }
}

/* ---- stats ---- */

WS_TEST(connections_gauge_follows_open_sockets)
{
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(wait_counter(&st.ws.connections, true, 1), 1);
    ws_raw_close(c);
    CHECK_EQ_INT(wait_counter(&st.ws.connections, true, 0), 0);
}

WS_TEST(bytes_out_is_handshake_plus_frame_header_and_payload)
{
    char want[512], got[512];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK(publish_frame("lobby", "count me", want, sizeof want));
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    long long expect = (long long)(strlen(c->response) + 2 + strlen(want));
    CHECK_EQ_INT(wait_counter(&st.ws.bytes_out, false, expect), expect);
    CHECK_EQ_INT(wait_counter(&st.ws.messages_out, false, 1), 1);
}

WS_TEST(bytes_out_includes_control_frames_once_closed)
{
    ws_frame f;
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_send_frame(c, WS_OP_PING, true, "abc", 3), 0);
    CHECK_EQ_INT(ws_raw_recv(c, WAIT_MS, &f), 0);
    CHECK_EQ_INT(f.opcode, WS_OP_PONG);
    long long expect = (long long)strlen(c->response) + 2 + 3; /* 101 + the pong lws wrote */
    ws_raw_close(c);
    CHECK_EQ_INT(wait_counter(&st.ws.connections, true, 0), 0);
    CHECK_EQ_INT(atomic_load(&st.ws.bytes_out), expect);
}

WS_TEST(publishes_received_are_counted_as_messages_in)
{
    char got[512];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(ws_raw_send_text(c, "{\"type\":\"publish\",\"user\":\"ann\",\"text\":\"hi\"}"), 0);
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_INT(atomic_load(&st.ws.messages_in), 1);
}

/* Stops the server while the client answers the close handshake from
 * another thread, the way a real peer would. */
static void *answer_close(void *arg)
{
    ws_raw *c = arg;
    ws_frame f;
    while (ws_raw_recv(c, WAIT_MS, &f) == 0)
        if (f.opcode == WS_OP_CLOSE) {
            int code = f.len >= 2 ? (f.data[0] << 8) | f.data[1] : 0;
            unsigned char echo[2] = {(unsigned char)(code >> 8), (unsigned char)code};
            ws_raw_send_frame(c, WS_OP_CLOSE, true, echo, 2);
            return (void *)(intptr_t)code;
        }
    return NULL;
}

WS_TEST(stop_closes_open_connections_with_1001)
{
    pthread_t t;
    void *code;
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT(pthread_create(&t, NULL, answer_close, c), 0);
    pl_ws_stop(ws);
    ws = NULL;
    pthread_join(t, &code);
    CHECK_EQ_INT((intptr_t)code, 1001);
    CHECK_EQ_INT(atomic_load(&st.ws.connections), 0);
}

/* ---- service threads ---- */

#define SPREAD 24 /* connections: each of 2 threads gets none 1 time in 8 million */

WS_TEST(connections_are_spread_over_every_thread_and_all_get_each_message)
{
    ws_raw *c[SPREAD];
    char want[512], got[512];
    for (int i = 0; i < SPREAD; i++)
        CHECK((c[i] = subscribe("/ws/lobby")));
    CHECK_EQ_INT((int)pl_ws_threads(ws), 2);
    CHECK(wait_counter(&st.ws.connections, true, SPREAD) == SPREAD);
    CHECK_EQ_INT((int)(pl_ws_thread_connections(ws, 0) + pl_ws_thread_connections(ws, 1)), SPREAD);
    CHECK(pl_ws_thread_connections(ws, 0) > 0 && pl_ws_thread_connections(ws, 1) > 0);
    CHECK(publish_frame("lobby", "to all", want, sizeof want));
    for (int i = 0; i < SPREAD; i++) {
        CHECK_EQ_INT(ws_raw_recv_text(c[i], WAIT_MS, got, sizeof got), 0);
        CHECK_EQ_STR(got, want);
    }
}

/* Listening socket on 127.0.0.1:`port` (0: any) with SO_REUSEPORT; -errno
 * when the bind fails. */
static int sharing_listener(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* SO_REUSEPORT would let the second server of one user share the port
 * and take half its connections: a fixed port already listened on is
 * refused, as an unshared listener would be. */
TEST(a_fixed_port_another_sharing_listener_holds_is_refused)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = sharing_listener(0);
    CHECK(fd >= 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    pl_store *s = pl_store_new(10, 4);
    pl_backend *b = s ? pl_backend_memory_new(s) : NULL;
    pl_stats st2 = {0};
    pl_ws_config cfg = {.bind = "127.0.0.1", .port = ntohs(sa.sin_port), .threads = 2};
    pl_ws *w = NULL;
    int rc = b ? pl_ws_start(&w, &cfg, b, &st2) : -ENOMEM;
    pl_ws_stop(w);
    pl_backend_free(b);
    pl_store_free(s);
    close(fd);
    CHECK_EQ_INT(rc, -EADDRINUSE);
}

/* With one thread the port is not shared: nobody can join it. */
WS_TEST(one_thread_serves_every_connection_on_a_port_it_shares_with_nobody)
{
    char want[512], got[512];
    ws_raw *c = subscribe("/ws/lobby");
    CHECK(c);
    CHECK_EQ_INT((int)pl_ws_threads(ws), 1);
    CHECK(wait_counter(&st.ws.connections, true, 1) == 1);
    CHECK_EQ_INT((int)pl_ws_thread_connections(ws, 0), 1);
    CHECK(publish_frame("lobby", "one", want, sizeof want));
    CHECK_EQ_INT(ws_raw_recv_text(c, WAIT_MS, got, sizeof got), 0);
    CHECK_EQ_STR(got, want);
    int fd = sharing_listener(port);
    if (fd >= 0)
        close(fd);
    CHECK_EQ_INT(fd, -EADDRINUSE);
}

int main(void)
{
    json_object_seed(0);
    RUN(handshake_without_subprotocol_is_accepted);
    RUN(handshake_with_pushlab_v1_echoes_it);
    RUN(subprotocol_list_naming_pushlab_v1_gets_it);
    RUN(only_unknown_subprotocols_are_refused_with_400);
    RUN(foreign_origin_is_refused_and_counted_as_403);
    RUN(allowed_origin_is_accepted);
    RUN(origin_must_match_exactly);
    RUN(star_allows_any_origin);
    RUN(path_other_than_ws_room_is_refused);
    RUN(plain_http_request_gets_404);
    RUN(invalid_room_name_is_refused_with_400);
    RUN(bad_since_is_refused);
    RUN(connections_past_max_are_refused);
    RUN(published_message_arrives_as_its_frame);
    RUN(every_subscriber_of_the_room_gets_it_and_no_other_room_does);
    RUN(since_replays_the_messages_after_it_in_order);
    RUN(without_since_only_new_messages_arrive);
    RUN(cursor_behind_trimmed_history_continues_from_oldest_held);
    RUN(a_burst_arrives_complete_and_in_order);
    RUN(a_reader_that_lets_its_socket_fill_gets_every_frame_whole);
    RUN(with_a_write_delay_what_is_published_within_it_arrives_in_one_write);
    RUN(publish_is_acked_with_id_and_cid_then_delivered);
    RUN(publish_without_cid_is_acked_without_cid);
    RUN(repeated_cid_is_acked_with_the_same_id_and_stored_once);
    RUN(json_ping_gets_json_pong);
    RUN(bare_ping_gets_bare_pong);
    RUN(rfc6455_ping_gets_pong_with_same_payload);
    RUN(bad_json_gets_bad_request_and_connection_stays_open);
    RUN(unknown_type_gets_bad_request);
    RUN(missing_type_gets_bad_request);
    RUN(publish_without_text_gets_bad_request_and_stores_nothing);
    RUN(binary_frame_gets_bad_request);
    RUN(fragmented_publish_is_reassembled);
    RUN(message_over_16k_in_fragments_gets_payload_too_large);
    RUN(flooding_client_is_closed_with_1008);
    heartbeat_s = 1;
    RUN(silent_peer_gets_an_rfc6455_ping);
    RUN(peer_that_never_answers_pings_is_dropped);
    RUN(peer_that_only_answers_pings_stays_open);
    heartbeat_s = 15;
    RUN(peer_asking_for_a_1_s_heartbeat_is_pinged_and_others_are_not);
    RUN(bad_heartbeat_is_refused);
    max_heartbeat_s = 1;
    RUN(heartbeat_above_the_maximum_is_clamped_to_it);
    max_heartbeat_s = 300;
    RUN(connections_gauge_follows_open_sockets);
    RUN(bytes_out_is_handshake_plus_frame_header_and_payload);
    RUN(bytes_out_includes_control_frames_once_closed);
    RUN(publishes_received_are_counted_as_messages_in);
    RUN(stop_closes_open_connections_with_1001);
    RUN(connections_are_spread_over_every_thread_and_all_get_each_message);
    RUN(a_fixed_port_another_sharing_listener_holds_is_refused);
    RUN(a_subscriber_that_reads_late_is_coalesced_and_gets_every_message);
    RUN(with_no_coalesce_a_subscriber_that_reads_late_is_never_coalesced);
    threads = 1;
    RUN(one_thread_serves_every_connection_on_a_port_it_shares_with_nobody);
    return CHECK_DONE();
}
