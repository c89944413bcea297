/* Specification of the SSE stream the client reads off its own socket
 * (client/xfer_stream.c), against a canned server in a thread of this
 * process: the request it sends, chunked and close-delimited answers cut
 * anywhere, error bodies, and answers that are not HTTP. */
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "client.h"

#define EV1                                                                                        \
    "id: 1\nevent: message\ndata: "                                                                \
    "{\"id\":1,\"room\":\"r\",\"user\":\"a\",\"text\":\"one\",\"ts\":1}\n\n"
#define EV2 "id: 2\ndata: {\"id\":2,\"room\":\"r\",\"user\":\"a\",\"text\":\"two\",\"ts\":2}\n\n"

/* One canned answer, written in `parts` (NULL-ended) 20 ms apart, then
 * the connection held (`hold`) or closed. */
typedef struct canned {
    int lfd, port;
    const char *const *parts;
    bool hold;
    char request[2048]; /* the first request it read */
    pthread_t thread;
} canned;

static void *serve(void *ud)
{
    canned *c = ud;
    int fd = accept(c->lfd, NULL, NULL);
    size_t got = 0;
    while (fd >= 0 && got < sizeof c->request - 1 && !strstr(c->request, "\r\n\r\n")) {
        ssize_t n = read(fd, c->request + got, sizeof c->request - 1 - got);
        if (n <= 0)
            break;
        c->request[got += (size_t)n] = '\0';
    }
    for (const char *const *p = c->parts; fd >= 0 && *p; p++) {
        if (write(fd, *p, strlen(*p)) < 0)
            break;
        usleep(20000);
    }
    if (c->hold)
        usleep(1500000);
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* A loopback listener on a free port. */
static int listen_free(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 8) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int canned_start(canned *c, const char *const *parts, bool hold)
{
    memset(c, 0, sizeof *c);
    c->parts = parts;
    c->hold = hold;
    if ((c->lfd = listen_free(&c->port)) < 0)
        return -1;
    return pthread_create(&c->thread, NULL, serve, c);
}

static void canned_stop(canned *c)
{
    shutdown(c->lfd, SHUT_RDWR);
    pthread_join(c->thread, NULL);
    close(c->lfd);
}

/* What one subscription saw before it stopped. */
typedef struct seen {
    pl_loop *loop;
    char texts[256];
    int messages, want;
    char error[512]; /* the first error: "STATUS CODE: message" */
} seen;

static void on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    seen *v = ud;
    (void)s;
    strncat(v->texts, m->text, sizeof v->texts - strlen(v->texts) - 2);
    strcat(v->texts, ";");
    if (++v->messages >= v->want)
        pl_loop_stop(v->loop);
}

static void on_state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *e,
                     void *ud)
{
    seen *v = ud;
    (void)s, (void)detail;
    if (e && e->rc && !v->error[0])
        snprintf(v->error, sizeof v->error, "%d %s: %s", e->status, e->code, e->message);
    if (st == PL_SUB_FAILED || (st == PL_SUB_RECONNECTING && v->want == 0))
        pl_loop_stop(v->loop);
}

/* Subscribes over SSE from `since` to the canned server until `want`
 * messages came (0: the first error), at most 3 s. */
static int subscribe(canned *c, int want, int64_t since, seen *v)
{
    char url[64];
    memset(v, 0, sizeof *v);
    v->want = want;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", c->port);
    pl_sub_opts o = {.transport = PL_TRANSPORT_SSE,
                     .url = url,
                     .room = "r",
                     .since = since,
                     .heartbeat_s = 5,
                     .backoff_min_ms = 2000,
                     .max_fails = 1,
                     .cb = {.on_message = on_message, .on_state = on_state},
                     .ud = v};
    pl_sub *s;
    if (pl_loop_new(&v->loop) != 0 || pl_sub_open(v->loop, &o, &s) != 0)
        return -1;
    pl_loop_run(v->loop, 3000);
    pl_loop_free(v->loop);
    return 0;
}

/* The canned server answers `parts` to one subscription from `since`
 * (subscribe's terms); `c` keeps what it read. */
static int serve_one(canned *c, const char *const *parts, bool hold, int want, int64_t since,
                     seen *v)
{
    if (canned_start(c, parts, hold) != 0)
        return -1;
    int rc = subscribe(c, want, since, v);
    canned_stop(c);
    return rc;
}

