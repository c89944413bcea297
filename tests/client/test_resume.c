/* The client library across broken connections, per transport: a small
 * TCP proxy in this process drops every connection again and again while
 * messages are published; each must arrive exactly once, in order. Also a
 * server restart (its ids start over) and a trimmed history (a gap). */
#include <jansson.h>
#include "check.h"
#include "client.h"
#include "proxy.h"
#include "spawn.h"

static const char *server_path;

/* ---------------------------------------------- a subscription recorder */

#define MAX_IDS 512

/* What one subscription delivered, and the publisher driving the test. */
typedef struct run {
    pl_loop *loop;
    pl_sub *sub;
    uint64_t ids[MAX_IDS];
    int n, want, dups, out_of_order;
    uint64_t gap_first, gap_last;
    int restarts, published, to_publish;
    const char *server_url, *room;
    proxy *px;
    int drop_every; /* published messages between two proxy drops */
    bool freeze;    /* freeze connections instead of closing them */
    int heartbeat_s;
    pl_timer *pub_timer;
    bool lean;      /* a lean subscription (opts.lean) */
    int meta_wrong; /* deliveries whose meta is not {"n": id} */
} run;

/* Every message carries meta {"n": its id}; a lean subscription gets it
 * as text, and no text or user. */
static bool meta_is_right(const run *r, const pl_client_msg *m)
{
    json_t *own = NULL;
    const json_t *meta = m->meta;
    if (r->lean) {
        if (m->meta || m->text_len || m->user_len || !m->meta_raw)
            return false;
        meta = own = json_loadb(m->meta_raw, m->meta_raw_len, 0, NULL);
    } else if (m->meta_raw) {
        return false;
    }
    bool ok = json_integer_value(json_object_get(meta, "n")) == (json_int_t)m->id;
    json_decref(own);
    return ok;
}

static void on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    run *r = ud;
    (void)s;
    for (int i = 0; i < r->n; i++)
        if (r->ids[i] == m->id)
            r->dups++;
    if (r->n && m->id <= r->ids[r->n - 1])
        r->out_of_order++;
    if (!meta_is_right(r, m))
        r->meta_wrong++;
    if (r->n < MAX_IDS)
        r->ids[r->n++] = m->id;
    if (r->n >= r->want)
        pl_loop_stop(r->loop);
}

static void on_gap(pl_sub *s, uint64_t first, uint64_t last, void *ud)
{
    run *r = ud;
    (void)s;
    r->gap_first = first;
    r->gap_last = last;
}

static void on_state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *e,
                     void *ud)
{
    run *r = ud;
    (void)s;
    if (getenv("PL_TEST_VERBOSE"))
        printf("# state %s (%s) %s\n", pl_sub_state_name(st), detail, e ? e->message : "");
    if (st == PL_SUB_RESTARTED)
        r->restarts++;
}

static void published(void *ud, uint64_t id, bool dup, const pl_client_err *err)
{
    (void)ud;
    (void)id;
    (void)dup;
    if (err->rc)
        printf("# publish failed: %s\n", err->message);
}

/* Publishes one message per tick straight to the server, and has the
 * proxy drop every connection every `drop_every` messages. */
static void pub_tick(pl_timer *t, void *ud)
{
    run *r = ud;
    char text[32], meta[32];
    snprintf(text, sizeof text, "m%d", r->published + 1);
    snprintf(meta, sizeof meta, "{\"n\":%d}", r->published + 1);
    pl_pub_msg m = {.user = "test", .text = text, .meta_json = meta};
    pl_publish_http(r->loop, r->server_url, r->room, &m, NULL, published, r);
    r->published++;
    if (r->px && r->drop_every && r->published % r->drop_every == 0)
        atomic_store(r->freeze ? &r->px->freeze : &r->px->drop, true);
    if (r->published < r->to_publish)
        pl_timer_start(t, 15000);
}

