/* The client library's nchan dialect against a real nginx with the nchan
 * module (started here on a free port with the bench's shipped server
 * block, bench/targets/nchan.conf): every transport delivers the bodies
 * verbatim, once, in order; interval and long polling and SSE resume as
 * nchan defines it across connections a proxy keeps dropping; and an
 * answer that is not nchan's stops a poller with a clear reason.
 * Usage: test_nchan <pushlab-server> */
#include "check.h"
#include "client.h"
#include "nchan_conf.h"
#include "nginx.h"
#include "proxy.h"
#include "spawn.h"
#include <curl/curl.h>

#define MSGS 40

static pl_bnginx ngx;
static int ngx_port;

typedef struct rec {
    pl_loop *loop;
    pl_sub *sub;
    int got[MSGS + 8], n, dups, bad, published;
    const char *room;
    proxy *px;
    pl_timer *pub;
    bool failed;
    char why[256];
} rec;

static void on_message(pl_sub *s, const pl_client_msg *m, void *ud)
{
    rec *r = ud;
    int k = 0;
    (void)s;
    if (sscanf(m->text, "m%d", &k) != 1 || strlen(m->text) != m->text_len || m->meta ||
        m->id != (uint64_t)r->n + 1)
        r->bad++;
    for (int i = 0; i < r->n; i++)
        r->dups += r->got[i] == k;
    if (r->n < MSGS + 8)
        r->got[r->n++] = k;
    if (r->n >= MSGS)
        pl_loop_stop(r->loop);
}

static void on_state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *e,
                     void *ud)
{
    rec *r = ud;
    (void)s, (void)detail;
    if (st == PL_SUB_FAILED) {
        r->failed = true;
        snprintf(r->why, sizeof r->why, "%s", e ? e->message : "");
        pl_loop_stop(r->loop);
    }
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p, (void)ud;
    return sz * n;
}

/* POST /pub?id=ROOM with body "mN", blocking: the test's own publisher. */
static bool publish(const char *room, int k)
{
    char url[128], body[16];
    long status = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/pub?id=%s", ngx_port, room);
    snprintf(body, sizeof body, "m%d", k);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    bool ok = curl_easy_perform(c) == CURLE_OK &&
              curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
              (status == 201 || status == 202);
    curl_easy_cleanup(c);
    return ok;
}

/* One message per tick; the proxy (if any) drops everything every 8. */
static void pub_tick(pl_timer *t, void *ud)
{
    rec *r = ud;
    if (!publish(r->room, ++r->published))
        printf("# publish %d failed\n", r->published);
    if (r->px && r->published % 8 == 0)
        atomic_store(&r->px->drop, true);
    if (r->published < MSGS)
        pl_timer_start(t, 20000);
}

static const char *path_of(pl_transport t)
{
    return t == PL_TRANSPORT_SHORT_POLL  ? "/sub/poll"
           : t == PL_TRANSPORT_LONG_POLL ? "/sub/lp"
           : t == PL_TRANSPORT_SSE       ? "/sub/sse"
                                         : "/sub/ws";
}

/* Subscribes over `t` (through a dropping proxy when `drops`), publishes
 * MSGS messages and checks each came once, in order. */
static void delivers_once_in_order(pl_transport t, const char *room, bool drops)
{
    proxy px;
    rec r = {.room = room, .px = drops ? &px : NULL};
    char ep[160];
    int port = ngx_port;
    if (drops) {
        CHECK(proxy_start(&px, ngx_port, ngx_port, 0, 0) == 0);
        port = px.port[0];
    }
    snprintf(ep, sizeof ep, "%s://127.0.0.1:%d%s?id=%s", t == PL_TRANSPORT_WS ? "ws" : "http", port,
             path_of(t), room);
    pl_loop_new(&r.loop);
    pl_sub_opts o = {.transport = t,
                     .dialect = PL_DIALECT_NCHAN,
                     .endpoint = ep,
                     .room = room,
                     .interval_ms = 20,
                     .backoff_min_ms = 20,
                     .backoff_max_ms = 100,
                     .cb = {.on_message = on_message, .on_state = on_state},
                     .ud = &r};
    int rc = pl_sub_open(r.loop, &o, &r.sub);
    r.pub = pl_timer_new(r.loop, pub_tick, &r);
    pl_timer_start(r.pub, 300000); /* the subscription is in place by then */
    if (rc == 0)
        pl_loop_run(r.loop, 20000);
    pl_sub_counters c = {0};
    if (rc == 0)
        pl_sub_counters_get(r.sub, &c);
    pl_timer_free(r.pub);
    pl_loop_free(r.loop);
    int dropped = drops ? atomic_load(&px.drops) : 0;
    if (drops)
        proxy_stop(&px);
    printf("# %s%s: %d delivered, %d drops, %llu reconnects, %llu requests\n", pl_transport_name(t),
           drops ? " with drops" : "", r.n, dropped, (unsigned long long)c.reconnects,
           (unsigned long long)c.http_requests);
    CHECK_EQ_INT(rc, 0);
    CHECK(!r.failed);
    CHECK_EQ_INT(r.bad, 0);
    CHECK_EQ_INT(r.dups, 0);
    CHECK_EQ_INT(r.n, MSGS);
    for (int i = 0; i < MSGS; i++)
        CHECK_EQ_INT(r.got[i], i + 1);
    if (drops) {
        CHECK(dropped >= 3);
        CHECK(c.tcp_connects >= 3); /* it really had to resume */
    }
}