#define HEAD "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"

TEST(the_request_asks_for_the_room_stream_from_its_start)
{
    static const char *const parts[] = {HEAD "Connection: close\r\n\r\n", EV2, NULL};
    canned c;
    seen v;
    CHECK_EQ_INT(serve_one(&c, parts, true, 1, 0, &v), 0);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", c.port);
    CHECK(strncmp(c.request, "GET /api/rooms/r/events?since=0", 31) == 0);
    CHECK(strstr(c.request, " HTTP/1.1\r\n") != NULL);
    CHECK(strstr(c.request, host) != NULL);
    CHECK(strstr(c.request, "\r\nAccept: text/event-stream\r\n") != NULL);
    CHECK(strstr(c.request, "Last-Event-ID") == NULL); /* nothing to resume from yet */
    CHECK_EQ_STR(v.texts, "two;");
}

TEST(a_close_delimited_stream_cut_anywhere_delivers_each_event_once)
{
    static const char *const parts[] = {
        HEAD "Connection: close\r\n", "\r\nretry: 2000\n\nid: 1\nev",
        "ent: message\ndata: {\"id\":1,\"room\":\"r\",\"user\":\"a\",",
        "\"text\":\"one\",\"ts\":1}\n\n" EV2, NULL};
    canned c;
    seen v;
    CHECK_EQ_INT(serve_one(&c, parts, true, 2, 0, &v), 0);
    CHECK_EQ_STR(v.texts, "one;two;");
}

TEST(a_chunked_stream_cut_inside_chunks_and_sizes_delivers_each_event_once)
{
    /* EV1 goes as two chunks, the first one's size line ("30") cut in two. */
    char a[160], b[256];
    snprintf(a, sizeof a, "0\r\n%.48s", EV1);
    snprintf(b, sizeof b, "\r\n%zx\r\n%s\r\n%zx\r\n%s\r\n", sizeof EV1 - 1 - 48, EV1 + 48,
             sizeof EV2 - 1, EV2);
    const char *const parts[] = {HEAD "Transfer-Encoding: chunked\r\n\r\n3", a, b, NULL};
    canned c;
    seen v;
    CHECK_EQ_INT(serve_one(&c, parts, true, 2, 0, &v), 0);
    CHECK_EQ_STR(v.texts, "one;two;");
}

TEST(an_error_status_reports_the_servers_json_error)
{
#define NOT_FOUND "{\"error\":{\"code\":\"not_found\",\"message\":\"no room\"}}"
    char head[160];
    snprintf(head, sizeof head,
             "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n" NOT_FOUND,
             sizeof NOT_FOUND - 1);
    const char *const parts[] = {head, NULL};
    canned c;
    seen v;
    CHECK_EQ_INT(serve_one(&c, parts, false, 0, 0, &v), 0);
    CHECK_EQ_STR(v.error, "404 not_found: no room");
    CHECK_EQ_INT(v.messages, 0);
}

TEST(an_answer_that_is_not_http_is_a_clear_error)
{
    static const char *const parts[] = {"SSH-2.0-OpenSSH_9.2\r\n", NULL};
    canned c;
    seen v;
    CHECK_EQ_INT(serve_one(&c, parts, false, 0, 0, &v), 0);
    CHECK(strstr(v.error, "bad HTTP answer") != NULL);
}

TEST(a_connection_closed_before_any_answer_says_so)
{
    static const char *const parts[] = {NULL};
    canned c;
    seen v;
    CHECK_EQ_INT(serve_one(&c, parts, false, 0, 0, &v), 0);
    CHECK(strstr(v.error, "closed the connection before answering") != NULL);
}

int main(void)
{
    pl_client_global_init();
    RUN(the_request_asks_for_the_room_stream_from_its_start);
    RUN(a_close_delimited_stream_cut_anywhere_delivers_each_event_once);
    RUN(a_chunked_stream_cut_inside_chunks_and_sizes_delivers_each_event_once);
    RUN(an_error_status_reports_the_servers_json_error);
    RUN(an_answer_that_is_not_http_is_a_clear_error);
    RUN(a_connection_closed_before_any_answer_says_so);
    pl_client_global_cleanup();
    return CHECK_DONE();
}