static int open_sub(run *r, pl_transport t, const char *url, const char *ws_url, int64_t since)
{
    pl_sub_opts o = {
        .transport = t,
        .url = url,
        .ws_url = ws_url,
        .room = r->room,
        .since = since,
        .interval_ms = 20,
        .poll_timeout_s = 2,
        .heartbeat_s = r->heartbeat_s ? r->heartbeat_s : 2,
        .backoff_min_ms = 20,
        .backoff_max_ms = 200,
        .lean = r->lean,
        .cb = {.on_message = on_message, .on_gap = on_gap, .on_state = on_state},
        .ud = r,
    };
    return pl_sub_open(r->loop, &o, &r->sub);
}

static bool ids_are_one_to(const run *r, int n)
{
    if (r->n != n)
        return false;
    for (int i = 0; i < n; i++)
        if (r->ids[i] != (uint64_t)i + 1)
            return false;
    return true;
}

/* ------------------------------------------------------------------ tests */

static pl_test_server srv;

/* A proxy that goes silent without closing anything: only the silence
 * watchdog (2 x heartbeat) can notice. One freeze, after 10 of 20. */
static void survives_a_silent_peer(pl_transport t, const char *room)
{
    pl_test_server hb;
    proxy px;
    const char *extra[] = {"--heartbeat", "1", NULL};
    run r = {.want = 20,
             .to_publish = 20,
             .room = room,
             .px = &px,
             .drop_every = 10,
             .freeze = true,
             .heartbeat_s = 1};
    char purl[64], pws[64];
    CHECK(pl_test_server_start(&hb, server_path, extra) == 0);
    r.server_url = hb.http;
    CHECK(proxy_start(&px, hb.http_port, hb.ws_port, 0, 0) == 0);
    snprintf(purl, sizeof purl, "http://127.0.0.1:%d", px.port[0]);
    snprintf(pws, sizeof pws, "ws://127.0.0.1:%d", px.port[1]);
    pl_loop_new(&r.loop);
    int rc = open_sub(&r, t, purl, pws, 0);
    r.pub_timer = pl_timer_new(r.loop, pub_tick, &r);
    pl_timer_start(r.pub_timer, 200000);
    if (rc == 0)
        pl_loop_run(r.loop, 15000);
    pl_timer_free(r.pub_timer);
    pl_loop_free(r.loop);
    proxy_stop(&px);
    pl_test_server_stop(&hb, SIGTERM);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(r.dups, 0);
    CHECK(ids_are_one_to(&r, 20));
}

TEST(long_poll_reopens_a_silent_request)
{
    survives_a_silent_peer(PL_TRANSPORT_LONG_POLL, "silent-lp");
}

TEST(sse_reopens_a_stream_silent_past_twice_the_heartbeat)
{
    survives_a_silent_peer(PL_TRANSPORT_SSE, "silent-sse");
}

TEST(ws_reopens_a_socket_silent_past_twice_the_heartbeat)
{
    survives_a_silent_peer(PL_TRANSPORT_WS, "silent-ws");
}

static void survives_dropped_connections(pl_transport t, const char *room, bool lean)
{
    proxy px;
    run r = {.want = 60,
             .to_publish = 60,
             .server_url = srv.http,
             .room = room,
             .px = &px,
             .drop_every = 12,
             .lean = lean};
    char purl[64], pws[64];
    int64_t started = 0;
    (void)started;
    if (proxy_start(&px, srv.http_port, srv.ws_port, 0, 0) != 0) {
        printf("# proxy did not start\n");
        check_failed_now = 1;
        return;
    }
    snprintf(purl, sizeof purl, "http://127.0.0.1:%d", px.port[0]);
    snprintf(pws, sizeof pws, "ws://127.0.0.1:%d", px.port[1]);
    pl_loop_new(&r.loop);
    int rc = open_sub(&r, t, purl, pws, 0);
    r.pub_timer = pl_timer_new(r.loop, pub_tick, &r);
    pl_timer_start(r.pub_timer, 200000);
    if (rc == 0)
        pl_loop_run(r.loop, 20000);
    pl_sub_counters c = {0};
    if (rc == 0)
        pl_sub_counters_get(r.sub, &c);
    pl_timer_free(r.pub_timer);
    pl_loop_free(r.loop);
    int drops = atomic_load(&px.drops);
    proxy_stop(&px);
    printf("# %s: %d delivered, %d drops, %llu reconnects, %llu tcp connects\n",
           pl_transport_name(t), r.n, drops, (unsigned long long)c.reconnects,
           (unsigned long long)c.tcp_connects);
    CHECK_EQ_INT(rc, 0);
    CHECK(drops >= 3);
    CHECK_EQ_INT(r.dups, 0);
    CHECK_EQ_INT(r.out_of_order, 0);
    CHECK(ids_are_one_to(&r, 60));
    CHECK_EQ_INT(r.meta_wrong, 0);
    CHECK(c.tcp_connects >= 2); /* it really had to reconnect */
}

