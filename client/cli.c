/* pushlab-client: the command line over the client library. `listen`
 * prints a room's messages, `send` publishes (HTTP or WebSocket), `chat`
 * does both. Messages go to stdout; states and errors to stderr. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "client.h"
#include "validate.h"

/* Everything one run needs; one instance lives in main(). */
typedef struct cli {
    pl_loop *loop;
    pl_sub *sub;
    pl_timer *grace; /* chat: time for echoes after the input ended */
    const char *cmd, *url, *ws_url, *room, *user, *cid;
    pl_tls_opts tls;
    pl_transport transport;
    bool transport_set, json, quiet, ever_open;
    int64_t since;
    long count, received, interval_ms, heartbeat_s, max_fails;
    int exit_code;
    /* send: the messages to publish, one in flight at a time */
    char **texts;
    size_t n_texts, next_text, cap_texts;
    int attempts;
    bool reading_stdin, sending;
    char cid_base[40];
    char pub_url[512]; /* where send and chat publish over HTTP: the first --url */
    char linebuf[PL_TEXT_MAX + 2];
    size_t line_len;
} cli;

static void usage(FILE *f)
{
    fputs("usage: pushlab-client [options] listen|send|chat [text...]\n"
          "  listen   print each message of the room as `[id] user: text`\n"
          "  send     publish the text arguments, or one message per stdin line\n"
          "  chat     print incoming messages and publish typed lines\n"
          "options:\n"
          "  --url URL          HTTP base URL (default http://127.0.0.1:8080); URL,URL,...:\n"
          "                     servers of the same rooms, the next after each failure\n"
          "                     (listen and chat; send publishes to the first)\n"
          "  --ws-url URL       WebSocket base (default: from GET /api/config)\n"
          "  --room NAME        room (default lobby)\n"
          "  --transport T      short-poll|long-poll|sse|ws|auto (listen/chat default auto;\n"
          "                     send: HTTP unless ws)\n"
          "  --since ID         deliver messages after ID (default: new ones only)\n"
          "  --count N          listen: exit after N messages\n"
          "  --json             listen: one JSON object per line (NDJSON)\n"
          "  --interval MS      short polling period (default 1000)\n"
          "  --heartbeat S      server heartbeat, asked of it; 2x silence = dead (default 15)\n"
          "  --max-fails N      listen/chat: give up after N attempts in a row that could not\n"
          "                     connect or got an error status (default 0: retry forever;\n"
          "                     a connection that is cut is always retried)\n"
          "  --user NAME        send/chat: author (default $USER or anon)\n"
          "  --cid ID           send: client id for safe retries (default: generated)\n"
          "  --cacert FILE      https/wss: trust the CAs in this PEM file\n"
          "  --insecure         https/wss: accept any certificate (like curl -k)\n"
          "  --quiet            on stderr only retries, fallbacks, restarts and failures\n"
          "  --help             this text\n",
          f);
}

static void die_err(cli *c, const char *what, const pl_client_err *err)
{
    if (err && err->status)
        fprintf(stderr, "pushlab-client: %s: server error %d %s: %s\n", what, err->status,
                err->code, err->message);
    else
        fprintf(stderr, "pushlab-client: %s: %s\n", what, err ? err->message : "failed");
    c->exit_code = 1;
    pl_loop_stop(c->loop);
}

/* ------------------------------------------------------------- listen */

static void print_msg(cli *c, const pl_client_msg *m)
{
    if (!c->json) {
        printf("[%llu] %s: %s\n", (unsigned long long)m->id, m->user, m->text);
        return;
    }
    json_t *o =
        json_pack("{s:I, s:s, s:s%, s:s%, s:I}", "id", (json_int_t)m->id, "room", m->room, "user",
                  m->user, m->user_len, "text", m->text, m->text_len, "ts", (json_int_t)m->ts);
    if (o && m->cid)
        json_object_set_new(o, "cid", json_string(m->cid));
    if (o && m->meta)
        json_object_set(o, "meta", (json_t *)m->meta);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(o);
}

static void on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    cli *c = ud;
    (void)s;
    if (strcmp(c->cmd, "send") == 0)
        return; /* `send --transport ws` only subscribes to publish */
    print_msg(c, m);
    fflush(stdout);
    if (c->count && ++c->received >= c->count)
        pl_loop_stop(c->loop);
}

