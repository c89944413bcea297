/* The two hiredis contexts to Redis and their timers; see redis_link.h.
 * A context is never freed inside one of its own hiredis callbacks: a
 * failure marks the link and a zero-delay timer tears both down from the
 * loop, after which the link reconnects with a backoff. */
#include "redis_link.h"
#include <errno.h>
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "list.h"
#include "log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_UP, LINK_FAILING };

/* One command on the command context, from send to answer. */
typedef struct rcall {
    pl_list link; /* in l->inflight, oldest first */
    pl_rlink *l;
    pl_rlink_reply_fn fn;
    void *pd;
    int64_t sent_us;
    int script; /* enum pl_rscript, or -1 for a plain command */
    int nkeys;
    bool retried;
    int argc; /* a script's keys and arguments, kept to resend by EVAL */
    const char **argv;
    size_t *lens;
} rcall;

struct pl_rlink {
    struct ev_loop *loop;
    pl_rlink_config cfg;
    char host[256];
    const pl_rlink_ops *ops;
    void *ud;
    redisAsyncContext *cmd, *sub;
    enum link_state state;
    bool cmd_ready, sub_ready, told_up;
    bool quiet; /* this outage was logged already */
    int setup_left, setup_seen;
    char sha[PL_RS_COUNT][48];
    pl_list inflight; /* of rcall.link */
    ev_timer connect_timer, answer_timer, retry_timer, teardown_timer;
    int backoff_ms;
    uint64_t connects;
};

static void start_connect(pl_rlink *l);

bool pl_rlink_is_up(const pl_rlink *l) { return l->state == LINK_UP; }
uint64_t pl_rlink_connects(const pl_rlink *l) { return l->connects; }

void pl_rlink_fail(pl_rlink *l, const char *why)
{
    if (l->state == LINK_FAILING || l->state == LINK_DOWN)
        return;
    /* One line per outage, not one per attempt to reconnect. */
    pl_log(l->quiet ? PL_LOG_DEBUG : PL_LOG_WARN, "redis %s:%d: %s", l->host, l->cfg.port,
           why ? why : "connection lost");
    l->quiet = true;
    l->state = LINK_FAILING;
    ev_timer_set(&l->teardown_timer, 0, 0);
    ev_timer_start(l->loop, &l->teardown_timer);
}

/* Frees both contexts: hiredis runs every pending callback with NULL. */
static void drop_contexts(pl_rlink *l)
{
    redisAsyncContext *c = l->cmd, *s = l->sub;
    l->cmd = l->sub = NULL;
    if (c)
        redisAsyncFree(c);
    if (s)
        redisAsyncFree(s);
    l->cmd_ready = l->sub_ready = false;
    ev_timer_stop(l->loop, &l->connect_timer);
    ev_timer_stop(l->loop, &l->answer_timer);
}

