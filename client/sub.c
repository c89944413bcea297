/* The subscription core shared by every transport: its reconnect state
 * machine (exponential backoff with jitter, the restart probe, auto
 * fallback, the silence watchdog); delivery is sub_deliver.c's.
 * Transports (short_poll.c, long_poll.c, sse.c, ws.c) only move bytes and
 * report events here; it calls them through their tables only. Uses the
 * loop's timers, one HTTP transfer (xfer.c), sub_deliver.c and proto.c. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acct.h"
#include "client_internal.h"
#include "clock.h"
#include "dialect.h"
#include "url.h"
#include "validate.h"

static const char *const transport_names[] = {"short-poll", "long-poll", "sse", "ws", "auto"};

const char *pl_transport_name(pl_transport t)
{
    return (unsigned)t <= PL_TRANSPORT_AUTO ? transport_names[t] : "?";
}

int pl_transport_parse(const char *name, pl_transport *out)
{
    for (int i = 0; i <= PL_TRANSPORT_AUTO; i++)
        if (strcmp(name, transport_names[i]) == 0) {
            *out = (pl_transport)i;
            return 0;
        }
    return -EINVAL;
}

const char *pl_sub_state_name(pl_sub_state s)
{
    static const char *const n[] = {"connecting", "open",      "reconnecting",
                                    "fallback",   "restarted", "failed"};
    return (unsigned)s <= PL_SUB_FAILED ? n[s] : "?";
}

static void state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *err)
{
    if (s->o.cb.on_state && !s->closed)
        s->o.cb.on_state(s, st, detail, err, s->o.ud);
}

/* ------------------------------------------------------------- lifetime */

static void sub_free(pl_sub *s)
{
    if (s->ops)
        s->ops->stop(s);
    pl_timer_free(s->retry);
    pl_timer_free(s->watchdog);
    pl_timer_free(s->reap);
    if (s->http_ready)
        pl_xfer_cleanup(&s->http);
    pl_sse_parser_free(&s->sse);
    pl_loop_disown(&s->part);
    free(s->url);
    free(s->ws_url);
    free(s->url_list);
    free(s->endpoint);
    free(s->room);
    free(s->source_addr);
    free(s);
}

bool pl_sub_leave(pl_sub *s)
{
    --s->busy;
    return !s->closed;
}

static void reap_cb(pl_timer *t, void *ud)
{
    (void)t;
    sub_free(ud);
}

void pl_sub_close(pl_sub *s)
{
    if (!s || s->closed)
        return;
    if (s->busy || pl_xfer_busy(s->loop)) { /* free it once off this stack */
        s->closed = true;
        s->ops->stop(s);
        pl_timer_stop(s->retry);
        pl_timer_stop(s->watchdog);
        pl_timer_start(s->reap, 0);
        return;
    }
    sub_free(s);
}

/* The loop is being freed: no callbacks, whatever is on the stack. */
static void part_free(pl_loop_part *p)
{
    pl_sub *s = pl_list_entry(p, pl_sub, part);
    s->busy = 0;
    sub_free(s);
}

/* ------------------------------------------------------- (re)connecting */

static void probe_done(pl_xfer *h, CURLcode rc, long status);

static bool needs_probe(const pl_sub *s)
{
    /* A long poll or a stream from a cursor the server no longer knows (it
     * restarted) would wait for ids it will not reach soon, and a long
     * poll from 0 could hand back a page we would skip as "before now":
     * ask an immediate page first. A short poll is its own probe. Other
     * servers' dialects have no such page. */
    if (pl_dialect_foreign(s->o.dialect))
        return false;
    return s->new_only || (s->resync && s->ops->kind != PL_TRANSPORT_SHORT_POLL);
}

/* Asks for one page from the cursor: its last_id tells whether the
 * server restarted (last_id < cursor) and, for "new only", where now is. */
static int probe_start(pl_sub *s)
{
    char *url = pl_sub_api_url(s, "messages?since=%llu&limit=1", (unsigned long long)s->cursor);
    return pl_xfer_get(&s->http, url, 10000L, probe_done);
}

static void probe_done(pl_xfer *h, CURLcode rc, long status)
{
    pl_sub *s = h->ud;
    pl_client_err err;
    uint64_t last;
    if (status < 0)
        return;
    pl_sub_enter(s);
    if (rc != CURLE_OK || status != 200) {
        pl_sub_http_failed(s, h, rc, status);
    } else if (pl_proto_last_id(pl_xfer_body(h), h->body.len, &last) != 0) {
        pl_proto_err(&err, -EPROTO, 0, "protocol", "probe: not a page");
        pl_sub_lost(s, &err);
    } else {
        pl_sub_page_head(s, last);
        s->resync = false;
        pl_sub_schedule(s, 0);
    }
    pl_sub_leave(s);
}

