/* Specification of the pushlab-client command line against the real
 * server: listen receives what send publishes on every transport, in
 * order, once; gaps, auto fallback, retries by cid and clear errors. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "check.h"
#include "proxy.h"
#include "spawn.h"

static const char *server_path, *client_path;
static pl_test_server srv;

/* A running pushlab-client with its stdout and stderr piped to us. */
typedef struct proc {
    pid_t pid;
    int out, err;
    char obuf[16384], ebuf[16384];
    size_t olen, elen;
} proc;

/* Starts the client with `args` (NULL-terminated) after --url and
 * --quiet-free defaults; `input` (may be NULL) is its whole stdin. */
static int proc_start(proc *p, const char *url, const char *const *args, const char *input)
{
    const char *argv[32] = {client_path, "--url", url};
    int argc = 3, o[2], e[2], in[2];
    for (; *args && argc < 30; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    memset(p, 0, sizeof *p);
    if (pipe(o) || pipe(e) || pipe(in))
        return -1;
    if ((p->pid = fork()) == 0) {
        dup2(in[0], 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        close(o[0]), close(e[0]), close(in[1]);
        execv(client_path, (char *const *)argv);
        _exit(127);
    }
    close(o[1]), close(e[1]), close(in[0]);
    if (input && write(in[1], input, strlen(input)) < 0)
        return -1;
    close(in[1]);
    p->out = o[0];
    p->err = e[0];
    return p->pid > 0 ? 0 : -1;
}

/* Collects output until the client exits (killed after `ms`); returns
 * its exit status, or -1 when it had to be killed. */
static int proc_finish(proc *p, int ms)
{
    struct pollfd fds[2] = {{.fd = p->out, .events = POLLIN}, {.fd = p->err, .events = POLLIN}};
    int open = 2, status = 0, waited = 0;
    while (open && waited < ms) {
        if (poll(fds, 2, 100) == 0) {
            waited += 100;
            continue;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char *buf = i ? p->ebuf : p->obuf;
            size_t *len = i ? &p->elen : &p->olen;
            ssize_t n = read(fds[i].fd, buf + *len, sizeof p->obuf - 1 - *len);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open--;
            } else {
                *len += (size_t)n;
                buf[*len] = '\0';
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    if (open) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        printf("# killed after %d ms; stderr: %s\n", ms, p->ebuf);
        return -1;
    }
    waitpid(p->pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs the client to completion. */
static int run_client(proc *p, const char *url, const char *const *args, const char *input)
{
    if (proc_start(p, url, args, input) != 0)
        return -1;
    return proc_finish(p, 15000);
}

static void listen_gets_what_send_publishes(const char *transport)
{
    char room[32];
    proc l, s;
    snprintf(room, sizeof room, "cli-%s", transport);
    const char *largs[] = {"--room",  room, "--transport", transport, "--since", "0",
                           "--count", "3",  "--interval",  "50",      "listen",  NULL};
    const char *sargs[] = {"--room", room, "--user", "ann", "send", "one", "two", "three", NULL};
    CHECK(proc_start(&l, srv.http, largs, NULL) == 0);
    CHECK_EQ_INT(run_client(&s, srv.http, sargs, NULL), 0);
    CHECK_EQ_STR(s.obuf, "1\n2\n3\n");
    CHECK_EQ_INT(proc_finish(&l, 15000), 0);
    CHECK_EQ_STR(l.obuf, "[1] ann: one\n[2] ann: two\n[3] ann: three\n");
}

TEST(short_poll_listen_gets_what_send_publishes) { listen_gets_what_send_publishes("short-poll"); }

TEST(long_poll_listen_gets_what_send_publishes) { listen_gets_what_send_publishes("long-poll"); }

TEST(sse_listen_gets_what_send_publishes) { listen_gets_what_send_publishes("sse"); }

TEST(ws_listen_gets_what_send_publishes) { listen_gets_what_send_publishes("ws"); }

/* A shell with $http_proxy set: libcurl goes direct to hosts $no_proxy
 * names, and the WebSocket transport must too (lws alone ignores it), as
 * must SSE, which reads its stream off its own socket when direct. */
static int listen_behind_proxy(const char *transport, const char *room, const char *no_proxy,
                               proc *l)
{
    const char *largs[] = {"--room", room,      "--transport", transport, "--since", "0", "--count",
                           "1",      "--quiet", "--max-fails", "1",       "listen",  NULL};
    const char *sargs[] = {"--room", room, "send", "hello", NULL};
    proc s;
    setenv("http_proxy", "http://127.0.0.1:9", 1); /* nothing listens there */
    setenv("no_proxy", no_proxy, 1);
    int rc = proc_start(l, srv.http, largs, NULL);
    unsetenv("http_proxy");
    unsetenv("no_proxy");
    if (rc)
        return rc;
    usleep(500000);
    if (run_client(&s, srv.http, sargs, NULL) != 0)
        return -1;
    return proc_finish(l, 5000);
}

static void goes_direct_to_a_host_no_proxy_names(const char *transport, const char *room)
{
    proc l;
    CHECK_EQ_INT(listen_behind_proxy(transport, room, "localhost,127.0.0.1", &l), 0);
    CHECK_EQ_STR(l.obuf, "[1] anon: hello\n");
}

static void uses_http_proxy_for_other_hosts(const char *transport, const char *room)
{
    proc l;
    CHECK_EQ_INT(listen_behind_proxy(transport, room, "example.org", &l), 1);
    CHECK_EQ_STR(l.obuf, "");
    CHECK(strstr(l.ebuf, "127.0.0.1 port 9") != NULL); /* it went to the proxy */
}

TEST(ws_listen_goes_direct_to_a_host_no_proxy_names)
{
    goes_direct_to_a_host_no_proxy_names("ws", "cli-noproxy");
}

TEST(ws_listen_uses_http_proxy_for_other_hosts_as_curl_does)
{
    uses_http_proxy_for_other_hosts("ws", "cli-proxied");
}

TEST(sse_listen_goes_direct_to_a_host_no_proxy_names)
{
    goes_direct_to_a_host_no_proxy_names("sse", "cli-sse-noproxy");
}

TEST(sse_listen_uses_http_proxy_for_other_hosts)
{
    uses_http_proxy_for_other_hosts("sse", "cli-sse-proxied");
}

TEST(send_over_ws_prints_acked_ids_and_json_listen_shows_them)
{
    proc s, l;
    const char *sargs[] = {"--room", "wssend", "--user", "bo", "--transport", "ws", "send", NULL};
    const char *largs[] = {"--room", "wssend", "--since", "0", "--count",
                           "2",      "--json", "listen",  NULL};
    CHECK_EQ_INT(run_client(&s, srv.http, sargs, "first line\nsecond line\n"), 0);
    CHECK_EQ_STR(s.obuf, "1\n2\n");
    CHECK_EQ_INT(run_client(&l, srv.http, largs, NULL), 0);
    json_error_t je;
    char *nl = strchr(l.obuf, '\n');
    CHECK(nl != NULL);
    json_t *second = json_loads(nl + 1, JSON_DISABLE_EOF_CHECK, &je);
    CHECK(second != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(second, "id")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(second, "text")), "second line");
    CHECK_EQ_STR(json_string_value(json_object_get(second, "user")), "bo");
    CHECK(json_integer_value(json_object_get(second, "ts")) > 0);
    json_decref(second);
}

/* POSTs `body` to /api/rooms/{room}/messages over a plain socket, so the
 * message can carry a meta object the CLI cannot send; returns the status. */
static int raw_post(const char *url, const char *room, const char *body)
{
    char req[1024], resp[512];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    a.sin_port = htons((uint16_t)atoi(strrchr(url, ':') + 1));
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
    int n = snprintf(req, sizeof req,
                     "POST /api/rooms/%s/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     room, strlen(body), body);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, req, (size_t)n) == n && read(fd, resp, sizeof resp - 1) > 12)
        status = atoi(resp + 9);
    if (fd >= 0)
        close(fd);
    return status;
}

TEST(json_listen_prints_the_meta_object_a_message_carries)
{
    proc l;
    const char *largs[] = {"--room", "metaroom",    "--since", "0",      "--count", "1",
                           "--json", "--transport", "sse",     "listen", NULL};
    CHECK_EQ_INT(raw_post(srv.http, "metaroom",
                          "{\"user\":\"mo\",\"text\":\"m\",\"meta\":{\"seq\":7,\"tag\":\"x\"}}"),
                 201);
    CHECK_EQ_INT(run_client(&l, srv.http, largs, NULL), 0);
    CHECK(strstr(l.obuf, "\"meta\":{\"seq\":7,\"tag\":\"x\"}") != NULL);
}

TEST(repeated_cid_prints_the_same_id_marked_duplicate)
{
    proc a, b;
    const char *args[] = {"--room", "cidroom", "--cid", "abc-1", "send", "hello", NULL};
    CHECK_EQ_INT(run_client(&a, srv.http, args, NULL), 0);
    CHECK_EQ_INT(run_client(&b, srv.http, args, NULL), 0);
    CHECK_EQ_STR(a.obuf, "1\n");
    CHECK_EQ_STR(b.obuf, "1 (duplicate cid)\n");
}

TEST(trimmed_history_prints_a_gap_before_the_messages)
{
    pl_test_server small;
    proc s, l;
    const char *extra[] = {"--history", "5", NULL};
    const char *sargs[] = {"send", "1", "2", "3", "4", "5", "6", "7", "8", NULL};
    const char *largs[] = {"--since",     "0",   "--count", "3", "--json",
                           "--transport", "sse", "listen",  NULL};
    CHECK(pl_test_server_start(&small, server_path, extra) == 0);
    int sent = run_client(&s, small.http, sargs, NULL);
    int got = run_client(&l, small.http, largs, NULL);
    pl_test_server_stop(&small, SIGTERM);
    CHECK_EQ_INT(sent, 0);
    CHECK_EQ_INT(got, 0);
    CHECK(strncmp(l.obuf, "{\"gap\":{\"first\":1,\"last\":3}}\n", 29) == 0);
    CHECK(strstr(l.obuf, "\"id\":4,") && strstr(l.obuf, "\"id\":8,"));
    CHECK(strstr(l.ebuf, "gap: messages 1..3 were lost") != NULL);
}

TEST(auto_falls_back_to_sse_when_the_ws_port_is_unreachable)
{
    proc s, l;
    const char *sargs[] = {"--room", "auto", "--user", "al", "send", "x", NULL};
    const char *largs[] = {"--room", "auto",    "--ws-url", "ws://127.0.0.1:1", "--since",
                           "0",      "--count", "1",        "listen",           NULL};
    CHECK_EQ_INT(run_client(&s, srv.http, sargs, NULL), 0);
    CHECK_EQ_INT(run_client(&l, srv.http, largs, NULL), 0);
    CHECK_EQ_STR(l.obuf, "[1] al: x\n");
    CHECK(strstr(l.ebuf, "fallback (ws)") != NULL);
    CHECK(strstr(l.ebuf, "open (sse)") != NULL);
}

TEST(chat_publishes_typed_lines_and_prints_them_as_they_come_back)
{
    proc c;
    const char *args[] = {"--room", "chat", "--user", "zed", "--quiet", "chat", NULL};
    CHECK_EQ_INT(run_client(&c, srv.http, args, "hi\nthere\n"), 0);
    CHECK_EQ_STR(c.obuf, "[1] zed: hi\n[2] zed: there\n");
}

TEST(refused_connection_fails_after_max_fails_with_a_clear_error)
{
    proc l;
    const char *args[] = {"--transport", "sse", "--max-fails", "2", "listen", NULL};
    CHECK(run_client(&l, "http://127.0.0.1:1", args, NULL) == 1);
    CHECK(strstr(l.ebuf, "reconnecting (sse, retry 1 in ") != NULL);
    CHECK(strstr(l.ebuf, "pushlab-client: subscription: Failed to connect") != NULL);
    CHECK(strstr(l.ebuf, "Couldn't connect") != NULL);
}

/* Counts the lines of `text` that contain `what`. */
static int count_lines_with(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* Without --max-fails a refused connection is retried with backoff, as
 * EventSource does, one stderr line per retry even with --quiet. */
TEST(refused_connection_is_retried_and_each_retry_reported)
{
    proc l;
    const char *args[] = {"--transport", "long-poll", "--quiet", "listen", NULL};
    CHECK(proc_start(&l, "http://127.0.0.1:1", args, NULL) == 0);
    usleep(1500000);
    int alive = waitpid(l.pid, NULL, WNOHANG) == 0;
    kill(l.pid, SIGTERM);
    int rc = proc_finish(&l, 5000);
    CHECK(alive);
    CHECK_EQ_INT(rc, 0);
    CHECK(count_lines_with(l.ebuf, "pushlab-client: reconnecting (long-poll, retry ") >= 2);
    CHECK_EQ_INT(count_lines_with(l.ebuf, "\n"),
                 count_lines_with(l.ebuf, "pushlab-client: reconnecting (long-poll, retry "));
}

/* Every transport through a proxy that cuts every connection 100-600 ms
 * after it opened (an RST or an EOF, whatever was in flight), from the
 * very first request: `listen` gets all 150 messages, each once, in order,
 * exits 0, and has said on stderr each time it reconnected. */
static void listen_survives_cuts_from_the_first_request(const char *transport)
{
    proxy px;
    proc l;
    char room[32], purl[64], pws[64], want[4096], *w = want;
    snprintf(room, sizeof room, "cut-%s", transport);
    CHECK(proxy_start(&px, srv.http_port, srv.ws_port, 100, 600) == 0);
    snprintf(purl, sizeof purl, "http://127.0.0.1:%d", px.port[0]);
    snprintf(pws, sizeof pws, "ws://127.0.0.1:%d", px.port[1]);
    const char *args[] = {"--ws-url",   pws,       "--room", room,      "--transport",
                          transport,    "--since", "0",      "--count", "150",
                          "--interval", "50",      "listen", NULL};
    int started = proc_start(&l, purl, args, NULL);
    /* A second of nothing to answer first: a long poll is cut while it
     * waits, before any answer ever came. */
    usleep(1000000);
    int posted = 0;
    for (int i = 1; started == 0 && i <= 150; i++) {
        char body[96];
        snprintf(body, sizeof body, "{\"user\":\"p\",\"text\":\"m%d\"}", i);
        posted += raw_post(srv.http, room, body) == 201;
        w += sprintf(w, "[%d] p: m%d\n", i, i);
        usleep(15000);
    }
    int rc = started == 0 ? proc_finish(&l, 60000) : -1;
    int cuts = atomic_load(&px.cuts);
    proxy_stop(&px);
    int retries = count_lines_with(l.ebuf, "pushlab-client: reconnecting (");
    printf("# %s: exit %d, %d cuts, %d retry lines\n", transport, rc, cuts, retries);
    if (rc != 0)
        check_comment("stderr tail", l.elen > 600 ? l.ebuf + l.elen - 600 : l.ebuf);
    CHECK_EQ_INT(started, 0);
    CHECK_EQ_INT(posted, 150);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(l.obuf, want);
    CHECK(cuts >= 3);
    /* The first connection is cut during the quiet second, before any
     * answer: a retry to report. Later, libcurl resends by itself a poll
     * whose reused connection was cut before any byte of the answer, so
     * polls show fewer retry lines than cuts (a short poll maybe none). */
    CHECK(retries >= (strcmp(transport, "short-poll") == 0 ? 0 : 1));
}

TEST(short_poll_listen_survives_cuts_from_the_first_request)
{
    listen_survives_cuts_from_the_first_request("short-poll");
}

TEST(long_poll_listen_survives_cuts_from_the_first_request)
{
    listen_survives_cuts_from_the_first_request("long-poll");
}

TEST(sse_listen_survives_cuts_from_the_first_request)
{
    listen_survives_cuts_from_the_first_request("sse");
}

TEST(ws_listen_survives_cuts_from_the_first_request)
{
    listen_survives_cuts_from_the_first_request("ws");
}

/* A 404 is final on every transport: one clear line, exit 1, at once. */
static void not_found_is_final(const char *transport)
{
    proc l;
    char url[160], ws[160];
    snprintf(url, sizeof url, "%s/nope", srv.http);
    snprintf(ws, sizeof ws, "%s/nope", srv.ws);
    const char *args[] = {"--ws-url", ws, "--transport", transport, "--since", "0", "listen", NULL};
    long long t0 = proxy_now_ms();
    int rc = run_client(&l, url, args, NULL);
    if (rc != 1) {
        printf("# %s: exit %d\n", transport, rc);
        check_comment("stderr", l.ebuf);
    }
    CHECK_EQ_INT(rc, 1);
    CHECK(strstr(l.ebuf, "pushlab-client: subscription: server error 404 ") != NULL);
    CHECK(proxy_now_ms() - t0 < 5000);
}

TEST(not_found_stops_short_poll_listen) { not_found_is_final("short-poll"); }

TEST(not_found_stops_long_poll_listen) { not_found_is_final("long-poll"); }

TEST(not_found_stops_sse_listen) { not_found_is_final("sse"); }

TEST(not_found_stops_ws_listen) { not_found_is_final("ws"); }

/* "http://" alone: libcurl would take the path's first segment for a
 * host name and the retries would never end. */
TEST(url_without_a_host_is_refused_at_once)
{
    proc l, w;
    const char *args[] = {"--transport", "sse", "listen", NULL};
    const char *wargs[] = {"--transport", "ws", "--ws-url", "ws://", "listen", NULL};
    CHECK_EQ_INT(run_client(&l, "http://", args, NULL), 2);
    CHECK(strstr(l.ebuf, "pushlab-client: bad subscription (url 'http://'") != NULL);
    CHECK_EQ_INT(run_client(&w, srv.http, wargs, NULL), 2);
    CHECK(strstr(w.ebuf, "pushlab-client: bad subscription") != NULL);
}

TEST(bad_url_is_a_usage_error)
{
    proc l;
    const char *args[] = {"listen", NULL};
    CHECK_EQ_INT(run_client(&l, "ftp://example", args, NULL), 2);
    CHECK(strstr(l.ebuf, "bad URL 'ftp://example'") != NULL);
}

TEST(server_refusal_prints_its_status_and_code)
{
    proc s;
    const char *args[] = {"--user", "\x01", "send", "x", NULL};
    CHECK_EQ_INT(run_client(&s, srv.http, args, NULL), 1);
    CHECK(strstr(s.ebuf, "server error 400 bad_request") != NULL);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("1..0 # SKIP usage: test_cli SERVER CLIENT\n");
        return 0;
    }
    server_path = argv[1];
    client_path = argv[2];
    if (pl_test_server_start(&srv, server_path, NULL) != 0) {
        printf("Bail out! server did not start\n");
        return 1;
    }
    RUN(short_poll_listen_gets_what_send_publishes);
    RUN(long_poll_listen_gets_what_send_publishes);
    RUN(sse_listen_gets_what_send_publishes);
    RUN(ws_listen_gets_what_send_publishes);
    RUN(ws_listen_goes_direct_to_a_host_no_proxy_names);
    RUN(ws_listen_uses_http_proxy_for_other_hosts_as_curl_does);
    RUN(sse_listen_goes_direct_to_a_host_no_proxy_names);
    RUN(sse_listen_uses_http_proxy_for_other_hosts);
    RUN(send_over_ws_prints_acked_ids_and_json_listen_shows_them);
    RUN(json_listen_prints_the_meta_object_a_message_carries);
    RUN(repeated_cid_prints_the_same_id_marked_duplicate);
    RUN(trimmed_history_prints_a_gap_before_the_messages);
    RUN(auto_falls_back_to_sse_when_the_ws_port_is_unreachable);
    RUN(chat_publishes_typed_lines_and_prints_them_as_they_come_back);
    RUN(refused_connection_fails_after_max_fails_with_a_clear_error);
    RUN(refused_connection_is_retried_and_each_retry_reported);
    RUN(short_poll_listen_survives_cuts_from_the_first_request);
    RUN(long_poll_listen_survives_cuts_from_the_first_request);
    RUN(sse_listen_survives_cuts_from_the_first_request);
    RUN(ws_listen_survives_cuts_from_the_first_request);
    RUN(not_found_stops_short_poll_listen);
    RUN(not_found_stops_long_poll_listen);
    RUN(not_found_stops_sse_listen);
    RUN(not_found_stops_ws_listen);
    RUN(url_without_a_host_is_refused_at_once);
    RUN(bad_url_is_a_usage_error);
    RUN(server_refusal_prints_its_status_and_code);
    pl_test_server_stop(&srv, SIGTERM);
    return CHECK_DONE();
}
