/* Fuzz target: the message store (common/store.c) driven by a random
 * sequence of room lookups, publishes (with and without a cid), scans,
 * waits, cancels, next-message reads and wake-alls across a few rooms,
 * with a history and a room limit the input chooses. A plain model (every
 * id ever given, what each message held, which waiters are linked) checks
 * each answer: ids are contiguous from 1 per room, a scan starts right
 * after `since` or at the oldest id held and reports a gap exactly when a
 * message after `since` was trimmed, a repeated cid answers the message
 * stored with it, and each waiter is woken once by the next publish. */
#include <errno.h>
#include <string.h>
#include "fuzz.h"
#include "store.h"

#define ROOMS   4
#define WAITERS 4 /* per room */
#define MSGS    4096
#define CIDS    4

typedef struct model_msg {
    int cid; /* -1: none */
    unsigned text;
} model_msg;

typedef struct slot {
    pl_waiter w; /* first: the store hands this pointer back */
    int room, index;
    bool linked, refuse;
    int woken;
} slot;

typedef struct model_room {
    pl_room *r;
    uint64_t next_id;
    model_msg msgs[MSGS + 1]; /* by id */
    slot waiters[WAITERS];
} model_room;

typedef struct model {
    pl_store *s;
    size_t history, max_rooms, nrooms;
    uint64_t published;
    unsigned texts;
    model_room rooms[ROOMS];
    int hooks;
    uint64_t hook_id;
    pl_room *hook_room;
} model;

static model M;
static const char *const names[ROOMS] = {"r0", "r1", "r2", "r3"};
static const char *const cids[CIDS] = {"a", "b", "c", "d"};

static uint64_t oldest(const model_room *mr)
{
    uint64_t count = mr->next_id - 1 < M.history ? mr->next_id - 1 : M.history;
    return mr->next_id - count;
}

static bool park(pl_waiter *w)
{
    slot *sl = (slot *)w;
    FUZZ_CHECK(w->room == M.rooms[sl->room].r);
    return !sl->refuse;
}

static void wake(pl_waiter *w)
{
    slot *sl = (slot *)w;
    FUZZ_CHECK(sl->linked && w->room == NULL); /* unlinked before it is woken */
    sl->linked = false;
    sl->woken++;
}

static void hook(void *ud, pl_room *room, const pl_msg *m)
{
    (void)ud;
    M.hooks++;
    M.hook_room = room;
    M.hook_id = m->id;
}

/* The message `id` of room `ri` is the one the model recorded. */
static void check_msg(int ri, const pl_msg *m)
{
    const model_msg *mm = &M.rooms[ri].msgs[m->id];
    char text[16];
    snprintf(text, sizeof text, "t%u", mm->text);
    json_t *o = json_loadb(m->json, m->json_len, 0, NULL);
    FUZZ_CHECK(o && json_integer_value(json_object_get(o, "id")) == (json_int_t)m->id);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "room")), names[ri]) == 0);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "text")), text) == 0);
    const char *cid = json_string_value(json_object_get(o, "cid"));
    FUZZ_CHECK(mm->cid < 0 ? !cid && !m->cid : cid && strcmp(cid, cids[mm->cid]) == 0);
    json_decref(o);
}

/* A room the model knows exists, or -1. */
static int existing(int ri) { return M.rooms[ri].r ? ri : -1; }

static void op_room(int ri, bool create)
{
    pl_room *r = NULL;
    int rc = pl_store_room(M.s, names[ri], create, &r);
    model_room *mr = &M.rooms[ri];
    if (mr->r) {
        FUZZ_CHECK(rc == 0 && r == mr->r);
    } else if (!create) {
        FUZZ_CHECK(rc == -ENOENT && r == NULL);
    } else if (M.nrooms == M.max_rooms) {
        FUZZ_CHECK(rc == -ENOSPC);
    } else {
        FUZZ_CHECK(rc == 0 && r && strcmp(pl_room_name(r), names[ri]) == 0);
        mr->r = r;
        mr->next_id = 1;
        M.nrooms++;
    }
    FUZZ_CHECK(pl_store_room_count(M.s) == M.nrooms);
}