static void teardown_cb(EV_P_ ev_timer *w, int revents)
{
    pl_rlink *l = w->data;
    (void)loop, (void)revents;
    drop_contexts(l);
    l->state = LINK_DOWN;
    if (l->told_up) {
        l->told_up = false;
        l->ops->down(l->ud);
    }
    ev_timer_set(&l->retry_timer, l->backoff_ms / 1000.0, 0);
    ev_timer_start(l->loop, &l->retry_timer);
    l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

static void retry_cb(EV_P_ ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    start_connect(w->data);
}

static void connect_timeout_cb(EV_P_ ev_timer *w, int revents)
{
    pl_rlink *l = w->data;
    (void)loop, (void)revents;
    if (l->state == LINK_CONNECTING)
        pl_rlink_fail(l, "connect timed out");
}

/* Re-arms the answer timer for the oldest command still unanswered. */
static void arm_answer(pl_rlink *l)
{
    pl_list *first = pl_list_first(&l->inflight);
    if (!first || ev_is_active(&l->answer_timer))
        return;
    rcall *c = pl_list_entry(first, rcall, link);
    double left = (c->sent_us + (int64_t)l->cfg.timeout_ms * 1000 - pl_clock_mono_us()) / 1e6;
    ev_timer_set(&l->answer_timer, left > 0 ? left : 0, 0);
    ev_timer_start(l->loop, &l->answer_timer);
}

static void answer_timeout_cb(EV_P_ ev_timer *w, int revents)
{
    pl_rlink *l = w->data;
    (void)loop, (void)revents;
    pl_list *first = pl_list_first(&l->inflight);
    if (!first)
        return;
    rcall *c = pl_list_entry(first, rcall, link);
    if (pl_clock_mono_us() - c->sent_us >= (int64_t)l->cfg.timeout_ms * 1000) {
        char why[64];
        snprintf(why, sizeof why, "no answer within %d ms", l->cfg.timeout_ms);
        pl_rlink_fail(l, why);
        return;
    }
    arm_answer(l);
}

static void call_free(rcall *c)
{
    pl_list_remove(&c->link);
    free(c->argv);
    free(c);
}

static int send_call(pl_rlink *l, rcall *c, bool eval);

static void on_reply(redisAsyncContext *ac, void *r, void *pd)
{
    rcall *c = pd;
    pl_rlink *l = c->l;
    redisReply *reply = r;
    pl_list_remove(&c->link);
    /* The script cache was flushed (SCRIPT FLUSH, a failover): run it by
     * its source, which caches it again. */
    if (reply && c->script >= 0 && !c->retried && reply->type == REDIS_REPLY_ERROR &&
        strncmp(reply->str, "NOSCRIPT", 8) == 0 && ac == l->cmd) {
        c->retried = true;
        if (send_call(l, c, true) == 0)
            return;
        reply = NULL;
    }
    c->fn(c->pd, reply);
    call_free(c);
}

/* Sends `c` (a script by EVALSHA, or by EVAL when `eval`). */
static int send_call(pl_rlink *l, rcall *c, bool eval)
{
    const char *argv[c->argc + 3];
    size_t lens[c->argc + 3];
    char nkeys[16];
    if (!l->cmd || l->state == LINK_FAILING)
        return -ENOTCONN;
    const char *body = eval ? pl_rscript_source(c->script) : l->sha[c->script];
    argv[0] = eval ? "EVAL" : "EVALSHA";
    argv[1] = body;
    argv[2] = nkeys;
    lens[0] = strlen(argv[0]);
    lens[1] = strlen(body);
    lens[2] = (size_t)snprintf(nkeys, sizeof nkeys, "%d", c->nkeys);
    for (int i = 0; i < c->argc; i++) {
        argv[i + 3] = c->argv[i];
        lens[i + 3] = c->lens[i];
    }
    if (redisAsyncCommandArgv(l->cmd, on_reply, c, c->argc + 3, argv, lens) != REDIS_OK)
        return -ENOTCONN;
    c->sent_us = pl_clock_mono_us();
    pl_list_push(&l->inflight, &c->link);
    arm_answer(l);
    return 0;
}

int pl_rlink_command(pl_rlink *l, pl_rlink_reply_fn fn, void *pd, int argc, const char **argv,
                     const size_t *lens)
{
    if (!l->cmd || l->state == LINK_FAILING || l->state == LINK_DOWN)
        return -ENOTCONN;
    rcall *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    *c = (rcall){.l = l, .fn = fn, .pd = pd, .script = -1};
    if (redisAsyncCommandArgv(l->cmd, on_reply, c, argc, argv, lens) != REDIS_OK) {
        free(c);
        return -ENOTCONN;
    }
    c->sent_us = pl_clock_mono_us();
    pl_list_push(&l->inflight, &c->link);
    arm_answer(l);
    return 0;
}

int pl_rlink_script(pl_rlink *l, enum pl_rscript which, int nkeys, pl_rlink_reply_fn fn, void *pd,
                    int argc, const char **argv, const size_t *lens)
{
    if (l->state != LINK_UP)
        return -ENOTCONN;
    /* One block for argv, lens and the strings. */
    size_t bytes = (size_t)argc * (sizeof(char *) + sizeof(size_t));
    for (int i = 0; i < argc; i++)
        bytes += lens[i] + 1;
    rcall *c = calloc(1, sizeof *c);
    char *block = malloc(bytes);
    if (!c || !block) {
        free(c);
        free(block);
        return -ENOMEM;
    }
    *c = (rcall){.l = l, .fn = fn, .pd = pd, .script = which, .nkeys = nkeys, .argc = argc};
    c->argv = (const char **)(void *)block;
    c->lens = (size_t *)(void *)(block + (size_t)argc * sizeof(char *));
    char *p = (char *)(c->lens + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i], lens[i]);
        p[lens[i]] = '\0';
        c->argv[i] = p;
        c->lens[i] = lens[i];
        p += lens[i] + 1;
    }
    int rc = send_call(l, c, false);
    if (rc != 0)
        call_free(c);
    return rc;
}

