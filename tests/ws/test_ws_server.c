/* The WebSocket endpoint through the real pushlab-server binary (argv[1]),
 * started on free ports: HTTP and WebSocket share one store, so what one
 * transport publishes the other delivers with the same id. */
#include <jansson.h>
#include "check.h"
#include "spawn.h"
#include "ws_raw.h"

#define WAIT_MS 5000

static const char *server_path;
static pl_test_server srv;
static ws_raw cli;

/* One HTTP/1.1 request over a raw socket; the whole response (head and
 * body) lands in `out`. Returns the status or -1. */
static int http(const char *method, const char *path, const char *body, char *out, size_t cap)
{
    char req[1024];
    int fd = ws_raw_tcp(srv.http_port);
    if (fd < 0)
        return -1;
    int len = snprintf(req, sizeof req,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                       "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                       method, path, body ? strlen(body) : 0, body ? body : "");
    size_t n = 0;
    if (ws_raw_send_all(fd, req, (size_t)len) == 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r = 1;
        while (n < cap - 1 && poll(&p, 1, WAIT_MS) > 0 &&
               (r = recv(fd, out + n, cap - 1 - n, 0)) > 0)
            n += (size_t)r;
    }
    close(fd);
    out[n] = '\0';
    int status;
    return sscanf(out, "HTTP/1.%*d %d", &status) == 1 ? status : -1;
}

/* The JSON body of a response held in `resp`, or NULL. */
static json_t *body_json(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? json_loads(b + 4, 0, NULL) : NULL;
}

static long long json_int_at(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

TEST(http_publish_arrives_over_websocket_with_the_same_id)
{
    char resp[4096], frame[4096];
    CHECK_EQ_INT(ws_raw_connect(&cli, srv.ws_port, "/ws/lobby", NULL, "pushlab.v1"), 101);
    CHECK_EQ_INT(http("POST", "/api/rooms/lobby/messages",
                      "{\"user\":\"ann\",\"text\":\"via http\"}", resp, sizeof resp),
                 201);
    json_t *posted = body_json(resp);
    CHECK(posted);
    long long id = json_int_at(posted, "id");
    json_decref(posted);
    CHECK(id >= 1);
    CHECK_EQ_INT(ws_raw_recv_text(&cli, WAIT_MS, frame, sizeof frame), 0);
    json_t *got = json_loads(frame, 0, NULL);
    CHECK(got);
    const char *type = json_string_value(json_object_get(got, "type"));
    const char *text = json_string_value(json_object_get(got, "text"));
    long long got_id = json_int_at(got, "id");
    int same = type && text && strcmp(type, "message") == 0 && strcmp(text, "via http") == 0;
    json_decref(got);
    CHECK(same);
    CHECK_EQ_INT(got_id, id);
    ws_raw_close(&cli);
}

TEST(websocket_publish_is_visible_to_short_polling)
{
    char resp[4096], frame[512];
    CHECK_EQ_INT(ws_raw_connect(&cli, srv.ws_port, "/ws/ws2http", NULL, NULL), 101);
    CHECK_EQ_INT(
        ws_raw_send_text(&cli, "{\"type\":\"publish\",\"user\":\"bo\",\"text\":\"via ws\"}"), 0);
    CHECK_EQ_INT(ws_raw_recv_text(&cli, WAIT_MS, frame, sizeof frame), 0);
    CHECK_EQ_STR(frame, "{\"type\":\"ack\",\"id\":1}");
    CHECK_EQ_INT(http("GET", "/api/rooms/ws2http/messages?since=0", NULL, resp, sizeof resp), 200);
    json_t *page = body_json(resp);
    CHECK(page);
    json_t *first = json_array_get(json_object_get(page, "messages"), 0);
    const char *text = json_string_value(json_object_get(first, "text"));
    int ok = text && strcmp(text, "via ws") == 0 && json_int_at(first, "id") == 1;
    json_decref(page);
    CHECK(ok);
    ws_raw_close(&cli);
}

TEST(stats_report_websocket_connections_and_messages)
{
    char resp[8192], frame[512];
    CHECK_EQ_INT(ws_raw_connect(&cli, srv.ws_port, "/ws/stats", NULL, NULL), 101);
    CHECK_EQ_INT(ws_raw_send_text(&cli, "{\"type\":\"publish\",\"user\":\"cy\",\"text\":\"x\"}"),
                 0);
    CHECK_EQ_INT(ws_raw_recv_text(&cli, WAIT_MS, frame, sizeof frame), 0); /* ack */
    CHECK_EQ_INT(ws_raw_recv_text(&cli, WAIT_MS, frame, sizeof frame), 0); /* message */
    CHECK_EQ_INT(http("GET", "/api/stats", NULL, resp, sizeof resp), 200);
    json_t *stats = body_json(resp);
    CHECK(stats);
    json_t *w = json_object_get(json_object_get(stats, "transports"), "ws");
    long long conns = json_int_at(w, "connections"), in = json_int_at(w, "messages_in");
    long long out = json_int_at(w, "messages_out"), bytes = json_int_at(w, "bytes_out");
    json_decref(stats);
    CHECK(conns >= 1); /* earlier tests' sockets may still be closing */
    CHECK(in >= 1);
    CHECK(out >= 1);
    CHECK(bytes > (long long)strlen(cli.response));
    ws_raw_close(&cli);
}

TEST(foreign_origin_is_refused_by_the_server)
{
    CHECK_EQ_INT(ws_raw_connect(&cli, srv.ws_port, "/ws/lobby", "http://evil.example", NULL), 403);
    ws_raw_close(&cli);
}

TEST(on_every_address_the_page_origin_follows_the_host_it_dialled)
{
    pl_test_server any;
    const char *args[] = {"--bind", "0.0.0.0", NULL};
    char origin[64];
    CHECK(pl_test_server_start(&any, server_path, args) == 0);
    snprintf(origin, sizeof origin, "http://127.0.0.1:%d", any.http_port);
    int same = ws_raw_connect(&cli, any.ws_port, "/ws/lobby", origin, NULL);
    ws_raw_close(&cli);
    snprintf(origin, sizeof origin, "http://evil.example:%d", any.http_port);
    int foreign = ws_raw_connect(&cli, any.ws_port, "/ws/lobby", origin, NULL);
    ws_raw_close(&cli);
    snprintf(origin, sizeof origin, "http://127.0.0.1:%d", any.ws_port);
    int other_port = ws_raw_connect(&cli, any.ws_port, "/ws/lobby", origin, NULL);
    ws_raw_close(&cli);
    pl_test_server_stop(&any, SIGTERM);
    CHECK_EQ_INT(same, 101);
    CHECK_EQ_INT(foreign, 403);
    CHECK_EQ_INT(other_port, 403);
}

TEST(sigterm_with_an_open_websocket_exits_0)
{
    ws_frame f;
    CHECK_EQ_INT(ws_raw_connect(&cli, srv.ws_port, "/ws/lobby", NULL, NULL), 101);
    CHECK_EQ_INT(pl_test_server_stop(&srv, SIGTERM), 0);
    srv.pid = 0;
    int rc;
    while ((rc = ws_raw_recv(&cli, WAIT_MS, &f)) == 0 && f.opcode != WS_OP_CLOSE)
        ;
    CHECK(rc == -EPIPE || (rc == 0 && f.opcode == WS_OP_CLOSE));
    ws_raw_close(&cli);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("1..0 # SKIP usage: test_ws_server PATH-TO-pushlab-server\n");
        return 0;
    }
    server_path = argv[1];
    if (pl_test_server_start(&srv, server_path, NULL) != 0) {
        printf("not ok 1 - server starts\n1..1\n");
        return 1;
    }
    RUN(http_publish_arrives_over_websocket_with_the_same_id);
    RUN(websocket_publish_is_visible_to_short_polling);
    RUN(stats_report_websocket_connections_and_messages);
    RUN(foreign_origin_is_refused_by_the_server);
    RUN(on_every_address_the_page_origin_follows_the_host_it_dialled);
    RUN(sigterm_with_an_open_websocket_exits_0);
    if (srv.pid > 0)
        pl_test_server_stop(&srv, SIGKILL);
    return CHECK_DONE();
}