static void op_publish(int ri, int cid)
{
    model_room *mr = &M.rooms[ri];
    if (mr->next_id > MSGS)
        return;
    char text[16];
    snprintf(text, sizeof text, "t%u", M.texts);
    pl_publish in = {.user = "u", .user_len = 1, .text = text, .text_len = strlen(text)};
    if (cid >= 0) {
        in.cid = cids[cid];
        in.cid_len = 1;
    }
    /* The model's answer: a cid still held answers the message stored with it. */
    uint64_t dup_of = 0;
    for (uint64_t id = oldest(mr); cid >= 0 && id < mr->next_id; id++)
        if (mr->msgs[id].cid == cid)
            dup_of = id;
    int hooks = M.hooks;
    pl_msg *m = NULL;
    bool dup = true;
    FUZZ_CHECK(pl_store_publish(M.s, mr->r, &in, &m, &dup) == 0 && m);
    if (dup_of) {
        FUZZ_CHECK(dup && m->id == dup_of && M.hooks == hooks);
        check_msg(ri, m);
    } else {
        FUZZ_CHECK(!dup && m->id == mr->next_id);
        mr->msgs[m->id] = (model_msg){.cid = cid, .text = M.texts++};
        mr->next_id++;
        M.published++;
        FUZZ_CHECK(M.hooks == hooks + 1 && M.hook_room == mr->r && M.hook_id == m->id);
        for (int i = 0; i < WAITERS; i++)
            FUZZ_CHECK(!mr->waiters[i].linked); /* every one was woken */
        check_msg(ri, m);
    }
    FUZZ_CHECK(pl_store_published(M.s) == M.published);
    pl_msg_unref(m);
}

typedef struct scan_ctx {
    int ri;
    uint64_t expect; /* the id the next visit must have */
    size_t stop_after, seen;
} scan_ctx;

static bool visit(void *ud, const pl_msg *m)
{
    scan_ctx *c = ud;
    if (c->seen == c->stop_after)
        return false;
    FUZZ_CHECK(m->id == c->expect);
    check_msg(c->ri, m);
    c->expect++;
    c->seen++;
    return true;
}

/* The first id after `since` that is still held (none after the last
 * possible id). */
static uint64_t first_after(const model_room *mr, uint64_t since)
{
    uint64_t o = oldest(mr);
    if (since == UINT64_MAX)
        return UINT64_MAX;
    return since >= o ? since + 1 : o;
}

static void op_scan(int ri, uint64_t since, size_t limit, size_t stop_after)
{
    model_room *mr = &M.rooms[ri];
    uint64_t first = first_after(mr, since);
    uint64_t avail = first < mr->next_id ? mr->next_id - first : 0;
    size_t want = avail < limit ? (size_t)avail : limit;
    if (want > stop_after)
        want = stop_after;
    scan_ctx c = {.ri = ri, .expect = first, .stop_after = stop_after};
    pl_scan info;
    size_t n = pl_room_scan(mr->r, since, limit, visit, &c, &info);
    FUZZ_CHECK(n == want && c.seen == want);
    FUZZ_CHECK(info.last_id == mr->next_id - 1);
    FUZZ_CHECK(info.oldest_id == (mr->next_id > 1 ? oldest(mr) : 0));
    /* A gap: some id in (since, oldest) was published and trimmed. */
    FUZZ_CHECK(info.gap == (oldest(mr) > 1 && since < oldest(mr) - 1));
}

static void op_next(int ri, uint64_t since)
{
    model_room *mr = &M.rooms[ri];
    uint64_t first = first_after(mr, since);
    bool gap = true;
    pl_msg *m = pl_room_next(mr->r, since, &gap);
    FUZZ_CHECK(gap == (oldest(mr) > 1 && since < oldest(mr) - 1));
    if (first < mr->next_id) {
        FUZZ_CHECK(m && m->id == first);
        check_msg(ri, m);
    } else {
        FUZZ_CHECK(!m);
    }
    pl_msg_unref(m);
}