static void on_gap(pl_sub *s, uint64_t first, uint64_t last, void *ud)
{
    cli *c = ud;
    (void)s;
    if (c->json)
        printf("{\"gap\":{\"first\":%llu,\"last\":%llu}}\n", (unsigned long long)first,
               (unsigned long long)last);
    fflush(stdout);
    fprintf(stderr, "pushlab-client: gap: messages %llu..%llu were lost (trimmed history)\n",
            (unsigned long long)first, (unsigned long long)last);
}

static void send_next(cli *c);

static void on_state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *err,
                     void *ud)
{
    cli *c = ud;
    (void)s;
    /* Every retry gets its line, even with --quiet: silence would hide a
     * client that is not receiving anything. */
    if (st != PL_SUB_FAILED && (!c->quiet || (st != PL_SUB_CONNECTING && st != PL_SUB_OPEN)))
        fprintf(stderr, "pushlab-client: %s (%s)%s%s\n", pl_sub_state_name(st), detail,
                err ? ": " : "", err ? err->message : "");
    if (st == PL_SUB_OPEN) {
        bool first = !c->ever_open;
        c->ever_open = true;
        if (first && c->sending)
            send_next(c); /* lines typed before the subscription was ready */
        return;
    }
    /* Like a browser's EventSource, keep retrying (the library backs
     * off); only a final answer (4xx but 429), a bad URL or --max-fails
     * ends in FAILED, which gets its one line here. */
    if (st == PL_SUB_FAILED)
        die_err(c, "subscription", err);
}

static int open_sub(cli *c, pl_transport t, int64_t since)
{
    pl_sub_opts o = {
        .transport = t,
        .url = c->url,
        .ws_url = c->ws_url,
        .room = c->room,
        .since = since,
        .interval_ms = (int)c->interval_ms,
        .heartbeat_s = (int)c->heartbeat_s,
        .max_fails = (int)c->max_fails,
        .cb = {.on_message = on_message, .on_gap = on_gap, .on_state = on_state},
        .ud = c,
    };
    int rc = pl_sub_open(c->loop, &o, &c->sub);
    if (rc)
        fprintf(stderr, "pushlab-client: bad subscription (url '%s', room '%s'): %s\n", c->url,
                c->room, strerror(-rc));
    return rc;
}

/* --------------------------------------------------------------- send */

static void published(void *ud, uint64_t id, bool dup, const pl_client_err *err);

static void publish_current(cli *c)
{
    char cid[80];
    snprintf(cid, sizeof cid, "%s%s%zu", c->cid_base, c->n_texts > 1 ? "-" : "",
             c->n_texts > 1 ? c->next_text : 0);
    if (c->n_texts == 1)
        snprintf(cid, sizeof cid, "%s", c->cid_base);
    pl_pub_msg m = {.user = c->user, .text = c->texts[c->next_text], .cid = cid};
    int rc = c->transport == PL_TRANSPORT_WS && c->sub
                 ? pl_sub_publish(c->sub, &m, published, c)
                 : pl_publish_http(c->loop, c->pub_url, c->room, &m, NULL, published, c);
    if (rc) {
        pl_client_err err = {.rc = rc};
        snprintf(err.message, sizeof err.message, "%s", strerror(-rc));
        die_err(c, "publish", &err);
    }
}

static void grace_over(pl_timer *t, void *ud)
{
    (void)t;
    pl_loop_stop(((cli *)ud)->loop);
}

/* Publishes the next queued text; once input ended and all are out,
 * `send` exits and `chat` waits a moment for the echoes of its lines. */
static void send_next(cli *c)
{
    if (c->next_text < c->n_texts) {
        c->attempts = 0;
        publish_current(c);
    } else if (!c->reading_stdin && strcmp(c->cmd, "send") == 0) {
        pl_loop_stop(c->loop);
    } else if (!c->reading_stdin && c->grace) {
        pl_timer_start(c->grace, 500000);
    }
}

static void published(void *ud, uint64_t id, bool dup, const pl_client_err *err)
{
    cli *c = ud;
    if (err->rc) {
        /* Transport trouble is retried with the same cid, which makes the
         * retry safe; a server refusal is final. */
        if (!err->status && ++c->attempts < 4 && c->transport != PL_TRANSPORT_WS) {
            publish_current(c);
            return;
        }
        die_err(c, "publish", err);
        return;
    }
    if (strcmp(c->cmd, "send") == 0)
        printf("%llu%s\n", (unsigned long long)id, dup ? " (duplicate cid)" : "");
    fflush(stdout);
    free(c->texts[c->next_text]);
    c->texts[c->next_text++] = NULL;
    send_next(c);
}