TEST(short_poll_loses_and_repeats_nothing_across_drops)
{
    survives_dropped_connections(PL_TRANSPORT_SHORT_POLL, "drop-sp", false);
}

TEST(long_poll_loses_and_repeats_nothing_across_drops)
{
    survives_dropped_connections(PL_TRANSPORT_LONG_POLL, "drop-lp", false);
}

TEST(sse_loses_and_repeats_nothing_across_drops)
{
    survives_dropped_connections(PL_TRANSPORT_SSE, "drop-sse", false);
}

TEST(ws_loses_and_repeats_nothing_across_drops)
{
    survives_dropped_connections(PL_TRANSPORT_WS, "drop-ws", false);
}

/* The bench's subscriptions: the scan instead of the parse keeps the
 * cursor rule and reads the meta the full parse would. */
TEST(lean_sse_loses_and_repeats_nothing_across_drops)
{
    survives_dropped_connections(PL_TRANSPORT_SSE, "drop-lean-sse", true);
}

TEST(lean_ws_loses_and_repeats_nothing_across_drops)
{
    survives_dropped_connections(PL_TRANSPORT_WS, "drop-lean-ws", true);
}

TEST(lean_short_poll_loses_and_repeats_nothing_across_drops)
{
    survives_dropped_connections(PL_TRANSPORT_SHORT_POLL, "drop-lean-sp", true);
}

TEST(lean_long_poll_loses_and_repeats_nothing_across_drops)
{
    survives_dropped_connections(PL_TRANSPORT_LONG_POLL, "drop-lean-lp", true);
}

/* Publishes `n` messages to `url`/`room` and waits for every answer. */
typedef struct sync_pub {
    pl_loop *loop;
    int left, failed;
    uint64_t last_id;
    bool last_dup;
} sync_pub;

static void sync_done(void *ud, uint64_t id, bool dup, const pl_client_err *err)
{
    sync_pub *p = ud;
    if (err->rc)
        p->failed++;
    p->last_id = id;
    p->last_dup = dup;
    if (--p->left == 0)
        pl_loop_stop(p->loop);
}

static int publish_n(const char *url, const char *room, int n, const char *cid, sync_pub *out)
{
    sync_pub p = {0};
    pl_loop_new(&p.loop);
    for (int i = 0; i < n; i++) { /* one at a time keeps ids in order */
        char text[32];
        snprintf(text, sizeof text, "p%d", i + 1);
        pl_pub_msg m = {.user = "test", .text = text, .cid = cid};
        p.left = 1;
        if (pl_publish_http(p.loop, url, room, &m, NULL, sync_done, &p) != 0)
            p.failed++;
        else
            pl_loop_run(p.loop, 5000);
    }
    pl_loop_free(p.loop);
    if (out)
        *out = p;
    return p.failed ? -1 : 0;
}

static const pl_transport all[] = {PL_TRANSPORT_SHORT_POLL, PL_TRANSPORT_LONG_POLL,
                                   PL_TRANSPORT_SSE, PL_TRANSPORT_WS};

