/* Specification of common/store: ids, history trimming, gaps, cid
 * de-duplication, paging, waiters and concurrent publishers. Run as
 * `test_store memory` (the store alone) and `test_store redis` (the same
 * behaviour through the Redis backend, against a redis-server the test
 * starts: rooms opened and messages published through Redis, read from the
 * local replica). */
#include <pthread.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "backend_redis.h"
#include "check.h"
#include "clock.h"
#include "redis_server.h"
#include "store.h"

/* ---- the backend under test ---- */

static bool use_redis;
static pl_test_redis redis;
static pl_backend *fx_backend;
static int fx_count;

static pl_store *fx_new(size_t history, size_t rooms)
{
    pl_store *s = pl_store_new(history, rooms);
    if (!s)
        return NULL;
    if (!use_redis) {
        fx_backend = pl_backend_memory_new(s);
        return s;
    }
    char prefix[64];
    snprintf(prefix, sizeof prefix, "t%d-%d", (int)getpid(), ++fx_count);
    pl_redis_config c = {
        .port = redis.port, .prefix = prefix, .history = history, .timeout_ms = 5000};
    snprintf(c.host, sizeof c.host, "127.0.0.1");
    if (pl_backend_redis_new(s, &c, &fx_backend) != 0)
        fx_backend = NULL;
    return s;
}

static void fx_free(pl_store *s)
{
    pl_backend_free(fx_backend);
    fx_backend = NULL;
    pl_store_free(s);
}

/* One call's answer, waited for on the test's thread. */
typedef struct answer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done, dup;
    int rc;
    pl_room *room;
    pl_msg *m;
} answer;

static void answer_init(answer *a)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
}

static int answer_wait(answer *a)
{
    pthread_mutex_lock(&a->lock);
    while (!a->done)
        pthread_cond_wait(&a->cond, &a->lock);
    pthread_mutex_unlock(&a->lock);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    return a->rc;
}

