/* Specification of the Redis backend across nodes: two backends (two
 * "servers") in this process share one redis-server the test starts, each
 * with its own local store. What one publishes the other holds, with the
 * same ids, bytes and cid answers; a node fills what pub/sub did not bring
 * from the log; an emptied Redis restarts the rooms; an unreachable one
 * fails calls in bounded time and is caught up with when it is back. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "backend_redis.h"
#include "check.h"
#include "clock.h"
#include "redis_script.h"
#include "redis_server.h"

static pl_test_redis redis;
static int prefix_n;
static char prefix[32];

typedef struct node {
    pl_store *s;
    pl_backend *b;
} node;

static int node_start(node *n, int timeout_ms)
{
    n->s = pl_store_new(100, 16);
    pl_redis_config c = {
        .port = redis.port, .prefix = prefix, .history = 100, .timeout_ms = timeout_ms};
    snprintf(c.host, sizeof c.host, "127.0.0.1");
    return n->s ? pl_backend_redis_new(n->s, &c, &n->b) : -ENOMEM;
}

static void node_stop(node *n)
{
    pl_backend_free(n->b);
    pl_store_free(n->s);
}

/* A fresh prefix per test: nothing carries over in Redis. */
static void fresh(void) { snprintf(prefix, sizeof prefix, "b%d-%d", (int)getpid(), ++prefix_n); }

typedef struct answer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done, dup;
    int rc;
    pl_room *room;
    uint64_t id;
} answer;

static void answer_set(answer *a, int rc, pl_room *room, pl_msg *m, bool dup)
{
    pthread_mutex_lock(&a->lock);
    a->rc = rc;
    a->room = room;
    a->id = m ? m->id : 0;
    a->dup = dup;
    a->done = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

static void opened(void *ud, int rc, pl_room *room) { answer_set(ud, rc, room, NULL, false); }
static void published(void *ud, int rc, pl_msg *m, bool dup) { answer_set(ud, rc, NULL, m, dup); }

static void wait_answer(answer *a)
{
    pthread_mutex_lock(&a->lock);
    while (!a->done)
        pthread_cond_wait(&a->cond, &a->lock);
    pthread_mutex_unlock(&a->lock);
}

#define ANSWER                                                                                     \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 0, NULL, 0              \
    }

static pl_room *node_open(node *n, const char *room, bool create, uint64_t since, int *rc)
{
    answer a = ANSWER;
    pl_room *r = NULL;
    *rc = pl_backend_open(n->b, room, create, since, &r, opened, &a);
    if (*rc == PL_BACKEND_LATER) {
        wait_answer(&a);
        *rc = a.rc;
        r = a.room;
    }
    return r;
}