TEST(interval_poll_delivers_each_body_once_in_order)
{
    delivers_once_in_order(PL_TRANSPORT_SHORT_POLL, "n-sp", false);
}
TEST(long_poll_delivers_each_body_once_in_order)
{
    delivers_once_in_order(PL_TRANSPORT_LONG_POLL, "n-lp", false);
}
TEST(sse_delivers_each_body_once_in_order)
{
    delivers_once_in_order(PL_TRANSPORT_SSE, "n-sse", false);
}
TEST(ws_delivers_each_body_once_in_order)
{
    delivers_once_in_order(PL_TRANSPORT_WS, "n-ws", false);
}
TEST(interval_poll_resumes_from_last_modified_and_etag_across_drops)
{
    delivers_once_in_order(PL_TRANSPORT_SHORT_POLL, "d-sp", true);
}
TEST(long_poll_resumes_from_last_modified_and_etag_across_drops)
{
    delivers_once_in_order(PL_TRANSPORT_LONG_POLL, "d-lp", true);
}
TEST(sse_resumes_from_last_event_id_across_drops)
{
    delivers_once_in_order(PL_TRANSPORT_SSE, "d-sse", true);
}

/* pushlab's page is no nchan answer: without Last-Modified and Etag the
 * same message would come back for ever, so the poller stops, saying so. */
TEST(a_poll_answer_without_etag_fails_with_a_clear_reason)
{
    pl_test_server srv;
    rec r = {.room = "x"};
    char ep[160];
    CHECK(pl_test_server_start(&srv, getenv("PL_TEST_SERVER"), NULL) == 0);
    snprintf(ep, sizeof ep, "%s/api/rooms/x/messages", srv.http);
    pl_loop_new(&r.loop);
    pl_sub_opts o = {.transport = PL_TRANSPORT_SHORT_POLL,
                     .dialect = PL_DIALECT_NCHAN,
                     .endpoint = ep,
                     .cb = {.on_message = on_message, .on_state = on_state},
                     .ud = &r};
    int rc = pl_sub_open(r.loop, &o, &r.sub);
    if (rc == 0)
        pl_loop_run(r.loop, 5000);
    pl_loop_free(r.loop);
    pl_test_server_stop(&srv, SIGTERM);
    CHECK_EQ_INT(rc, 0);
    CHECK(r.failed);
    CHECK(strstr(r.why, "Etag") != NULL);
}

TEST(foreign_options_are_checked)
{
    pl_loop *l;
    pl_sub *s;
    pl_loop_new(&l);
    pl_sub_opts o = {.transport = PL_TRANSPORT_SSE, .dialect = PL_DIALECT_NCHAN};
    CHECK_EQ_INT(pl_sub_open(l, &o, &s), -EINVAL); /* no endpoint */
    o.endpoint = "ws://127.0.0.1:1/sub/sse?id=a";
    CHECK_EQ_INT(pl_sub_open(l, &o, &s), -EINVAL); /* SSE over ws:// */
    o.transport = PL_TRANSPORT_AUTO;
    CHECK_EQ_INT(pl_sub_open(l, &o, &s), -EINVAL);
    o.transport = PL_TRANSPORT_SSE;
    o.dialect = PL_DIALECT_RELAY;
    o.endpoint = "http://127.0.0.1:1/";
    CHECK_EQ_INT(pl_sub_open(l, &o, &s), -EINVAL); /* a relay is WebSocket only */
    pl_loop_free(l);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    setenv("PL_TEST_SERVER", argv[1], 1);
    pl_client_global_init();
    pl_bnginx_cfg cfg = {.site = pl_nchan_conf, .connections = 256, .workers = 1};
    if (!pl_bnginx_available(&cfg)) {
        printf("# nginx with the nchan module is not installed: scripts/deps.sh test\n");
        printf("not ok 1 - nginx_with_nchan_is_installed\n1..1\n");
        return 1;
    }
    if (pl_bnginx_start(&ngx, &cfg) != 0 ||
        sscanf(ngx.http, "http://127.0.0.1:%d", &ngx_port) != 1) {
        printf("not ok 1 - nginx_starts\n1..1\n");
        return 1;
    }
    RUN(interval_poll_delivers_each_body_once_in_order);
    RUN(long_poll_delivers_each_body_once_in_order);
    RUN(sse_delivers_each_body_once_in_order);
    RUN(ws_delivers_each_body_once_in_order);
    RUN(interval_poll_resumes_from_last_modified_and_etag_across_drops);
    RUN(long_poll_resumes_from_last_modified_and_etag_across_drops);
    RUN(sse_resumes_from_last_event_id_across_drops);
    RUN(a_poll_answer_without_etag_fails_with_a_clear_reason);
    RUN(foreign_options_are_checked);
    pl_bnginx_stop(&ngx);
    pl_client_global_cleanup();
    return CHECK_DONE();
}