static void answer_set(answer *a, int rc, pl_room *room, pl_msg *m, bool dup)
{
    pthread_mutex_lock(&a->lock);
    a->rc = rc;
    a->room = room;
    a->m = m ? pl_msg_ref(m) : NULL;
    a->dup = dup;
    a->done = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

static void opened(void *ud, int rc, pl_room *room) { answer_set(ud, rc, room, NULL, false); }

static void published(void *ud, int rc, pl_msg *m, bool dup) { answer_set(ud, rc, NULL, m, dup); }

/* pl_store_room, through the backend: -ENOENT when absent and not made. */
static int fx_room(pl_store *s, const char *name, bool create, pl_room **out)
{
    answer a;
    (void)s;
    answer_init(&a);
    int rc = pl_backend_open(fx_backend, name, create, 0, out, opened, &a);
    if (rc == PL_BACKEND_LATER) {
        rc = answer_wait(&a);
        *out = a.room;
    }
    return rc == 0 && !*out ? -ENOENT : rc;
}

/* pl_store_publish, through the backend; returns once the local room
 * holds the message (a replica may hear of it a moment after Redis
 * answered). */
static int fx_publish(pl_store *s, pl_room *r, const pl_publish *in, pl_msg **out, bool *dup)
{
    answer a;
    (void)s;
    answer_init(&a);
    pl_backend_publish(fx_backend, pl_room_name(r), in, published, &a);
    int rc = answer_wait(&a);
    *out = a.m;
    *dup = a.dup;
    for (int i = 0; rc == 0 && pl_room_last_id(r) < a.m->id && i < 2000; i++) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return rc;
}

static pl_publish pub(const char *text, const char *cid)
{
    pl_publish p = {.user = "ann", .user_len = 3, .text = text, .text_len = strlen(text)};
    if (cid) {
        p.cid = cid;
        p.cid_len = strlen(cid);
    }
    return p;
}

static uint64_t publish(pl_store *s, pl_room *r, const char *text, const char *cid)
{
    pl_publish p = pub(text, cid);
    pl_msg *m;
    bool dup;
    if (fx_publish(s, r, &p, &m, &dup) != 0)
        return 0;
    uint64_t id = m->id;
    pl_msg_unref(m);
    return id;
}

typedef struct seen {
    uint64_t ids[64];
    size_t n;
} seen;

static bool collect(void *ud, const pl_msg *m)
{
    seen *s = ud;
    s->ids[s->n++] = m->id;
    return true;
}

TEST(ids_start_at_one_and_are_contiguous_per_room)
{
    pl_store *s = fx_new(10, 4);
    pl_room *a, *b;
    CHECK(fx_room(s, "a", true, &a) == 0);
    CHECK(fx_room(s, "b", true, &b) == 0);
    CHECK_EQ_INT(publish(s, a, "1", NULL), 1);
    CHECK_EQ_INT(publish(s, a, "2", NULL), 2);
    CHECK_EQ_INT(publish(s, b, "1", NULL), 1);
    CHECK_EQ_INT(publish(s, a, "3", NULL), 3);
    fx_free(s);
}

TEST(last_id_is_the_newest_id_even_after_trimming)
{
    pl_store *s = fx_new(2, 4);
    pl_room *r;
    CHECK(fx_room(s, "a", true, &r) == 0);
    CHECK_EQ_INT(pl_room_last_id(r), 0);
    for (int i = 0; i < 5; i++)
        publish(s, r, "x", NULL);
    CHECK_EQ_INT(pl_room_last_id(r), 5);
    fx_free(s);
}

TEST(reading_a_room_does_not_create_it)
{
    pl_store *s = fx_new(10, 4);
    pl_room *r = NULL;
    CHECK_EQ_INT(fx_room(s, "nobody", false, &r), -ENOENT);
    CHECK(r == NULL);
    CHECK_EQ_INT(pl_store_room_count(s), 0);
    fx_free(s);
}

TEST(room_limit_is_enforced)
{
    pl_store *s = fx_new(10, 2);
    pl_room *r;
    CHECK(fx_room(s, "a", true, &r) == 0);
    CHECK(fx_room(s, "b", true, &r) == 0);
    CHECK_EQ_INT(fx_room(s, "c", true, &r), -ENOSPC);
    CHECK(fx_room(s, "a", true, &r) == 0); /* existing rooms still work */
    fx_free(s);
}

TEST(history_is_trimmed_to_its_size_and_reports_a_gap)
{
    pl_store *s = fx_new(3, 1);
    pl_room *r;
    pl_scan info;
    seen got = {0};
    fx_room(s, "a", true, &r);
    for (int i = 0; i < 5; i++)
        publish(s, r, "x", NULL);
    size_t n = pl_room_scan(r, 0, 100, collect, &got, &info);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(got.ids[0], 3);
    CHECK_EQ_INT(got.ids[2], 5);
    CHECK_EQ_INT(info.last_id, 5);
    CHECK_EQ_INT(info.oldest_id, 3);
    CHECK(info.gap);
    fx_free(s);
}

TEST(trimmed_messages_are_counted_across_rooms)
{
    pl_store *s = fx_new(3, 2);
    pl_room *a, *b;
    fx_room(s, "a", true, &a);
    fx_room(s, "b", true, &b);
    for (int i = 0; i < 5; i++)
        publish(s, a, "x", NULL);
    for (int i = 0; i < 4; i++)
        publish(s, b, "x", NULL);
    publish(s, b, "dup", "c1");
    publish(s, b, "dup", "c1"); /* a duplicate stores nothing, trims nothing */
    CHECK_EQ_INT(pl_store_trimmed(s), 2 + 2);
    CHECK_EQ_INT(pl_store_published(s), 10);
    fx_free(s);
}

TEST(no_gap_when_since_is_just_before_the_oldest_held)
{
    pl_store *s = fx_new(3, 1);
    pl_room *r;
    pl_scan info;
    fx_room(s, "a", true, &r);
    for (int i = 0; i < 5; i++)
        publish(s, r, "x", NULL);
    pl_room_scan(r, 2, 100, collect, &(seen){0}, &info);
    CHECK(!info.gap);
    pl_room_scan(r, 1, 100, collect, &(seen){0}, &info);
    CHECK(info.gap);
    fx_free(s);
}

TEST(empty_room_scan_reports_zero_ids)
{
    pl_store *s = fx_new(3, 1);
    pl_room *r;
    pl_scan info;
    fx_room(s, "a", true, &r);
    CHECK_EQ_INT(pl_room_scan(r, 0, 10, collect, &(seen){0}, &info), 0);
    CHECK_EQ_INT(info.last_id, 0);
    CHECK_EQ_INT(info.oldest_id, 0);
    CHECK(!info.gap);
    fx_free(s);
}

TEST(repeated_cid_returns_the_stored_message)
{
    pl_store *s = fx_new(10, 1);
    pl_room *r;
    pl_msg *m;
    bool dup;
    fx_room(s, "a", true, &r);
    CHECK_EQ_INT(publish(s, r, "first", "c-1"), 1);
    CHECK_EQ_INT(publish(s, r, "other", NULL), 2);
    pl_publish p = pub("retry", "c-1");
    CHECK(fx_publish(s, r, &p, &m, &dup) == 0);
    CHECK(dup);
    CHECK_EQ_INT(m->id, 1);
    CHECK(strstr(m->json, "\"text\":\"first\"") != NULL);
    pl_msg_unref(m);
    CHECK_EQ_INT(pl_store_published(s), 2);
    fx_free(s);
}

TEST(cid_trimmed_from_history_is_stored_again)
{
    pl_store *s = fx_new(2, 1);
    pl_room *r;
    fx_room(s, "a", true, &r);
    publish(s, r, "x", "c-1");
    publish(s, r, "y", NULL);
    publish(s, r, "z", NULL);
    CHECK_EQ_INT(publish(s, r, "x", "c-1"), 4);
    fx_free(s);
}

TEST(scan_pages_after_since_with_limit)
{
    pl_store *s = fx_new(100, 1);
    pl_room *r;
    seen got = {0};
    fx_room(s, "a", true, &r);
    for (int i = 0; i < 10; i++)
        publish(s, r, "x", NULL);
    CHECK_EQ_INT(pl_room_scan(r, 4, 3, collect, &got, NULL), 3);
    CHECK_EQ_INT(got.ids[0], 5);
    CHECK_EQ_INT(got.ids[2], 7);
    CHECK_EQ_INT(pl_room_scan(r, 10, 3, collect, &got, NULL), 0);
    fx_free(s);
}

TEST(next_finds_the_message_after_a_cursor)
{
    pl_store *s = fx_new(3, 1);
    pl_room *r;
    bool gap;
    fx_room(s, "a", true, &r);
    CHECK(pl_room_next(r, 0, &gap) == NULL);
    for (int i = 0; i < 5; i++)
        publish(s, r, "x", NULL);
    pl_msg *m = pl_room_next(r, 3, &gap);
    CHECK(m && m->id == 4 && !gap);
    pl_msg_unref(m);
    m = pl_room_next(r, 0, &gap);
    CHECK(m && m->id == 3 && gap);
    pl_msg_unref(m);
    fx_free(s);
}

/* Found by fuzz_store: since + 1 wrapped to 0, so a cursor at the largest
 * id saw the whole history again, as a gap. */
TEST(cursor_at_the_largest_id_sees_nothing_after_it)
{
    pl_store *s = fx_new(3, 1);
    pl_room *r;
    pl_scan info;
    seen got = {0};
    bool gap = true;
    fx_room(s, "a", true, &r);
    publish(s, r, "x", NULL);
    CHECK_EQ_INT(pl_room_scan(r, UINT64_MAX, 10, collect, &got, &info), 0);
    CHECK(!info.gap);
    CHECK(pl_room_next(r, UINT64_MAX, &gap) == NULL);
    CHECK(!gap);
    fx_free(s);
}

static atomic_int woken;
static bool park_yes(pl_waiter *w) { return (void)w, true; }
static bool park_no(pl_waiter *w) { return (void)w, false; }
static void wake_count(pl_waiter *w) { (void)w, woken++; }

TEST(waiter_is_woken_once_by_the_next_publish)
{
    pl_store *s = fx_new(10, 1);
    pl_room *r;
    pl_waiter w = {.park = park_yes, .wake = wake_count};
    fx_room(s, "a", true, &r);
    woken = 0;
    CHECK(pl_room_wait(r, 0, &w));
    publish(s, r, "x", NULL);
    publish(s, r, "y", NULL);
    CHECK_EQ_INT(woken, 1);
    CHECK(!pl_waiter_cancel(r, &w)); /* already unlinked */
    fx_free(s);
}

TEST(wait_refuses_when_a_message_is_already_there)
{
    pl_store *s = fx_new(10, 1);
    pl_room *r;
    pl_waiter w = {.park = park_yes, .wake = wake_count};
    fx_room(s, "a", true, &r);
    publish(s, r, "x", NULL);
    CHECK(!pl_room_wait(r, 0, &w));
    CHECK(pl_room_wait(r, 1, &w));
    CHECK(pl_waiter_cancel(r, &w));
    fx_free(s);
}

TEST(park_may_refuse_to_wait)
{
    pl_store *s = fx_new(10, 1);
    pl_room *r;
    pl_waiter w = {.park = park_no, .wake = wake_count};
    fx_room(s, "a", true, &r);
    woken = 0;
    CHECK(!pl_room_wait(r, 0, &w));
    publish(s, r, "x", NULL);
    CHECK_EQ_INT(woken, 0);
    fx_free(s);
}

TEST(cancelled_waiter_is_not_woken)
{
    pl_store *s = fx_new(10, 1);
    pl_room *r;
    pl_waiter w = {.park = park_yes, .wake = wake_count};
    fx_room(s, "a", true, &r);
    woken = 0;
    CHECK(pl_room_wait(r, 0, &w));
    CHECK(pl_waiter_cancel(r, &w));
    publish(s, r, "x", NULL);
    CHECK_EQ_INT(woken, 0);
    fx_free(s);
}

TEST(wake_all_wakes_every_room)
{
    pl_store *s = fx_new(10, 2);
    pl_room *a, *b;
    pl_waiter wa = {.park = park_yes, .wake = wake_count}, wb = wa;
    fx_room(s, "a", true, &a);
    fx_room(s, "b", true, &b);
    woken = 0;
    pl_room_wait(a, 0, &wa);
    pl_room_wait(b, 0, &wb);
    pl_store_wake_all(s);
    CHECK_EQ_INT(woken, 2);
    fx_free(s);
}

static atomic_int hook_calls;
static atomic_uint_fast64_t hook_last_id;
static void hook(void *ud, pl_room *r, const pl_msg *m)
{
    (void)ud, (void)r;
    hook_calls++;
    hook_last_id = m->id;
}

TEST(hooks_run_for_new_messages_but_not_for_duplicates)
{
    pl_store *s = fx_new(10, 1);
    pl_room *r;
    hook_calls = 0;
    CHECK(pl_store_add_hook(s, hook, NULL) == 0);
    fx_room(s, "a", true, &r);
    publish(s, r, "x", "c");
    publish(s, r, "x", "c");
    CHECK_EQ_INT(hook_calls, 1);
    CHECK_EQ_INT(hook_last_id, 1);
    fx_free(s);
}

/* The tests below are of the store alone (what a replica uses), so they
 * publish into it directly in both runs. */
static uint64_t local_publish(pl_store *s, pl_room *r, const char *text, const char *cid)
{
    pl_publish p = pub(text, cid);
    pl_msg *m;
    bool dup;
    if (pl_store_publish(s, r, &p, &m, &dup) != 0)
        return 0;
    uint64_t id = m->id;
    pl_msg_unref(m);
    return id;
}

/* A message with id `id` as another node would have stored it. */
static pl_msg *foreign(uint64_t id)
{
    pl_publish p = pub("from elsewhere", NULL);
    return pl_msg_new("a", id, 1764140000000000 + (int64_t)id, &p);
}

TEST(append_takes_only_the_next_id)
{
    pl_store *s = pl_store_new(10, 1);
    pl_room *r;
    pl_store_room(s, "a", true, &r);
    pl_msg *m1 = foreign(1), *m2 = foreign(2), *m3 = foreign(3);
    CHECK_EQ_INT(pl_store_append(s, r, m1, false), 0);
    CHECK_EQ_INT(pl_store_append(s, r, m1, false), -EALREADY);
    CHECK_EQ_INT(pl_store_append(s, r, m3, false), -ERANGE);
    CHECK_EQ_INT(pl_store_append(s, r, m2, false), 0);
    CHECK_EQ_INT(pl_store_append(s, r, m3, false), 0);
    CHECK_EQ_INT(pl_room_last_id(r), 3);
    CHECK_EQ_INT(pl_store_published(s), 3);
    pl_msg_unref(m1), pl_msg_unref(m2), pl_msg_unref(m3);
    pl_store_free(s);
}

TEST(append_into_an_empty_room_still_wants_id_one)
{
    pl_store *s = pl_store_new(10, 1);
    pl_room *r;
    pl_store_room(s, "a", true, &r);
    pl_msg *m = foreign(5);
    CHECK_EQ_INT(pl_store_append(s, r, m, false), -ERANGE);
    CHECK_EQ_INT(pl_room_last_id(r), 0);
    pl_msg_unref(m);
    pl_store_free(s);
}

TEST(append_with_allow_gap_jumps_as_a_trim_would)
{
    pl_store *s = pl_store_new(10, 1);
    pl_room *r;
    pl_scan info;
    pl_store_room(s, "a", true, &r);
    local_publish(s, r, "1", NULL);
    local_publish(s, r, "2", NULL);
    pl_msg *m = foreign(9);
    CHECK_EQ_INT(pl_store_append(s, r, m, true), 0);
    pl_room_scan(r, 2, 10, collect, &(seen){0}, &info);
    CHECK_EQ_INT(info.oldest_id, 9);
    CHECK_EQ_INT(info.last_id, 9);
    CHECK(info.gap);
    CHECK_EQ_INT(pl_store_trimmed(s), 2);
    pl_msg_unref(m);
    pl_store_free(s);
}

TEST(appended_message_wakes_waiters_and_runs_hooks)
{
    pl_store *s = pl_store_new(10, 1);
    pl_room *r;
    pl_waiter w = {.park = park_yes, .wake = wake_count};
    hook_calls = 0;
    woken = 0;
    pl_store_add_hook(s, hook, NULL);
    pl_store_room(s, "a", true, &r);
    CHECK(pl_room_wait(r, 0, &w));
    pl_msg *m = foreign(1);
    CHECK_EQ_INT(pl_store_append(s, r, m, false), 0);
    CHECK_EQ_INT(woken, 1);
    CHECK_EQ_INT(hook_calls, 1);
    CHECK_EQ_INT(hook_last_id, 1);
    pl_msg_unref(m);
    pl_store_free(s);
}

static atomic_int restart_hooks;
static void restart_hook(void *ud, pl_room *r, const pl_msg *m)
{
    (void)ud, (void)r;
    if (!m)
        restart_hooks++;
}

TEST(restarted_room_starts_again_at_id_one_and_says_so)
{
    pl_store *s = pl_store_new(10, 1);
    pl_room *r;
    pl_waiter w = {.park = park_yes, .wake = wake_count};
    pl_store_add_hook(s, restart_hook, NULL);
    pl_store_room(s, "a", true, &r);
    local_publish(s, r, "x", "c");
    local_publish(s, r, "y", NULL);
    uint64_t gen = pl_room_generation(r);
    woken = 0;
    restart_hooks = 0;
    CHECK(pl_room_wait(r, 2, &w));
    pl_store_restart_room(s, r);
    CHECK_EQ_INT(woken, 1);
    CHECK_EQ_INT(restart_hooks, 1);
    CHECK_EQ_INT(pl_room_generation(r), gen + 1);
    CHECK_EQ_INT(pl_room_last_id(r), 0);
    CHECK_EQ_INT(local_publish(s, r, "x", "c"), 1); /* the old cid is gone with it */
    pl_store_free(s);
}

#define THREADS    4
#define PER_THREAD 5000

typedef struct worker {
    pl_store *s;
    pl_room *r;
    uint64_t *ids;
} worker;

static void *publisher(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++)
        w->ids[i] = publish(w->s, w->r, "concurrent", NULL);
    return NULL;
}