/* Publishes; returns the id (0 on failure, *rc then says why). */
static uint64_t node_publish(node *n, const char *room, const char *text, const char *cid,
                             bool *dup, int *rc)
{
    answer a = ANSWER;
    pl_publish p = {.user = "ann", .user_len = 3, .text = text, .text_len = strlen(text)};
    if (cid) {
        p.cid = cid;
        p.cid_len = strlen(cid);
    }
    pl_backend_publish(n->b, room, &p, published, &a);
    wait_answer(&a);
    if (dup)
        *dup = a.dup;
    if (rc)
        *rc = a.rc;
    return a.rc == 0 ? a.id : 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to `ms` for `r` to hold id `id`. */
static bool wait_last(pl_room *r, uint64_t id, int ms)
{
    for (int i = 0; i < ms && pl_room_last_id(r) < id; i++)
        sleep_ms(1);
    return pl_room_last_id(r) >= id;
}

/* Stores a message in the log the way a publish does, but announces it on
 * a channel nobody hears: what a node misses when pub/sub drops one. */
static void log_silently(const char *room, const char *text)
{
    pl_rkeys k;
    char head[128];
    pl_rkeys_of(&k, prefix, room);
    snprintf(head, sizeof head, "\"user\":\"eve\",\"text\":\"%s\"", text);
    const char *argv[] = {"EVAL",
                          pl_rscript_source(PL_RS_PUBLISH),
                          "3",
                          k.meta,
                          k.log,
                          k.cids,
                          "100",
                          "0000000000000000",
                          room,
                          head,
                          "",
                          "",
                          "nobody-listens"};
    pl_test_redis_argv(redis.port, 13, argv, NULL, 0);
}

typedef struct seen {
    uint64_t ids[256];
    size_t n;
} seen;

static bool collect(void *ud, const pl_msg *m)
{
    seen *s = ud;
    if (s->n < 256)
        s->ids[s->n++] = m->id;
    return true;
}

/* ---- tests ---- */

TEST(a_message_published_on_one_node_reaches_the_other)
{
    node a, b;
    int rc;
    fresh();
    CHECK(node_start(&a, 2000) == 0 && node_start(&b, 2000) == 0);
    pl_room *rb = node_open(&b, "lobby", true, 0, &rc);
    CHECK(rc == 0 && rb);
    CHECK_EQ_INT(node_publish(&a, "lobby", "hello", NULL, NULL, &rc), 1);
    CHECK(wait_last(rb, 1, 2000));
    pl_room *ra;
    CHECK(pl_store_room(a.s, "lobby", false, &ra) == 0);
    CHECK(wait_last(ra, 1, 2000)); /* the publisher's node is a replica too */
    bool gap;
    pl_msg *ma = pl_room_next(ra, 0, &gap), *mb = pl_room_next(rb, 0, &gap);
    CHECK(ma && mb);
    CHECK_EQ_STR(mb->json, ma->json);
    CHECK(strstr(mb->json, "\"text\":\"hello\"") != NULL);
    pl_msg_unref(ma);
    pl_msg_unref(mb);
    node_stop(&a);
    node_stop(&b);
}

TEST(a_room_new_to_a_node_holds_its_history_once_opened)
{
    node a, b;
    int rc;
    fresh();
    CHECK(node_start(&a, 2000) == 0 && node_start(&b, 2000) == 0);
    for (int i = 0; i < 5; i++)
        CHECK(node_publish(&a, "hist", "x", NULL, NULL, &rc) == (uint64_t)i + 1);
    pl_room *r = node_open(&b, "hist", false, 0, &rc);
    CHECK(rc == 0 && r);
    CHECK_EQ_INT(pl_room_last_id(r), 5); /* at once: no wait after the answer */
    node_stop(&a);
    node_stop(&b);
}

TEST(a_room_in_no_store_is_not_made_by_reading)
{
    node a;
    int rc;
    fresh();
    CHECK(node_start(&a, 2000) == 0);
    CHECK(node_open(&a, "nobody", false, 0, &rc) == NULL);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(pl_store_room_count(a.s), 0);
    node_stop(&a);
}

TEST(a_cursor_ahead_of_the_node_is_served_from_the_log)
{
    node a, b;
    int rc;
    fresh();
    CHECK(node_start(&a, 2000) == 0 && node_start(&b, 2000) == 0);
    node_publish(&a, "ahead", "1", NULL, NULL, &rc);
    pl_room *r = node_open(&b, "ahead", true, 0, &rc);
    CHECK(r && pl_room_last_id(r) == 1);
    log_silently("ahead", "2"); /* b never hears of it */
    sleep_ms(50);
    CHECK_EQ_INT(pl_room_last_id(r), 1);
    /* A client that got id 2 elsewhere asks b for what follows it. */
    CHECK(node_open(&b, "ahead", true, 2, &rc) == r);
    CHECK_EQ_INT(pl_room_last_id(r), 2);
    node_stop(&a);
    node_stop(&b);
}

TEST(an_id_jump_on_pubsub_is_filled_from_the_log_first)
{
    node a, b;
    int rc;
    seen got = {0};
    fresh();
    CHECK(node_start(&a, 2000) == 0 && node_start(&b, 2000) == 0);
    pl_room *r = node_open(&b, "jump", true, 0, &rc);
    CHECK(r);
    node_publish(&a, "jump", "1", NULL, NULL, &rc);
    log_silently("jump", "2");
    node_publish(&a, "jump", "3", NULL, NULL, &rc);
    CHECK(wait_last(r, 3, 2000));
    pl_room_scan(r, 0, 10, collect, &got, NULL);
    CHECK_EQ_INT(got.n, 3);
    CHECK(got.ids[0] == 1 && got.ids[1] == 2 && got.ids[2] == 3);
    node_stop(&a);
    node_stop(&b);
}

TEST(a_cid_gets_the_same_answer_on_every_node)
{
    node a, b;
    int rc;
    bool dup;
    fresh();
    CHECK(node_start(&a, 2000) == 0 && node_start(&b, 2000) == 0);
    CHECK_EQ_INT(node_publish(&a, "cid", "once", "k-1", &dup, &rc), 1);
    CHECK(!dup);
    CHECK_EQ_INT(node_publish(&b, "cid", "once", "k-1", &dup, &rc), 1);
    CHECK(dup);
    CHECK_EQ_INT(node_publish(&b, "cid", "next", NULL, &dup, &rc), 2);
    node_stop(&a);
    node_stop(&b);
}

#define EACH 300
typedef struct pub_job {
    node *n;
    uint64_t ids[EACH];
} pub_job;

static void *publisher(void *arg)
{
    pub_job *j = arg;
    int rc;
    for (int i = 0; i < EACH; i++)
        j->ids[i] = node_publish(j->n, "busy", "x", NULL, NULL, &rc);
    return NULL;
}

TEST(ids_stay_contiguous_when_nodes_publish_at_once)
{
    node a, b;
    int rc;
    static pub_job ja, jb;
    static unsigned char hit[2 * EACH + 1];
    pthread_t ta, tb;
    fresh();
    CHECK(node_start(&a, 5000) == 0 && node_start(&b, 5000) == 0);
    pl_room *ra = node_open(&a, "busy", true, 0, &rc), *rb = node_open(&b, "busy", true, 0, &rc);
    ja.n = &a;
    jb.n = &b;
    pthread_create(&ta, NULL, publisher, &ja);
    pthread_create(&tb, NULL, publisher, &jb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    memset(hit, 0, sizeof hit);
    for (int i = 0; i < EACH; i++) {
        CHECK(ja.ids[i] >= 1 && ja.ids[i] <= 2 * EACH && !hit[ja.ids[i]]);
        hit[ja.ids[i]] = 1;
        CHECK(jb.ids[i] >= 1 && jb.ids[i] <= 2 * EACH && !hit[jb.ids[i]]);
        hit[jb.ids[i]] = 1;
    }
    CHECK(wait_last(ra, 2 * EACH, 3000) && wait_last(rb, 2 * EACH, 3000));
    node_stop(&a);
    node_stop(&b);
}

TEST(an_emptied_redis_restarts_the_room_on_every_node)
{
    node a, b;
    int rc;
    fresh();
    CHECK(node_start(&a, 2000) == 0 && node_start(&b, 2000) == 0);
    for (int i = 0; i < 3; i++)
        node_publish(&a, "gone", "x", NULL, NULL, &rc);
    pl_room *r = node_open(&b, "gone", true, 0, &rc);
    CHECK(r && pl_room_last_id(r) == 3);
    uint64_t gen = pl_room_generation(r);
    CHECK(pl_test_redis_cmd(redis.port, "FLUSHALL", NULL, 0) == 0);
    /* Nobody publishes: the store's epoch (checked every second) tells. */
    for (int i = 0; i < 3000 && pl_room_generation(r) == gen; i++)
        sleep_ms(1);
    CHECK_EQ_INT(pl_room_generation(r), gen + 1);
    CHECK_EQ_INT(pl_room_last_id(r), 0);
    CHECK_EQ_INT(node_publish(&a, "gone", "again", NULL, NULL, &rc), 1);
    CHECK(wait_last(r, 1, 2000));
    pl_backend_info info;
    pl_backend_info_get(b.b, &info);
    CHECK(info.restarts >= 1);
    node_stop(&a);
    node_stop(&b);
}

TEST(without_redis_a_publish_fails_in_bounded_time_and_works_once_it_is_back)
{
    node a, b;
    int rc;
    fresh();
    CHECK(node_start(&a, 500) == 0 && node_start(&b, 500) == 0);
    pl_room *r = node_open(&b, "outage", true, 0, &rc);
    CHECK(r);
    CHECK_EQ_INT(node_publish(&a, "outage", "before", NULL, NULL, &rc), 1);
    CHECK(wait_last(r, 1, 2000));
    int port = redis.port;
    pl_test_redis_stop(&redis);
    int64_t t0 = pl_clock_mono_us();
    CHECK_EQ_INT(node_publish(&a, "outage", "during", NULL, NULL, &rc), 0);
    int64_t waited_ms = (pl_clock_mono_us() - t0) / 1000;
    CHECK(pl_backend_unavailable(rc));
    CHECK(waited_ms <= 1500);
    pl_backend_info info;
    pl_backend_info_get(a.b, &info);
    CHECK(!info.connected);
    /* The reader keeps its room meanwhile. */
    CHECK_EQ_INT(pl_room_last_id(r), 1);
    CHECK(pl_test_redis_start(&redis, port) == 0);
    uint64_t id = 0;
    for (int i = 0; i < 50 && !id; i++) /* until a has reconnected */
        id = node_publish(&a, "outage", "after", "after-1", NULL, &rc);
    /* A new empty Redis: the room began again, and b heard it on its
     * subscription made again. */
    CHECK_EQ_INT(id, 1);
    for (int i = 0; i < 3000 && !(pl_room_last_id(r) == 1 && pl_room_generation(r) > 0); i++)
        sleep_ms(1);
    CHECK(pl_room_generation(r) > 0);
    bool gap;
    pl_msg *m = pl_room_next(r, 0, &gap);
    CHECK(m && strstr(m->json, "\"text\":\"after\""));
    pl_msg_unref(m);
    node_stop(&a);
    node_stop(&b);
}

TEST(a_node_cut_from_pubsub_catches_up_from_the_log)
{
    node a, b;
    int rc;
    fresh();
    CHECK(node_start(&a, 2000) == 0 && node_start(&b, 2000) == 0);
    pl_room *r = node_open(&b, "cut", true, 0, &rc);
    CHECK(r);
    CHECK(pl_test_redis_cmd(redis.port, "CLIENT KILL TYPE pubsub", NULL, 0) == 0);
    for (int i = 0; i < 5; i++)
        node_publish(&a, "cut", "x", NULL, NULL, &rc);
    CHECK(wait_last(r, 5, 3000));
    node_stop(&a);
    node_stop(&b);
}

int main(void)
{
    if (pl_test_redis_start(&redis, 0) != 0) {
        printf("Bail out! redis-server did not start (scripts/deps.sh test installs it)\n");
        return 1;
    }
    RUN(a_message_published_on_one_node_reaches_the_other);
    RUN(a_room_new_to_a_node_holds_its_history_once_opened);
    RUN(a_room_in_no_store_is_not_made_by_reading);
    RUN(a_cursor_ahead_of_the_node_is_served_from_the_log);
    RUN(an_id_jump_on_pubsub_is_filled_from_the_log_first);
    RUN(a_cid_gets_the_same_answer_on_every_node);
    RUN(ids_stay_contiguous_when_nodes_publish_at_once);
    RUN(an_emptied_redis_restarts_the_room_on_every_node);
    RUN(without_redis_a_publish_fails_in_bounded_time_and_works_once_it_is_back);
    RUN(a_node_cut_from_pubsub_catches_up_from_the_log);
    pl_test_redis_stop(&redis);
    return CHECK_DONE();
}