static void op_wait(int ri, int wi, uint64_t since, bool refuse)
{
    model_room *mr = &M.rooms[ri];
    slot *sl = &mr->waiters[wi];
    if (sl->linked)
        return; /* linking a waiter twice is not allowed */
    sl->room = ri;
    sl->index = wi;
    sl->w.park = park;
    sl->w.wake = wake;
    sl->refuse = refuse;
    bool none_after = first_after(mr, since) >= mr->next_id;
    bool waiting = pl_room_wait(mr->r, since, &sl->w);
    FUZZ_CHECK(waiting == (none_after && !refuse));
    FUZZ_CHECK(waiting ? sl->w.room == mr->r : sl->w.room == NULL);
    sl->linked = waiting;
}

static void op_cancel(int ri, int wi)
{
    slot *sl = &M.rooms[ri].waiters[wi];
    if (!sl->w.park)
        return; /* never set up */
    int woken = sl->woken;
    FUZZ_CHECK(pl_waiter_cancel(M.rooms[ri].r, &sl->w) == sl->linked);
    FUZZ_CHECK(sl->woken == woken && sl->w.room == NULL);
    sl->linked = false;
}

static void op_wake_all(void)
{
    pl_store_wake_all(M.s);
    for (int ri = 0; ri < ROOMS; ri++)
        for (int wi = 0; wi < WAITERS; wi++)
            FUZZ_CHECK(!M.rooms[ri].waiters[wi].linked);
}

/* A `since` near the interesting places: around the oldest and newest
 * ids, or far past them. */
static uint64_t pick_since(fuzz_in *in, const model_room *mr)
{
    uint8_t b = fuzz_u8(in);
    switch (b >> 6) {
    case 0: return b & 63;
    case 1: return oldest(mr) + (b & 7) > 4 ? oldest(mr) + (b & 7) - 4 : 0;
    case 2: return mr->next_id + (b & 7) > 5 ? mr->next_id + (b & 7) - 5 : 0;
    default: return (b & 1) ? PL_INT_MAX : UINT64_MAX - (b & 3);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    memset(&M, 0, sizeof M);
    M.history = 1 + (fuzz_u8(&in) & 7);
    M.max_rooms = 1 + (fuzz_u8(&in) & 3);
    M.s = pl_store_new(M.history, M.max_rooms);
    FUZZ_CHECK(M.s && pl_store_history(M.s) == M.history);
    FUZZ_CHECK(pl_store_add_hook(M.s, hook, NULL) == 0);
    while (in.n) {
        uint8_t op = fuzz_u8(&in);
        int ri = op & 3, r = existing(ri);
        model_room *mr = &M.rooms[ri];
        switch ((op >> 2) % 8) {
        case 0: op_room(ri, true); break;
        case 1: op_room(ri, false); break;
        case 2:
        case 3: {
            int c = fuzz_u8(&in);
            if (r >= 0)
                op_publish(ri, c & 4 ? -1 : c & 3);
            break;
        }
        case 4: {
            uint64_t since = pick_since(&in, mr);
            size_t limit = fuzz_u8(&in) & 15, stop = fuzz_u8(&in) & 15;
            if (r >= 0)
                op_scan(ri, since, limit, stop == 15 ? SIZE_MAX : stop);
            break;
        }
        case 5: {
            uint64_t since = pick_since(&in, mr);
            uint8_t w = fuzz_u8(&in);
            if (r >= 0)
                op_wait(ri, w & 3, since, w & 4);
            break;
        }
        case 6: {
            uint8_t w = fuzz_u8(&in);
            if (r >= 0)
                op_cancel(ri, w & 3);
            break;
        }
        default:
            if (op & 0x80) {
                op_wake_all();
            } else if (r >= 0) {
                op_next(ri, pick_since(&in, mr));
            }
            break;
        }
    }
    /* Every id ever given, read back in one scan per room. */
    for (int ri = 0; ri < ROOMS; ri++)
        if (M.rooms[ri].r)
            op_scan(ri, 0, SIZE_MAX, SIZE_MAX);
    op_wake_all();
    pl_store_free(M.s);
    return 0;
}
