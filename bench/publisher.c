/* The scheduled publisher; see publisher.h. One timer re-armed for the
 * next due message; a fixed array of in-flight slots is the publish
 * callbacks' context, so a send costs no allocation here. A publish that
 * got no answer is sent again with the same cid, which the server stores
 * at most once, so a cut connection costs no message and no duplicate. */
#include "publisher.h"
#include "clock.h"
#include "http_pub.h"
#include "meta.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN_FLIGHT 64
#define MAX_TRIES     4
#define RETRY_US      100000 /* after a failed try; the client reconnects meanwhile */

typedef struct slot {
    pl_bpub *p;
    uint64_t seq;
    int tries;
    struct slot *next_free; /* also links the retry queue */
} slot;

struct pl_bpub {
    pl_bpub_cfg cfg;
    pl_timer *timer;
    pl_timer *retry_timer;
    slot *retry_head, *retry_tail; /* failed tries waiting to go again */
    pl_bhttp *http;                /* without over_ws */
    char **urls;                   /* POST url per room, without over_ws */
    char *body;                    /* the publish body being built */
    size_t body_cap;
    pl_sub **ws;   /* one per room with over_ws, else NULL */
    int ws_open;   /* how many of them are OPEN */
    int64_t t0_us; /* 0 until started */
    uint64_t next; /* next seq to send */
    int in_flight;
    pl_bpub_counts counts;
    slot slots[MAX_IN_FLIGHT];
    slot *free_slots;
};

static void pump(pl_bpub *p);

int64_t pl_bpub_intended(const pl_bpub *p, uint64_t seq)
{
    int64_t pause = seq >= p->cfg.pause_at ? p->cfg.pause_us : 0;
    if (p->cfg.rate <= 0) /* --rate 0: nothing is sent, the schedule only marks time */
        return p->t0_us + pause;
    return p->t0_us + (int64_t)((double)seq * 1e6 / p->cfg.rate) + pause;
}

/* Records an outcome and frees the slot; the caller pumps afterwards. */
static void release(pl_bpub *p, slot *s, bool ok)
{
    uint64_t seq = s->seq;
    s->next_free = p->free_slots;
    p->free_slots = s;
    p->in_flight--;
    if (ok)
        p->counts.stored++;
    else
        p->counts.failed++;
    p->cfg.on_done(p->cfg.ud, seq, ok);
}

/* Queues a try that got no answer to go again shortly. */
static void retry_later(pl_bpub *p, slot *s)
{
    s->next_free = NULL;
    if (p->retry_tail)
        p->retry_tail->next_free = s;
    else
        p->retry_head = s;
    p->retry_tail = s;
    if (!pl_timer_active(p->retry_timer))
        pl_timer_start(p->retry_timer, RETRY_US);
}

/* A try's outcome. `transient`: no answer came (the connection failed), so
 * another try is safe; a server's refusal is final. */
static void settle(slot *s, bool ok, bool transient, const char *why)
{
    pl_bpub *p = s->p;
    bool pushlab = !p->cfg.post_urls && !p->cfg.relay_url; /* only it knows a cid */
    if (!ok && transient && pushlab && s->tries < MAX_TRIES) {
        p->counts.retried++;
        retry_later(p, s);
        return;
    }
    if (!ok)
        fprintf(stderr, "pushlab-bench: publish %llu failed after %d tries: %s\n",
                (unsigned long long)s->seq, s->tries, why);
    release(p, s, ok);
    pump(p);
}

static void on_published(void *ud, uint64_t id, bool dup, const pl_client_err *err)
{
    slot *s = ud;
    char why[320];
    (void)id, (void)dup;
    bool ok = !err || err->rc == 0;
    if (!ok)
        snprintf(why, sizeof why, "%s %s", err->code, err->message);
    /* -EPROTO is the server's error frame; anything else lost the socket. */
    settle(s, ok, !ok && err->rc != -EPROTO, ok ? "" : why);
}

static void on_posted(void *ud, long status, const char *why)
{
    slot *s = ud;
    char msg[300];
    snprintf(msg, sizeof msg, "HTTP %ld %s", status, why ? why : "");
    /* pushlab: 201 (200 for a repeated cid); nchan: 201, or 202 when the
     * channel had no subscriber yet. */
    settle(s, status >= 200 && status < 300, status == 0, msg);
}