TEST(concurrent_publishers_lose_no_id_and_duplicate_none)
{
    pl_store *s = fx_new(THREADS * PER_THREAD, 1);
    pl_room *r;
    pthread_t t[THREADS];
    worker w[THREADS];
    static uint64_t ids[THREADS][PER_THREAD];
    static unsigned char hit[THREADS * PER_THREAD + 1];
    fx_room(s, "a", true, &r);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){s, r, ids[i]};
        pthread_create(&t[i], NULL, publisher, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    memset(hit, 0, sizeof hit);
    for (int i = 0; i < THREADS; i++) {
        uint64_t prev = 0;
        for (int k = 0; k < PER_THREAD; k++) {
            uint64_t id = ids[i][k];
            CHECK(id >= 1 && id <= THREADS * PER_THREAD);
            CHECK(id > prev); /* each publisher sees its own ids rise */
            CHECK(!hit[id]);
            hit[id] = 1;
            prev = id;
        }
    }
    CHECK_EQ_INT(pl_store_published(s), THREADS * PER_THREAD);
    fx_free(s);
}

int main(int argc, char **argv)
{
    use_redis = argc > 1 && strcmp(argv[1], "redis") == 0;
    if (use_redis && pl_test_redis_start(&redis, 0) != 0) {
        printf("Bail out! redis-server did not start (scripts/deps.sh test installs it)\n");
        return 1;
    }
    RUN(ids_start_at_one_and_are_contiguous_per_room);
    RUN(last_id_is_the_newest_id_even_after_trimming);
    RUN(reading_a_room_does_not_create_it);
    RUN(room_limit_is_enforced);
    RUN(history_is_trimmed_to_its_size_and_reports_a_gap);
    RUN(trimmed_messages_are_counted_across_rooms);
    RUN(no_gap_when_since_is_just_before_the_oldest_held);
    RUN(empty_room_scan_reports_zero_ids);
    RUN(repeated_cid_returns_the_stored_message);
    RUN(cid_trimmed_from_history_is_stored_again);
    RUN(scan_pages_after_since_with_limit);
    RUN(next_finds_the_message_after_a_cursor);
    RUN(cursor_at_the_largest_id_sees_nothing_after_it);
    RUN(waiter_is_woken_once_by_the_next_publish);
    RUN(wait_refuses_when_a_message_is_already_there);
    RUN(park_may_refuse_to_wait);
    RUN(cancelled_waiter_is_not_woken);
    RUN(wake_all_wakes_every_room);
    RUN(hooks_run_for_new_messages_but_not_for_duplicates);
    RUN(concurrent_publishers_lose_no_id_and_duplicate_none);
    RUN(append_takes_only_the_next_id);
    RUN(append_into_an_empty_room_still_wants_id_one);
    RUN(append_with_allow_gap_jumps_as_a_trim_would);
    RUN(appended_message_wakes_waiters_and_runs_hooks);
    RUN(restarted_room_starts_again_at_id_one_and_says_so);
    pl_test_redis_stop(&redis);
    return CHECK_DONE();
}