TEST(trimmed_history_is_reported_as_a_gap_on_every_transport)
{
    pl_test_server small;
    const char *extra[] = {"--history", "5", NULL};
    CHECK(pl_test_server_start(&small, server_path, extra) == 0);
    int rc = publish_n(small.http, "trim", 10, NULL, NULL);
    for (size_t i = 0; rc == 0 && i < 4; i++) {
        run r = {.want = 5, .room = "trim"};
        pl_loop_new(&r.loop);
        rc = open_sub(&r, all[i], small.http, small.ws, 0);
        pl_loop_run(r.loop, 5000);
        pl_loop_free(r.loop);
        if (r.gap_first != 1 || r.gap_last != 5 || r.n != 5 || r.ids[0] != 6 || r.ids[4] != 10) {
            printf("# %s: gap %llu..%llu, %d messages from %llu\n", pl_transport_name(all[i]),
                   (unsigned long long)r.gap_first, (unsigned long long)r.gap_last, r.n,
                   (unsigned long long)(r.n ? r.ids[0] : 0));
            rc = -1;
        }
    }
    pl_test_server_stop(&small, SIGTERM);
    CHECK_EQ_INT(rc, 0);
}

TEST(since_new_skips_history_on_every_transport)
{
    for (size_t i = 0; i < 4; i++) {
        char room[32];
        snprintf(room, sizeof room, "new-%zu", i);
        CHECK(publish_n(srv.http, room, 3, NULL, NULL) == 0);
        run r = {.want = 1, .room = room, .server_url = srv.http, .to_publish = 1};
        pl_loop_new(&r.loop);
        CHECK(open_sub(&r, all[i], srv.http, srv.ws, PL_SINCE_NEW) == 0);
        r.pub_timer = pl_timer_new(r.loop, pub_tick, &r);
        pl_timer_start(r.pub_timer, 300000); /* after the sub learnt "now" */
        pl_loop_run(r.loop, 5000);
        pl_timer_free(r.pub_timer);
        pl_loop_free(r.loop);
        if (r.n != 1 || r.ids[0] != 4)
            printf("# %s: %d messages, first %llu\n", pl_transport_name(all[i]), r.n,
                   (unsigned long long)(r.n ? r.ids[0] : 0));
        CHECK_EQ_INT(r.n, 1);
        CHECK_EQ_INT(r.ids[0], 4);
    }
}

/* The server restarts with an empty store: its ids start over at 1. The
 * client says so (RESTARTED) and resumes from 0 instead of waiting for
 * ids past its old cursor. (This loop is idle while the server restarts,
 * so a long poll sent afterwards reaches the new server: it notices when
 * that poll times out, hence the 2 s poll timeout in open_sub.) */
static void resumes_from_zero_after_restart(pl_transport t)
{
    pl_test_server a, b;
    char hp[16], wp[16];
    CHECK(pl_test_server_start(&a, server_path, NULL) == 0);
    snprintf(hp, sizeof hp, "%d", a.http_port);
    snprintf(wp, sizeof wp, "%d", a.ws_port);
    const char *same_ports[] = {"--http-port", hp, "--ws-port", wp, NULL};
    run r = {.want = 5, .room = "restart"};
    pl_loop_new(&r.loop);
    CHECK(publish_n(a.http, "restart", 5, NULL, NULL) == 0);
    CHECK(open_sub(&r, t, a.http, a.ws, 0) == 0);
    pl_loop_run(r.loop, 5000);
    pl_test_server_stop(&a, SIGTERM);
    int up = pl_test_server_start(&b, server_path, same_ports);
    if (up == 0 && publish_n(b.http, "restart", 3, NULL, NULL) == 0) {
        r.want = 8;
        pl_loop_run(r.loop, 8000);
    }
    pl_loop_free(r.loop);
    if (up == 0)
        pl_test_server_stop(&b, SIGTERM);
    static const uint64_t want[] = {1, 2, 3, 4, 5, 1, 2, 3};
    CHECK_EQ_INT(up, 0);
    CHECK_EQ_INT(r.restarts, 1);
    CHECK_EQ_INT(r.n, 8);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(r.ids[i], want[i]);
}

TEST(short_poll_resumes_from_zero_after_server_restart)
{
    resumes_from_zero_after_restart(PL_TRANSPORT_SHORT_POLL);
}

TEST(long_poll_resumes_from_zero_after_server_restart)
{
    resumes_from_zero_after_restart(PL_TRANSPORT_LONG_POLL);
}

TEST(sse_resumes_from_zero_after_server_restart)
{
    resumes_from_zero_after_restart(PL_TRANSPORT_SSE);
}