static void retry_cb(pl_timer *t, void *ud)
{
    pl_sub *s = ud;
    pl_client_err err;
    (void)t;
    pl_sub_enter(s);
    int rc = needs_probe(s) ? probe_start(s) : s->ops->start(s);
    if (rc < 0) {
        pl_proto_err(&err, rc, 0, "start", "cannot start %s: %s", pl_transport_name(s->ops->kind),
                     strerror(-rc));
        pl_sub_refused(s, &err);
    }
    pl_sub_leave(s);
}

void pl_sub_http_failed(pl_sub *s, const pl_xfer *h, CURLcode rc, long status)
{
    pl_client_err err;
    pl_xfer_error(h, rc, status, &err);
    /* A certificate nobody trusts is a setting to fix, as a bad URL is:
     * retrying cannot help. */
    bool untrusted = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                     rc == CURLE_SSL_CERTPROBLEM;
    if ((rc == CURLE_OK && status >= 400 && status < 500 && status != 429) ||
        rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL || untrusted)
        pl_sub_fatal(s, &err);
    else if ((rc == CURLE_OK && status >= 400) || !h->connected)
        pl_sub_refused(s, &err);
    else /* accepted, then cut: reset, EOF, "Empty reply from server" */
        pl_sub_lost(s, &err);
}

void pl_sub_schedule(pl_sub *s, int delay_ms)
{
    if (!s->closed)
        pl_timer_start(s->retry, (int64_t)delay_ms * 1000);
}

static uint32_t jitter_rand(pl_sub *s)
{
    /* xorshift on a per-sub state: no shared rand() state, no lock */
    uint64_t x = (uint64_t)(uintptr_t)s ^ (uint64_t)pl_clock_mono_us() ^ s->ctr.reconnects;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (uint32_t)x;
}

void pl_sub_opened(pl_sub *s)
{
    if (s->opened)
        return;
    s->opened = true;
    s->settled = true;
    s->fails = 0;
    s->retries = 0;
    s->backoff_ms = s->o.backoff_min_ms;
    state(s, PL_SUB_OPEN, pl_transport_name(s->ops->kind), NULL);
}

/* auto, before any transport worked: try the next one at once. Returns
 * false when there is none left to try. */
static bool fall_back(pl_sub *s, const pl_client_err *err)
{
    if (s->want != PL_TRANSPORT_AUTO || s->settled || s->ops->kind == PL_TRANSPORT_SHORT_POLL)
        return false;
    state(s, PL_SUB_FALLBACK, pl_transport_name(s->ops->kind), err);
    s->ops =
        pl_dialect_ops(s->o.dialect, s->ops->kind == PL_TRANSPORT_WS    ? PL_TRANSPORT_SSE
                                     : s->ops->kind == PL_TRANSPORT_SSE ? PL_TRANSPORT_LONG_POLL
                                                                        : PL_TRANSPORT_SHORT_POLL);
    s->fails = 0;
    pl_sub_schedule(s, 0);
    return true;
}

/* With several servers, the next one: the cursor goes along, and its
 * WebSocket base comes from its own /api/config. Kept as it is when there
 * is no memory for the new one. */
static void next_server(pl_sub *s)
{
    char *u = pl_url_list_item(s->url_list, (s->url_at + 1) % s->n_urls);
    if (!u)
        return;
    s->url_at = (s->url_at + 1) % s->n_urls;
    free(s->url);
    s->url = u;
    free(s->ws_url);
    s->ws_url = NULL;
}

/* Drops the connection and tries again after the backoff, saying so. A
 * refusal counts toward max_fails; a lost connection never does. */