/* The publish body into p->body; the text is plain letters, so it needs
 * no escaping. Returns its length, or -EOVERFLOW. */
static int body(pl_bpub *p, const char *cid, const char *meta)
{
    int n = snprintf(p->body, p->body_cap,
                     "{\"user\":\"bench\",\"text\":\"%s\",\"cid\":\"%s\",\"meta\":%s}", p->cfg.text,
                     cid, meta);
    return n < 0 || (size_t)n >= p->body_cap ? -EOVERFLOW : n;
}

/* Hands message `seq` to the client library. Returns 0, -EAGAIN (the
 * WebSocket's own window is full: try later) or another negative code. */
static int send_one(pl_bpub *p, slot *s)
{
    char meta[96], cid[24];
    int64_t now = pl_clock_mono_us();
    pl_meta m = {.seq = s->seq, .intended_us = pl_bpub_intended(p, s->seq), .sent_us = now};
    pl_meta_format(meta, sizeof meta, &m);
    /* Rooms are new for each run, so the sequence alone is unique there. */
    snprintf(cid, sizeof cid, "b%llu", (unsigned long long)s->seq);
    pl_pub_msg msg = {.user = "bench", .text = p->cfg.text, .cid = cid, .meta_json = meta};
    int room = (int)(s->seq % (uint64_t)p->cfg.n_rooms);
    if (now - m.intended_us > p->counts.max_behind_us)
        p->counts.max_behind_us = now - m.intended_us;
    s->tries++;
    if (p->cfg.over_ws && !p->cfg.relay_url)
        return pl_sub_publish(p->ws[room], &msg, on_published, s);
    int n = body(p, cid, meta);
    if (n < 0)
        return n;
    if (p->cfg.relay_url) { /* the frame is the body itself */
        pl_pub_msg raw = {.text = p->body};
        return pl_sub_publish(p->ws[0], &raw, on_published, s);
    }
    return pl_bhttp_post(p->http, p->urls[room], p->body, (size_t)n, on_posted, s);
}

/* Sends everything due, as far as the in-flight window allows, then arms
 * the timer for the next one. An ack reopens the window and pumps again. */
static void pump(pl_bpub *p)
{
    if (!p->t0_us)
        return;
    int64_t now = pl_clock_mono_us();
    while (p->next < p->cfg.total && p->free_slots) {
        int64_t due = pl_bpub_intended(p, p->next);
        if (due > now) {
            pl_timer_start(p->timer, due - now);
            return;
        }
        slot *s = p->free_slots;
        s->seq = p->next;
        s->tries = 0;
        int rc = send_one(p, s);
        if (rc == -EAGAIN)
            return; /* an ack will pump again */
        p->free_slots = s->next_free;
        p->in_flight++;
        p->next++;
        p->counts.sent++;
        if (rc == -ENOTCONN) { /* our WebSocket is reconnecting */
            s->tries--;
            retry_later(p, s);
        } else if (rc < 0)
            release(p, s, false);
    }
}

static void on_timer(pl_timer *t, void *ud)
{
    (void)t;
    pump(ud);
}

/* Sends the queued retries again, oldest first, keeping those that cannot
 * go yet (a WebSocket still reconnecting). */
static void on_retry_timer(pl_timer *t, void *ud)
{
    pl_bpub *p = ud;
    slot *s = p->retry_head;
    p->retry_head = p->retry_tail = NULL;
    while (s) {
        slot *next = s->next_free;
        int rc = send_one(p, s);
        if (rc == -EAGAIN || rc == -ENOTCONN) {
            s->tries--; /* it did not go */
            retry_later(p, s);
        } else if (rc < 0) {
            release(p, s, false);
        }
        s = next;
    }
    (void)t;
    pump(p);
}

static void on_ws_state(pl_sub *s, pl_sub_state st, const char *detail, const pl_client_err *err,
                        void *ud)
{
    pl_bpub *p = ud;
    (void)s, (void)detail, (void)err;
    if (st == PL_SUB_OPEN)
        p->ws_open++;
    else if (st == PL_SUB_RECONNECTING && p->ws_open > 0)
        p->ws_open--;
}