static int add_text(cli *c, const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > PL_TEXT_MAX)
        return -EINVAL;
    if (c->n_texts == c->cap_texts) {
        size_t cap = c->cap_texts ? c->cap_texts * 2 : 16;
        char **p = realloc(c->texts, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        c->texts = p;
        c->cap_texts = cap;
    }
    if (!(c->texts[c->n_texts] = strdup(t)))
        return -ENOMEM;
    c->n_texts++;
    return 0;
}

/* `chat` and WebSocket `send` publish once their subscription is open:
 * chat's own lines then come back to it, since it starts at "now". */
static bool can_publish(const cli *c) { return !c->sub || c->ever_open; }

/* stdin lines become messages; publishing starts at once unless one is
 * already in flight (published() then picks the next up). */
static void on_stdin(pl_loop *l, int fd, int events, void *ud)
{
    cli *c = ud;
    char buf[4096];
    (void)events;
    ssize_t n = read(fd, buf, sizeof buf);
    bool idle = c->next_text == c->n_texts;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n' && c->line_len < sizeof c->linebuf - 1) {
            c->linebuf[c->line_len++] = buf[i];
            continue;
        }
        if (buf[i] != '\n')
            continue; /* over-long line: the tail is dropped */
        c->linebuf[c->line_len] = '\0';
        if (c->line_len && c->linebuf[c->line_len - 1] == '\r')
            c->linebuf[--c->line_len] = '\0';
        if (c->line_len && add_text(c, c->linebuf) != 0)
            fprintf(stderr, "pushlab-client: skipped a line (empty or over %d bytes)\n",
                    PL_TEXT_MAX);
        c->line_len = 0;
    }
    if (n <= 0) {
        c->reading_stdin = false;
        pl_loop_unwatch_fd(l, fd);
    }
    if (idle && can_publish(c))
        send_next(c);
}

/* ---------------------------------------------------------------- main */

static void on_signal(pl_loop *l, int fd, int events, void *ud)
{
    struct signalfd_siginfo si;
    (void)events;
    (void)ud;
    if (read(fd, &si, sizeof si) > 0)
        pl_loop_stop(l);
}

static int parse_args(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"url", required_argument, 0, 'u'},
                                         {"ws-url", required_argument, 0, 'w'},
                                         {"room", required_argument, 0, 'r'},
                                         {"transport", required_argument, 0, 't'},
                                         {"since", required_argument, 0, 's'},
                                         {"count", required_argument, 0, 'n'},
                                         {"json", no_argument, 0, 'j'},
                                         {"interval", required_argument, 0, 'i'},
                                         {"heartbeat", required_argument, 0, 'H'},
                                         {"max-fails", required_argument, 0, 'F'},
                                         {"user", required_argument, 0, 'U'},
                                         {"cid", required_argument, 0, 'c'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"cacert", required_argument, 0, 'C'},
                                         {"insecure", no_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int ch;
    uint64_t v;
    while ((ch = getopt_long(argc, argv, "u:r:t:s:n:ji:U:c:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'u': c->url = optarg; break;
        case 'w': c->ws_url = optarg; break;
        case 'r': c->room = optarg; break;
        case 't':
            if (pl_transport_parse(optarg, &c->transport) != 0) {
                fprintf(stderr, "pushlab-client: unknown transport '%s'\n", optarg);
                return -1;
            }
            c->transport_set = true;
            break;
        case 's':
        case 'n':
        case 'i':
        case 'H':
        case 'F':
            if (pl_parse_uint(optarg, &v) != 0 || (ch == 'F' && v > 1000000)) {
                fprintf(stderr, "pushlab-client: not a number: '%s'\n", optarg);
                return -1;
            }
            if (ch == 's')
                c->since = (int64_t)v;
            else if (ch == 'n')
                c->count = (long)v;
            else if (ch == 'i')
                c->interval_ms = (long)v;
            else if (ch == 'F')
                c->max_fails = (long)v;
            else
                c->heartbeat_s = (long)v;
            break;
        case 'j': c->json = true; break;
        case 'U': c->user = optarg; break;
        case 'c': c->cid = optarg; break;
        case 'q': c->quiet = true; break;
        case 'C':
            if (access(optarg, R_OK) != 0) {
                fprintf(stderr, "pushlab-client: cannot read --cacert '%s': %s\n", optarg,
                        strerror(errno));
                return -1;
            }
            c->tls.cacert = optarg;
            break;
        case 'k': c->tls.insecure = true; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "pushlab-client: missing command (listen, send or chat)\n");
        return -1;
    }
    c->cmd = argv[optind++];
    if (strcmp(c->cmd, "listen") && strcmp(c->cmd, "send") && strcmp(c->cmd, "chat")) {
        fprintf(stderr, "pushlab-client: unknown command '%s'\n", c->cmd);
        return -1;
    }
    snprintf(c->pub_url, sizeof c->pub_url, "%.*s", (int)strcspn(c->url, ","), c->url);
    if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
        fprintf(stderr, "pushlab-client: bad URL '%s' (expected http://HOST[:PORT])\n", c->url);
        return -1;
    }
    if (!pl_valid_room(c->room, strlen(c->room))) {
        fprintf(stderr, "pushlab-client: bad room '%s' ([A-Za-z0-9_-]{1,64})\n", c->room);
        return -1;
    }
    for (; optind < argc; optind++)
        if (strcmp(c->cmd, "send") != 0 || add_text(c, argv[optind]) != 0) {
            fprintf(stderr, "pushlab-client: bad argument '%s' (%s)\n", argv[optind],
                    strcmp(c->cmd, "send") ? "only send takes text" : "a text is 1..4096 bytes");
            return -1;
        }
    return 0;
}

