/* The page of messages after a cursor, as short and long polling answer
 * it; see page.h. The page is written straight from the stored messages'
 * JSON under the room's lock, so a poll copies bytes and parses nothing. */
#include "page.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "clock.h"
#include "reply.h"
#include "server.h"

/* The page being written; `failed` latches an allocation failure. */
typedef struct page_buf {
    pl_buf b;
    bool failed;
    pl_transport_stats *ts; /* each message served is timed here */
    int64_t now_us;
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
    if (!b->failed)
        pl_stats_delivered(b->ts, m->ts, b->now_us);
    return !b->failed;
}

char *pl_page_build(pl_room *room, const char *name, uint64_t since, size_t limit,
                    pl_transport_stats *ts, size_t *len, size_t *count)
{
    page_buf b = {.b = {.first = 1024}, .ts = ts, .now_us = pl_clock_real_us()};
    pl_scan info = {0};
    char head[PL_ROOM_MAX + 32], tail[128];
    int n = snprintf(head, sizeof head, "{\"room\":\"%s\",\"messages\":[", name);
    put(&b, head, (size_t)n);
    *count = room ? pl_room_scan(room, since, limit, visit, &b, &info) : 0;
    n = snprintf(tail, sizeof tail,
                 "],\"last_id\":%" PRIu64 ",\"oldest_id\":%" PRIu64 ",\"gap\":%s}", info.last_id,
                 info.oldest_id, info.gap ? "true" : "false");
    if (info.gap && *count)
        pl_stat_add(&ts->gaps, 1);
    put(&b, tail, (size_t)n);
    if (b.failed) {
        pl_buf_free(&b.b);
        return NULL;
    }
    *len = b.b.len;
    return pl_buf_take(&b.b);
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

enum MHD_Result pl_page_answer(pl_req *q, pl_room *room, uint64_t since, size_t limit)
{
    pl_err err;
    size_t len, count;
    char *page = pl_page_build(room, q->room_name, since, limit, q->ts, &len, &count);
    if (!page) {
        pl_err_set(&err, 503, "out of memory");
        return pl_reply_error(q, &err);
    }
    pl_stat_add(&q->ts->messages_out, count);
    return pl_reply_json(q, 200, page, len);
}
