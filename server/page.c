/* The page of messages after a cursor, as short and long polling answer
 * it; see page.h. The page is written straight from the stored messages'
 * JSON under the room's lock, so a poll copies bytes and parses nothing;
 * and a page already answered for the same state of its room is queued
 * again from page_cache.c, so it is not even copied. */
#include "page.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "clock.h"
#include "page_cache.h"
#include "reply.h"
#include "server.h"

/* The page being written; `failed` latches an allocation failure. */
typedef struct page_buf {
    pl_buf b;
    bool failed;
    pl_transport_stats *ts; /* each message served is timed here */
    int64_t now_us;
    pl_page_info *info; /* what the cache keeps of it */
} page_buf;

static void put(page_buf *b, const char *s, size_t n)
{
    if (!b->failed && pl_buf_append(&b->b, s, n) != 0)
        b->failed = true;
}

static bool visit(void *ud, const pl_msg *m)
{
    page_buf *b = ud;
    if (b->b.len && b->b.p[b->b.len - 1] != '[')
        put(b, ",", 1);
    put(b, m->json, m->json_len);
    if (b->failed)
        return false;
    pl_stats_delivered(b->ts, m->ts, b->now_us);
    if (b->info->count < PL_PAGE_CACHE_MSGS)
        b->info->stored_us[b->info->count] = m->ts;
    b->info->count++;
    return true;
}

/* The page's JSON; fills *info and, from the scan, *last_id. */
static char *build(pl_room *room, const char *name, uint64_t since, size_t limit,
                   pl_transport_stats *ts, size_t *len, pl_page_info *info, uint64_t *last_id)
{
    page_buf b = {.b = {.first = 1024}, .ts = ts, .now_us = pl_clock_real_us(), .info = info};
    pl_scan scan = {0};
    char head[PL_ROOM_MAX + 32], tail[128];
    int n = snprintf(head, sizeof head, "{\"room\":\"%s\",\"messages\":[", name);
    put(&b, head, (size_t)n);
    *info = (pl_page_info){0};
    if (room)
        pl_room_scan(room, since, limit, visit, &b, &scan);
    n = snprintf(tail, sizeof tail,
                 "],\"last_id\":%" PRIu64 ",\"oldest_id\":%" PRIu64 ",\"gap\":%s}", scan.last_id,
                 scan.oldest_id, scan.gap ? "true" : "false");
    info->gap = scan.gap;
    *last_id = scan.last_id;
    if (scan.gap && info->count)
        pl_stat_add(&ts->gaps, 1);
    put(&b, tail, (size_t)n);
    if (b.failed) {
        pl_buf_free(&b.b);
        return NULL;
    }
    *len = b.b.len;
    return pl_buf_take(&b.b);
}

char *pl_page_json(pl_room *room, const char *name, uint64_t since, size_t limit,
                   pl_transport_stats *ts, size_t *len)
{
    pl_page_info info;
    uint64_t last_id;
    char *page = build(room, name, since, limit, ts, len, &info, &last_id);
    if (page)
        pl_stat_add(&ts->messages_out, info.count);
    return page;
}

int pl_page_query_uint(pl_req *q, const char *key, uint64_t *out, pl_err *err)
{
    const char *v = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, key);
    bool present = v || MHD_lookup_connection_value_n(q->conn, MHD_GET_ARGUMENT_KIND, key,
                                                      strlen(key), NULL, NULL) == MHD_YES;
    if (!present)
        return 0;
    if (pl_parse_uint(v, out) != 0)
        return pl_err_set(err, 400, "%s must be a non-negative decimal integer", key);
    return 0;
}

int pl_page_query(pl_req *q, uint64_t *since, size_t *limit, pl_err *err)
{
    uint64_t l = PL_LIMIT_DEFAULT;
    *since = 0;
    if (pl_page_query_uint(q, "since", since, err) || pl_page_query_uint(q, "limit", &l, err))
        return -EINVAL;
    *limit = l > PL_LIMIT_MAX ? PL_LIMIT_MAX : (size_t)l;
    return 0;
}

/* A cached page is served: its messages count as if it were built. */
static void count_cached(pl_req *q, const pl_page_info *info)
{
    int64_t now = pl_clock_real_us();
    for (size_t i = 0; i < info->count; i++)
        pl_stats_delivered(q->ts, info->stored_us[i], now);
    if (info->gap && info->count)
        pl_stat_add(&q->ts->gaps, 1);
    pl_stat_add(&q->ts->messages_out, info->count);
}

enum MHD_Result pl_page_answer(pl_req *q, pl_room *room, uint64_t since, size_t limit)
{
    pl_page_cache *cache = room ? q->srv->page_cache : NULL;
    pl_page_key k = {.room = room, .since = since, .limit = limit};
    pl_page_info info;
    pl_err err;
    size_t len;
    if (cache) {
        k.generation = pl_room_generation(room);
        k.last_id = pl_room_last_id(room);
        int rc = pl_page_cache_queue(cache, &k, q->conn, &info);
        if (rc != 0) {
            count_cached(q, &info);
            return rc > 0 ? MHD_YES : MHD_NO;
        }
    }
    char *page = build(room, q->room_name, since, limit, q->ts, &len, &info, &k.last_id);
    if (!page) {
        pl_err_set(&err, 503, "out of memory");
        return pl_reply_error(q, &err);
    }
    pl_stat_add(&q->ts->messages_out, info.count);
    struct MHD_Response *r = pl_reply_json_response(page, len);
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(q->conn, MHD_HTTP_OK, r);
    /* Kept only if no restart came between the two reads of the room. */
    if (!cache || pl_room_generation(room) != k.generation ||
        !pl_page_cache_put(cache, &k, r, &info))
        MHD_destroy_response(r);
    return ret;
}