/* ---- pub/sub ---- */

static void on_sub(redisAsyncContext *ac, void *r, void *pd)
{
    pl_rlink *l = pd;
    redisReply *reply = r;
    if (!reply || ac != l->sub || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = reply->element[0]->str;
    redisReply *ch = reply->element[1], *v = reply->element[2];
    if (strcmp(kind, "message") == 0 && v->type == REDIS_REPLY_STRING)
        l->ops->message(l->ud, ch->str, ch->len, v->str, v->len);
    else if (strcmp(kind, "subscribe") == 0)
        l->ops->subscribed(l->ud, ch->str, ch->len);
}

int pl_rlink_subscribe(pl_rlink *l, int n, const char **channels, const size_t *lens)
{
    const char *argv[n + 1];
    size_t alens[n + 1];
    if (l->state != LINK_UP || !l->sub)
        return -ENOTCONN;
    argv[0] = "SUBSCRIBE";
    alens[0] = 9;
    for (int i = 0; i < n; i++) {
        argv[i + 1] = channels[i];
        alens[i + 1] = lens[i];
    }
    return redisAsyncCommandArgv(l->sub, on_sub, l, n + 1, argv, alens) == REDIS_OK ? 0 : -ENOTCONN;
}

/* ---- connecting ---- */

static void check_up(pl_rlink *l)
{
    if (l->state != LINK_CONNECTING || !l->cmd_ready || !l->sub_ready || l->setup_left)
        return;
    l->state = LINK_UP;
    l->connects++;
    l->backoff_ms = BACKOFF_MIN_MS;
    ev_timer_stop(l->loop, &l->connect_timer);
    pl_log(l->quiet ? PL_LOG_WARN : PL_LOG_INFO, "redis %s:%d: connected", l->host, l->cfg.port);
    l->quiet = false;
    l->told_up = true;
    l->ops->up(l->ud);
}

/* SELECT (when a database is named), then one SCRIPT LOAD per script, in
 * that order: replies come back in the same order. */
static void on_setup(void *pd, redisReply *r)
{
    pl_rlink *l = pd;
    if (!r)
        return; /* the link is going down */
    if (r->type == REDIS_REPLY_ERROR) {
        char why[160];
        snprintf(why, sizeof why, "setup refused: %.120s", r->str);
        pl_rlink_fail(l, why);
        return;
    }
    int script = l->setup_seen++ - (l->cfg.db ? 1 : 0);
    if (script >= 0 && script < PL_RS_COUNT) {
        if (r->type != REDIS_REPLY_STRING || r->len >= sizeof l->sha[0]) {
            pl_rlink_fail(l, "SCRIPT LOAD gave no sha");
            return;
        }
        memcpy(l->sha[script], r->str, r->len + 1);
    }
    l->setup_left--;
    check_up(l);
}

static void send_setup(pl_rlink *l)
{
    char db[16];
    l->setup_seen = 0;
    l->setup_left = PL_RS_COUNT + (l->cfg.db ? 1 : 0);
    if (l->cfg.db) {
        const char *argv[] = {"SELECT", db};
        size_t lens[] = {6, (size_t)snprintf(db, sizeof db, "%d", l->cfg.db)};
        if (pl_rlink_command(l, on_setup, l, 2, argv, lens) != 0)
            goto fail;
    }
    for (int i = 0; i < PL_RS_COUNT; i++) {
        const char *src = pl_rscript_source((enum pl_rscript)i);
        const char *argv[] = {"SCRIPT", "LOAD", src};
        size_t lens[] = {6, 4, strlen(src)};
        if (pl_rlink_command(l, on_setup, l, 3, argv, lens) != 0)
            goto fail;
    }
    return;
fail:
    pl_rlink_fail(l, "cannot send setup");
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    pl_rlink *l = ac->data;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */
        if (ac == l->cmd)
            l->cmd = NULL;
        else if (ac == l->sub)
            l->sub = NULL;
        pl_rlink_fail(l, ac->errstr);
        return;
    }
    if (ac == l->cmd)
        l->cmd_ready = true;
    else if (ac == l->sub)
        l->sub_ready = true;
    check_up(l);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    pl_rlink *l = ac->data;
    (void)status;
    if (ac == l->cmd)
        l->cmd = NULL;
    else if (ac == l->sub)
        l->sub = NULL;
    else
        return; /* one we freed ourselves */
    pl_rlink_fail(l, ac->errstr[0] ? ac->errstr : "connection closed");
}