static int open_ws(pl_bpub *p)
{
    p->ws = calloc((size_t)p->cfg.n_rooms, sizeof *p->ws);
    if (!p->ws)
        return -ENOMEM;
    for (int r = 0; r < p->cfg.n_rooms; r++) {
        /* A relay echoes every frame back to us too: with no on_message
         * callback, the echo is read and dropped. */
        pl_sub_opts o = {.transport = PL_TRANSPORT_WS,
                         .dialect = p->cfg.relay_url ? PL_DIALECT_RELAY : PL_DIALECT_PUSHLAB,
                         .endpoint = p->cfg.relay_url,
                         .url = p->cfg.url,
                         .ws_url = p->cfg.ws_url,
                         .room = p->cfg.rooms[r],
                         .since = 0, /* a fresh room: no probe request */
                         .cb = {.on_state = on_ws_state},
                         .ud = p};
        int rc = pl_sub_open(p->cfg.loop, &o, &p->ws[r]);
        if (rc)
            return rc;
    }
    return 0;
}

static int open_http(pl_bpub *p)
{
    int rc = pl_bhttp_new(p->cfg.loop, p->cfg.tls, &p->http);
    if (rc)
        return rc;
    p->urls = calloc((size_t)p->cfg.n_rooms, sizeof *p->urls);
    if (!p->urls)
        return -ENOMEM;
    for (int r = 0; r < p->cfg.n_rooms; r++) {
        if (p->cfg.post_urls) {
            p->urls[r] = strdup(p->cfg.post_urls[r]);
        } else {
            size_t len = strlen(p->cfg.url) + strlen(p->cfg.rooms[r]) + 32;
            if ((p->urls[r] = malloc(len)))
                snprintf(p->urls[r], len, "%s/api/rooms/%s/messages", p->cfg.url, p->cfg.rooms[r]);
        }
        if (!p->urls[r])
            return -ENOMEM;
    }
    return 0;
}

int pl_bpub_new(const pl_bpub_cfg *cfg, pl_bpub **out)
{
    pl_bpub *p = calloc(1, sizeof *p);
    int rc = -ENOMEM;
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    for (int i = MAX_IN_FLIGHT - 1; i >= 0; i--) {
        p->slots[i] = (slot){.p = p, .next_free = p->free_slots};
        p->free_slots = &p->slots[i];
    }
    p->timer = pl_timer_new(cfg->loop, on_timer, p);
    p->retry_timer = pl_timer_new(cfg->loop, on_retry_timer, p);
    if (!p->timer || !p->retry_timer)
        goto fail;
    p->body_cap = strlen(cfg->text) + 256;
    if (!(p->body = malloc(p->body_cap)))
        goto fail;
    rc = cfg->over_ws || cfg->relay_url ? open_ws(p) : open_http(p);
    if (rc)
        goto fail;
    *out = p;
    return 0;
fail:
    pl_bpub_free(p);
    return rc;
}

bool pl_bpub_ready(const pl_bpub *p) { return !p->ws || p->ws_open == p->cfg.n_rooms; }

void pl_bpub_start(pl_bpub *p, int64_t t0_us)
{
    p->t0_us = t0_us ? t0_us : 1;
    pump(p);
}

bool pl_bpub_finished(const pl_bpub *p)
{
    return p->counts.stored + p->counts.failed == p->cfg.total;
}

pl_bpub_counts pl_bpub_counts_get(const pl_bpub *p) { return p->counts; }

void pl_bpub_free(pl_bpub *p)
{
    if (!p)
        return;
    pl_timer_free(p->timer);
    pl_timer_free(p->retry_timer);
    pl_bhttp_free(p->http);
    for (int r = 0; p->ws && r < p->cfg.n_rooms; r++)
        pl_sub_close(p->ws[r]);
    for (int r = 0; p->urls && r < p->cfg.n_rooms; r++)
        free(p->urls[r]);
    free(p->urls);
    free(p->body);
    free(p->ws);
    free(p);
}