TEST(ws_resumes_from_zero_after_server_restart)
{
    resumes_from_zero_after_restart(PL_TRANSPORT_WS);
}

TEST(repeated_cid_returns_the_stored_message)
{
    sync_pub first, again;
    CHECK(publish_n(srv.http, "cid", 1, "same-cid", &first) == 0);
    CHECK(publish_n(srv.http, "cid", 1, "same-cid", &again) == 0);
    CHECK(first.last_id > 0);
    CHECK_EQ_INT(again.last_id, first.last_id);
    CHECK(!first.last_dup);
    CHECK(again.last_dup);
}

/* Publishing through the subscription's WebSocket completes with the id
 * the server acked, and the message then arrives on that subscription. */
static void ws_open_then_publish(pl_sub *s, pl_sub_state st, const char *d, const pl_client_err *e,
                                 void *ud)
{
    run *r = ud;
    (void)d;
    (void)e;
    pl_pub_msg m = {.user = "ws", .text = "over the socket", .cid = "ws-1"};
    if (st == PL_SUB_OPEN && pl_sub_publish(s, &m, sync_done, r->px) != 0)
        pl_loop_stop(r->loop);
}

TEST(ws_publish_completes_with_the_acked_id)
{
    run r = {.want = 1, .room = "wspub"};
    sync_pub ack = {.left = 2}; /* stops the loop only via on_message */
    pl_loop_new(&r.loop);
    ack.loop = r.loop;
    r.px = (proxy *)&ack; /* the state callback's publish context */
    pl_sub_opts o = {.transport = PL_TRANSPORT_WS,
                     .url = srv.http,
                     .room = r.room,
                     .since = PL_SINCE_NEW,
                     .cb = {.on_message = on_message, .on_state = ws_open_then_publish},
                     .ud = &r};
    CHECK(pl_sub_open(r.loop, &o, &r.sub) == 0);
    pl_loop_run(r.loop, 5000);
    pl_loop_free(r.loop);
    CHECK_EQ_INT(ack.failed, 0);
    CHECK_EQ_INT(ack.left, 1);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(ack.last_id, r.ids[0]);
}

/* A fake WebSocket server in the loop: keeps the first request head. */
typedef struct head_catch {
    int lfd, cfd;
    char buf[2048];
    size_t len;
} head_catch;

static void head_read(pl_loop *l, int fd, int events, void *ud)
{
    head_catch *h = ud;
    (void)events;
    ssize_t n = read(fd, h->buf + h->len, sizeof h->buf - 1 - h->len);
    if (n > 0)
        h->buf[h->len += (size_t)n] = '\0';
    if (n <= 0 || strstr(h->buf, "\r\n\r\n"))
        pl_loop_stop(l);
}

static void head_accept(pl_loop *l, int fd, int events, void *ud)
{
    head_catch *h = ud;
    (void)events;
    if (h->cfd < 0 && (h->cfd = accept(fd, NULL, NULL)) >= 0)
        pl_loop_watch_fd(l, h->cfd, PL_FD_READ, head_read, h);
}

TEST(ws_handshake_has_no_origin_and_a_host_with_port)
{
    head_catch h = {.cfd = -1};
    int port;
    char ws[64], host[64];
    run r = {.room = "origin"};
    CHECK((h.lfd = listen_any(&port)) >= 0);
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d", port);
    pl_loop_new(&r.loop);
    pl_loop_watch_fd(r.loop, h.lfd, PL_FD_READ, head_accept, &h);
    CHECK(open_sub(&r, PL_TRANSPORT_WS, srv.http, ws, 0) == 0);
    pl_loop_run(r.loop, 5000);
    pl_loop_unwatch_fd(r.loop, h.lfd);
    pl_loop_unwatch_fd(r.loop, h.cfd);
    pl_loop_free(r.loop);
    close(h.lfd);
    if (h.cfd >= 0)
        close(h.cfd);
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", port);
    static const char line1[] = "GET /ws/origin?since=0&heartbeat=2 HTTP/1.1\r\n";
    CHECK(strncmp(h.buf, line1, sizeof line1 - 1) == 0);
    CHECK(strstr(h.buf, host) != NULL);
    CHECK(strstr(h.buf, "Upgrade: websocket") != NULL);
    CHECK(strcasestr(h.buf, "\r\norigin:") == NULL);
}