static redisAsyncContext *open_context(pl_rlink *l)
{
    redisAsyncContext *ac = redisAsyncConnect(l->host, l->cfg.port);
    if (!ac)
        return NULL;
    if (ac->err) {
        pl_debug("redis %s:%d: %s", l->host, l->cfg.port, ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = l;
    redisLibevAttach(l->loop, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

static void start_connect(pl_rlink *l)
{
    l->state = LINK_CONNECTING;
    l->cmd = open_context(l);
    l->sub = open_context(l);
    if (!l->cmd || !l->sub) {
        pl_rlink_fail(l, "cannot open a connection");
        return;
    }
    ev_timer_set(&l->connect_timer, l->cfg.timeout_ms / 1000.0, 0);
    ev_timer_start(l->loop, &l->connect_timer);
    send_setup(l);
}

int pl_rlink_new(struct ev_loop *loop, const pl_rlink_config *cfg, const pl_rlink_ops *ops,
                 void *ud, pl_rlink **out)
{
    pl_rlink *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->loop = loop;
    l->cfg = *cfg;
    snprintf(l->host, sizeof l->host, "%s", cfg->host);
    l->cfg.host = l->host;
    l->ops = ops;
    l->ud = ud;
    l->backoff_ms = BACKOFF_MIN_MS;
    pl_list_init(&l->inflight);
    ev_timer_init(&l->connect_timer, connect_timeout_cb, 0, 0);
    ev_timer_init(&l->answer_timer, answer_timeout_cb, 0, 0);
    ev_timer_init(&l->retry_timer, retry_cb, 0, 0);
    ev_timer_init(&l->teardown_timer, teardown_cb, 0, 0);
    l->connect_timer.data = l->answer_timer.data = l->retry_timer.data = l;
    l->teardown_timer.data = l;
    start_connect(l);
    *out = l;
    return 0;
}

void pl_rlink_free(pl_rlink *l)
{
    if (!l)
        return;
    l->told_up = false;
    l->state = LINK_FAILING; /* callbacks run by the frees send nothing */
    drop_contexts(l);
    ev_timer_stop(l->loop, &l->retry_timer);
    ev_timer_stop(l->loop, &l->teardown_timer);
    free(l);
}