static void retry_later(pl_sub *s, const pl_client_err *err, bool refused)
{
    s->ops->stop(s);
    pl_timer_stop(s->watchdog);
    s->opened = false;
    s->resync = true;
    if (s->closed)
        return;
    if (refused) {
        s->fails++;
    } else {
        s->fails = 0; /* the server was there */
        s->ctr.reconnects++;
    }
    if (fall_back(s, err))
        return;
    if (s->o.max_fails && s->fails >= s->o.max_fails) {
        pl_sub_fatal(s, err);
        return;
    }
    if (s->n_urls > 1)
        next_server(s);
    /* backoff_ms restarts only once a connection worked (pl_sub_opened):
     * one that is accepted and cut at once is not retried at full speed. */
    int d = s->backoff_ms;
    int delay = d / 2 + (int)(jitter_rand(s) % (uint32_t)(d / 2 + 1));
    char detail[64];
    s->backoff_ms = d >= s->o.backoff_max_ms / 2 ? s->o.backoff_max_ms : d * 2;
    snprintf(detail, sizeof detail, "%s, retry %d in %d ms", pl_transport_name(s->ops->kind),
             ++s->retries, delay);
    state(s, PL_SUB_RECONNECTING, detail, err);
    pl_sub_schedule(s, delay);
}

void pl_sub_lost(pl_sub *s, const pl_client_err *err) { retry_later(s, err, false); }

void pl_sub_refused(pl_sub *s, const pl_client_err *err) { retry_later(s, err, true); }

void pl_sub_fatal(pl_sub *s, const pl_client_err *err)
{
    s->ops->stop(s);
    pl_timer_stop(s->watchdog);
    pl_timer_stop(s->retry);
    s->opened = false;
    /* auto: a refusal of one transport (a proxy answering 400 to the
     * upgrade, say) is a reason to try the next, not to give up. */
    if (!s->closed && fall_back(s, err))
        return;
    state(s, PL_SUB_FAILED, pl_transport_name(s->ops->kind), err);
}

/* ------------------------------------------------------------ watchdog */

void pl_sub_touch(pl_sub *s) { s->last_rx_us = pl_clock_mono_us(); }

static int64_t silence_limit_us(const pl_sub *s) { return 2 * (int64_t)s->o.heartbeat_s * 1000000; }

/* Bytes the kernel received that no callback reported count as life too:
 * a WebSocket ping from the server is answered inside libwebsockets,
 * which tells us nothing, and with ping_s < 0 it is all a quiet socket
 * hears. True when wire_rx moved since the last look. */
static bool kernel_heard(pl_sub *s)
{
    s->ops->account(s);
    bool heard = s->ctr.wire_rx != s->rx_looked;
    s->rx_looked = s->ctr.wire_rx;
    return heard;
}

void pl_sub_watchdog_arm(pl_sub *s)
{
    if (!s->watch_silence)
        return;
    pl_sub_touch(s);
    (void)kernel_heard(s);
    pl_timer_start(s->watchdog, silence_limit_us(s));
}

/* Re-armed lazily: touching is a store, only this timer compares. */
static void watchdog_cb(pl_timer *t, void *ud)
{
    pl_sub *s = ud;
    int64_t idle = pl_clock_mono_us() - s->last_rx_us;
    if (idle >= silence_limit_us(s) && kernel_heard(s)) {
        pl_sub_touch(s);
        idle = 0;
    }
    if (idle < silence_limit_us(s)) {
        pl_timer_start(t, silence_limit_us(s) - idle);
        return;
    }
    pl_client_err err;
    pl_proto_err(&err, -ETIMEDOUT, 0, "silent", "no data for %d s (2 x heartbeat)",
                 2 * s->o.heartbeat_s);
    pl_sub_enter(s);
    pl_sub_lost(s, &err);
    pl_sub_leave(s);
}

void pl_sub_http_stop(pl_sub *s)
{
    if (s->http_ready)
        pl_xfer_abort(&s->http);
}

void pl_sub_http_account(pl_sub *s)
{
    if (s->http.fd >= 0)
        pl_acct_take(s->loop, s->http.fd, &s->ctr);
}

char *pl_sub_api_url(const pl_sub *s, const char *fmt, ...)
{
    char tail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    return pl_url_join(s->url, "/api/rooms/%s/%s", s->room, tail);
}

/* ---------------------------------------------------------------- open */

static int check_opts(const pl_sub_opts *o)
{
    if (o->dialect != PL_DIALECT_PUSHLAB)
        return pl_dialect_check(o);
    int n = o->url ? pl_url_list_count(o->url) : 1;
    for (int i = 0; i < n; i++) {
        char *u = pl_url_list_item(o->url, i);
        bool ok = u && pl_url_scheme_ok(u, "http", "https") && pl_url_has_host(u);
        free(u);
        if (!ok)
            return -EINVAL;
    }
    if (o->ws_url &&
        (n > 1 || !pl_url_scheme_ok(o->ws_url, "ws", "wss") || !pl_url_has_host(o->ws_url)))
        return -EINVAL;
    if (!o->room || !pl_valid_room(o->room, strlen(o->room)))
        return -EINVAL;
    if ((unsigned)o->transport > PL_TRANSPORT_AUTO || o->since < PL_SINCE_NEW)
        return -EINVAL;
    return 0;
}

