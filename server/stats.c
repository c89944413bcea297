/* Counters for GET /api/stats; see stats.h. Process CPU and memory are read
 * when asked, so keeping them costs nothing. */
#include "stats.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "clock.h"

static const struct {
    int status;
    const char *key;
} kinds[PL_ERR_KINDS] = {
    [PL_ERR_400] = {400, "400"},
    [PL_ERR_403] = {403, "403"},
    [PL_ERR_404] = {404, "404"},
    [PL_ERR_405] = {405, "405"},
    [PL_ERR_413] = {413, "413"},
    [PL_ERR_415] = {415, "415"},
    [PL_ERR_429] = {429, "429"},
    [PL_ERR_503] = {503, "503"},
    [PL_ERR_WS_FRAME] = {0, "ws_frame"},
    [PL_ERR_HTTP_BAD_HEAD] = {0, "http_bad_head"},
    [PL_ERR_HTTP_INCOMPLETE] = {0, "http_incomplete"},
    [PL_ERR_HTTP_TIMEOUT] = {0, "http_timeout"},
    [PL_ERR_WS_BAD_HANDSHAKE] = {0, "ws_bad_handshake"},
    [PL_ERR_WS_ABNORMAL] = {0, "ws_abnormal_close"},
};

const double pl_delivery_bounds_s[PL_DELIVERY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

void pl_stats_delivered(pl_transport_stats *t, int64_t stored_us, int64_t now_us)
{
    /* The same bounds in microseconds, so a delivery costs no division. */
    static const int64_t bound_us[PL_DELIVERY_BUCKETS] = {
        100,   250,    500,    1000,   2500,    5000,    10000,   25000,
        50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
    };
    int64_t d = now_us > stored_us ? now_us - stored_us : 0;
    int i = 0;
    while (i < PL_DELIVERY_BUCKETS && d > bound_us[i])
        i++;
    pl_stat_add(&t->delivery.bucket[i], 1);
    pl_stat_add(&t->delivery.sum_us, (uint64_t)d);
    pl_stat_add(&t->delivery.count, 1);
}

int pl_stats_err_status(int kind, const char **key)
{
    *key = kinds[kind].key;
    return kinds[kind].status;
}

void pl_stats_count_status_at(pl_stats *st, enum pl_stats_ep ep, int status)
{
    for (int i = 0; i < PL_ERR_KINDS; i++) {
        if (kinds[i].status == status) {
            pl_stat_add(&st->errors[i], 1);
            pl_stat_add(&st->errors_at[ep][i], 1);
            return;
        }
    }
}

long pl_stats_rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static json_t *transport_json(pl_transport_stats *t, const char *shape)
{
    json_t *o = json_object();
    /* `shape` lists which counters this transport reports, in order. */
    for (const char *k = shape; *k; k++) {
        switch (*k) {
        case 'r': json_object_set_new(o, "requests", json_integer((json_int_t)t->requests)); break;
        case 'c':
            json_object_set_new(o, "connections", json_integer((json_int_t)t->connections));
            break;
        case 'w': json_object_set_new(o, "waiting", json_integer((json_int_t)t->waiting)); break;
        case 'm':
            json_object_set_new(o, "messages_out", json_integer((json_int_t)t->messages_out));
            break;
        case 'b':
            json_object_set_new(o, "bytes_out", json_integer((json_int_t)t->bytes_out));
            break;
        case 'i':
            json_object_set_new(o, "messages_in", json_integer((json_int_t)t->messages_in));
            break;
        case 'd':
            json_object_set_new(o, "slow_consumers_dropped",
                                json_integer((json_int_t)t->slow_consumers_dropped));
            break;
        case 'n':
            json_object_set_new(o, "coalesced", json_integer((json_int_t)t->coalesced));
            break;
        }
    }
    return o;
}

/* Which store the rooms live in, and how a shared one is doing. */
static json_t *store_json(const pl_backend_info *b, const char *name)
{
    json_t *o = json_pack("{s:s,s:b}", "backend", name, "connected", b->connected);
    if (o && b->shared) {
        json_object_set_new(o, "syncs", json_integer((json_int_t)b->syncs));
        json_object_set_new(o, "fetched", json_integer((json_int_t)b->fetched));
        json_object_set_new(o, "restarts", json_integer((json_int_t)b->restarts));
    }
    return o;
}

char *pl_stats_json(pl_stats *st, size_t rooms, uint64_t published, const char *backend,
                    const pl_backend_info *store, size_t *len)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    json_t *errors = json_object();
    for (int i = 0; i < PL_ERR_KINDS; i++)
        json_object_set_new(errors, kinds[i].key, json_integer((json_int_t)st->errors[i]));
    json_t *o =
        json_pack("{s:f,s:I,s:I,s:f,s:f,s:I,s:{s:o,s:o,s:o,s:o},s:o}", "uptime_s",
                  (double)(pl_clock_mono_us() - st->started_mono_us) / 1e6, "rooms",
                  (json_int_t)rooms, "messages_published", (json_int_t)published, "cpu_user_s",
                  ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, "cpu_sys_s",
                  ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, "rss_bytes",
                  (json_int_t)pl_stats_rss_bytes(), "transports", "short_poll",
                  transport_json(&st->short_poll, "rmb"), "long_poll",
                  transport_json(&st->long_poll, "rwmb"), "sse", transport_json(&st->sse, "crmbdn"),
                  "ws", transport_json(&st->ws, "cmbidn"), "errors", errors);
    if (o)
        json_object_set_new(o, "store", store_json(store, backend));
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s)
        *len = strlen(s);
    return s;
}