/* The first request line a subscription sends to a listener of ours,
 * with heartbeat_s = `beat` (0: not set). */
static void first_line(pl_transport t, int beat, char *out, size_t cap)
{
    head_catch h = {.cfd = -1};
    int port;
    char url[64];
    pl_loop *l;
    pl_sub *sub;
    out[0] = '\0';
    if ((h.lfd = listen_any(&port)) < 0 || pl_loop_new(&l) != 0)
        return;
    snprintf(url, sizeof url, "%s://127.0.0.1:%d", t == PL_TRANSPORT_WS ? "ws" : "http", port);
    pl_sub_opts o = {.transport = t,
                     .url = t == PL_TRANSPORT_WS ? srv.http : url,
                     .ws_url = t == PL_TRANSPORT_WS ? url : NULL,
                     .room = "beat",
                     .since = 0,
                     .heartbeat_s = beat};
    pl_loop_watch_fd(l, h.lfd, PL_FD_READ, head_accept, &h);
    if (pl_sub_open(l, &o, &sub) == 0)
        pl_loop_run(l, 5000);
    pl_loop_unwatch_fd(l, h.lfd);
    pl_loop_unwatch_fd(l, h.cfd);
    pl_loop_free(l);
    close(h.lfd);
    if (h.cfd >= 0)
        close(h.cfd);
    const char *eol = strstr(h.buf, "\r\n");
    snprintf(out, cap, "%.*s", eol ? (int)(eol - h.buf) : 0, h.buf);
}

TEST(sse_and_ws_ask_the_server_for_the_heartbeat_they_were_given)
{
    char line[256];
    first_line(PL_TRANSPORT_SSE, 30, line, sizeof line);
    CHECK_EQ_STR(line, "GET /api/rooms/beat/events?since=0&heartbeat=30 HTTP/1.1");
    first_line(PL_TRANSPORT_WS, 30, line, sizeof line);
    CHECK_EQ_STR(line, "GET /ws/beat?since=0&heartbeat=30 HTTP/1.1");
}

TEST(without_a_heartbeat_option_none_is_asked_for)
{
    char line[256];
    first_line(PL_TRANSPORT_SSE, 0, line, sizeof line);
    CHECK_EQ_STR(line, "GET /api/rooms/beat/events?since=0 HTTP/1.1");
    first_line(PL_TRANSPORT_WS, 0, line, sizeof line);
    CHECK_EQ_STR(line, "GET /ws/beat?since=0 HTTP/1.1");
}

/* Bytes a WebSocket subscription with `ping_s` and a heartbeat of 1 s
 * (asked of the server) receives in 2.5 s once open: the server's 2-byte
 * pings when it is silent, else the 17-byte pongs to its own pings. */
static long long ws_rx_in_quiet(int ping_s)
{
    pl_loop *l;
    pl_sub *sub;
    pl_sub_counters a, b;
    if (pl_loop_new(&l) != 0)
        return -1;
    pl_sub_opts o = {.transport = PL_TRANSPORT_WS,
                     .url = srv.http,
                     .ws_url = srv.ws,
                     .room = "quiet",
                     .since = 0,
                     .heartbeat_s = 1,
                     .ping_s = ping_s};
    long long got = -1;
    if (pl_sub_open(l, &o, &sub) == 0) {
        pl_loop_run(l, 500);
        pl_sub_counters_get(sub, &a);
        pl_loop_run(l, 2500);
        pl_sub_counters_get(sub, &b);
        got = a.wire_rx ? (long long)(b.wire_rx - a.wire_rx) : -1;
    }
    pl_loop_free(l);
    return got;
}

TEST(ws_ping_s_sets_the_application_ping_and_negative_turns_it_off)
{
    long long quiet = ws_rx_in_quiet(-1);
    CHECK(quiet >= 0 && quiet < 17);    /* no pong: only the server's pings */
    CHECK(ws_rx_in_quiet(1) >= 2 * 17); /* {"type":"pong"} frames */
}