static void set_defaults(pl_sub_opts *o)
{
    if (o->interval_ms <= 0)
        o->interval_ms = 1000;
    if (o->poll_timeout_s <= 0)
        o->poll_timeout_s = PL_TIMEOUT_DEFAULT;
    if (o->poll_timeout_s > PL_TIMEOUT_MAX) /* the server refuses more */
        o->poll_timeout_s = PL_TIMEOUT_MAX;
    if (o->heartbeat_s <= 0)
        o->heartbeat_s = 15;
    if (o->ping_s == 0)
        o->ping_s = o->heartbeat_s;
    if (pl_dialect_foreign(o->dialect))
        o->ping_s = -1; /* such a server would take our ping for a message */
    if (o->backoff_min_ms <= 0)
        o->backoff_min_ms = 250;
    if (o->backoff_max_ms < o->backoff_min_ms)
        o->backoff_max_ms = o->backoff_min_ms > 15000 ? o->backoff_min_ms : 15000;
}

int pl_sub_open(pl_loop *l, const pl_sub_opts *o, pl_sub **out)
{
    int rc = check_opts(o);
    if (rc)
        return rc;
    pl_sub *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->loop = l;
    s->o = *o;
    bool foreign = pl_dialect_foreign(o->dialect);
    s->ask_beat = o->heartbeat_s > 0 && !foreign;
    /* A foreign server sends no heartbeat unless it was set up to. */
    s->watch_silence = !foreign || o->heartbeat_s > 0;
    set_defaults(&s->o);
    s->url = foreign ? pl_url_join(o->endpoint, "%s", "") : pl_url_list_item(o->url, 0);
    s->n_urls = foreign ? 1 : pl_url_list_count(o->url);
    s->url_list = s->n_urls > 1 ? strdup(o->url) : NULL;
    s->endpoint = foreign ? strdup(o->endpoint) : NULL;
    s->room = strdup(o->room ? o->room : "");
    s->ws_url = o->ws_url ? pl_url_join(o->ws_url, "%s", "") : NULL;
    s->source_addr = o->source_addr ? strdup(o->source_addr) : NULL;
    s->retry = pl_timer_new(l, retry_cb, s);
    s->watchdog = pl_timer_new(l, watchdog_cb, s);
    s->reap = pl_timer_new(l, reap_cb, s);
    if (!s->reap || !s->url || !s->room || (s->n_urls > 1 && !s->url_list) ||
        (o->ws_url && !s->ws_url) || (foreign && !s->endpoint) ||
        (o->source_addr && !s->source_addr) || !s->retry || !s->watchdog ||
        pl_xfer_init_on(&s->http, l, &s->ctr, s->source_addr, o->own_connections) != 0)
        goto fail;
    s->http_ready = true;
    s->http.ud = s;
    s->want = o->transport;
    s->ops = pl_dialect_ops(o->dialect,
                            o->transport == PL_TRANSPORT_AUTO ? PL_TRANSPORT_WS : o->transport);
    s->new_only = o->since == PL_SINCE_NEW && !foreign;
    s->cursor = o->since > 0 && !foreign ? (uint64_t)o->since : 0;
    s->resync = o->since > 0 && !foreign; /* a cursor from elsewhere: check it */
    s->backoff_ms = s->o.backoff_min_ms;
    s->part.free = part_free;
    pl_loop_own(l, &s->part, PL_STAGE_SUBS);
    pl_sub_schedule(s, 0);
    *out = s;
    return 0;
fail:
    sub_free(s);
    return -ENOMEM;
}

pl_transport pl_sub_transport(const pl_sub *s) { return s->ops->kind; }

uint64_t pl_sub_cursor(const pl_sub *s) { return s->cursor; }

const char *pl_sub_beat_arg(pl_sub *s)
{
    s->beat_arg[0] = '\0';
    if (s->ask_beat)
        snprintf(s->beat_arg, sizeof s->beat_arg, "&heartbeat=%d", s->o.heartbeat_s);
    return s->beat_arg;
}

void pl_sub_counters_get(pl_sub *s, pl_sub_counters *out)
{
    s->ops->account(s);
    *out = s->ctr;
}