static int setup(cli *c, int sfd)
{
    bool sending = strcmp(c->cmd, "listen") != 0;
    c->sending = sending;
    if (!c->transport_set)
        c->transport = strcmp(c->cmd, "send") == 0 ? PL_TRANSPORT_SHORT_POLL : PL_TRANSPORT_AUTO;
    if (c->cid)
        snprintf(c->cid_base, sizeof c->cid_base, "%.36s", c->cid);
    else
        snprintf(c->cid_base, sizeof c->cid_base, "cli-%ld-%d", (long)time(NULL), (int)getpid());
    pl_loop_watch_fd(c->loop, sfd, PL_FD_READ, on_signal, c);
    if (strcmp(c->cmd, "chat") == 0 && !(c->grace = pl_timer_new(c->loop, grace_over, c)))
        return -1;
    if (strcmp(c->cmd, "listen") == 0 || strcmp(c->cmd, "chat") == 0 ||
        c->transport == PL_TRANSPORT_WS)
        if (open_sub(c, c->transport, strcmp(c->cmd, "send") == 0 ? PL_SINCE_NEW : c->since))
            return -1;
    if (strcmp(c->cmd, "send") == 0 && c->transport != PL_TRANSPORT_WS)
        c->transport = PL_TRANSPORT_SHORT_POLL; /* i.e. publish over HTTP */
    if (sending && (c->n_texts == 0 || strcmp(c->cmd, "chat") == 0)) {
        c->reading_stdin = true;
        pl_loop_watch_fd(c->loop, 0, PL_FD_READ, on_stdin, c);
    } else if (sending && can_publish(c)) {
        send_next(c);
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli c = {.url = "http://127.0.0.1:8080", .room = "lobby", .since = PL_SINCE_NEW};
    const char *u = getenv("USER");
    c.user = u && *u ? u : "anon";
    if (parse_args(&c, argc, argv) != 0) {
        fprintf(stderr, "Try 'pushlab-client --help'.\n");
        return 2;
    }
    if (pl_client_global_init() != 0 || pl_loop_new(&c.loop) != 0 ||
        pl_loop_set_tls(c.loop, &c.tls) != 0) {
        fprintf(stderr, "pushlab-client: cannot set up the event loop\n");
        return 1;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (setup(&c, sfd) == 0)
        pl_loop_run(c.loop, -1);
    else
        c.exit_code = 2;
    pl_loop_unwatch_fd(c.loop, sfd);
    pl_loop_unwatch_fd(c.loop, 0);
    pl_timer_free(c.grace);
    pl_loop_free(c.loop);
    close(sfd);
    for (size_t i = 0; i < c.n_texts; i++)
        free(c.texts[i]);
    free(c.texts);
    pl_client_global_cleanup();
    if (c.count && c.received < c.count && c.exit_code == 0)
        c.exit_code = 1;
    return c.exit_code;
}