/* Short polls every 20 ms for 1.5 s: the subscription with its own
 * connections (room "own-a") and two sharing a multi handle (rooms whose
 * requests are 1 and 2 bytes longer). Returns the own one's counters, or
 * all zero when something failed. */
static pl_sub_counters own_poller(void)
{
    pl_loop *l;
    pl_sub *subs[3];
    pl_sub_counters c = {0};
    const char *rooms[] = {"own-a", "own-bb", "own-ccc"};
    if (pl_loop_new(&l) != 0)
        return c;
    int opened = 0;
    for (int i = 0; i < 3; i++) {
        pl_sub_opts o = {.transport = PL_TRANSPORT_SHORT_POLL,
                         .url = srv.http,
                         .room = rooms[i],
                         .since = 0,
                         .interval_ms = 20,
                         .own_connections = i == 0};
        opened += pl_sub_open(l, &o, &subs[i]) == 0;
    }
    if (opened == 3) {
        pl_loop_run(l, 1500);
        pl_sub_counters_get(subs[0], &c);
    }
    pl_loop_free(l);
    return c;
}

TEST(own_connections_keep_a_subscriptions_bytes_its_own)
{
    /* Every request of "own-a" is the same, so its bytes sent are a whole
     * number of them (its last request may be counted and not sent yet);
     * a request of the others charged to it would break that. */
    pl_sub_counters c = own_poller();
    CHECK(c.http_requests >= 10);
    CHECK_EQ_INT(c.tcp_connects, 1);
    uint64_t n = c.http_requests;
    if (c.wire_tx % n != 0 && c.wire_tx % (n - 1) != 0)
        printf("# %llu bytes sent in %llu requests\n", (unsigned long long)c.wire_tx,
               (unsigned long long)n);
    CHECK(c.wire_tx % n == 0 || c.wire_tx % (n - 1) == 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("1..0 # SKIP usage: test_resume SERVER\n");
        return 0;
    }
    server_path = argv[1];
    pl_client_global_init();
    if (pl_test_server_start(&srv, server_path, NULL) != 0) {
        printf("Bail out! server did not start\n");
        return 1;
    }
    RUN(short_poll_loses_and_repeats_nothing_across_drops);
    RUN(long_poll_loses_and_repeats_nothing_across_drops);
    RUN(sse_loses_and_repeats_nothing_across_drops);
    RUN(ws_loses_and_repeats_nothing_across_drops);
    RUN(lean_sse_loses_and_repeats_nothing_across_drops);
    RUN(lean_ws_loses_and_repeats_nothing_across_drops);
    RUN(lean_short_poll_loses_and_repeats_nothing_across_drops);
    RUN(lean_long_poll_loses_and_repeats_nothing_across_drops);
    RUN(long_poll_reopens_a_silent_request);
    RUN(sse_reopens_a_stream_silent_past_twice_the_heartbeat);
    RUN(ws_reopens_a_socket_silent_past_twice_the_heartbeat);
    RUN(trimmed_history_is_reported_as_a_gap_on_every_transport);
    RUN(since_new_skips_history_on_every_transport);
    RUN(short_poll_resumes_from_zero_after_server_restart);
    RUN(long_poll_resumes_from_zero_after_server_restart);
    RUN(sse_resumes_from_zero_after_server_restart);
    RUN(ws_resumes_from_zero_after_server_restart);
    RUN(repeated_cid_returns_the_stored_message);
    RUN(ws_publish_completes_with_the_acked_id);
    RUN(ws_handshake_has_no_origin_and_a_host_with_port);
    RUN(sse_and_ws_ask_the_server_for_the_heartbeat_they_were_given);
    RUN(without_a_heartbeat_option_none_is_asked_for);
    RUN(ws_ping_s_sets_the_application_ping_and_negative_turns_it_off);
    RUN(own_connections_keep_a_subscriptions_bytes_its_own);
    pl_test_server_stop(&srv, SIGTERM);
    return CHECK_DONE();
}
