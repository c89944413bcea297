/* Byte accounting per socket; see acct.h. While the loop is being freed
 * nothing is charged: the counters die with their subscriptions, and the
 * sockets libcurl closes during cleanup must not touch them. */
#include "acct.h"
#include <stdlib.h>
#include <string.h>
#include "wire.h"

typedef struct slot {
    pl_sub_counters *owner;
    uint64_t rx_seen, tx_seen;
} slot;

struct pl_acct_table {
    pl_loop_part part;
    pl_loop *loop;
    slot *slots; /* indexed by fd */
    size_t len;
};

static void table_free(pl_loop_part *p)
{
    struct pl_acct_table *t = pl_list_entry(p, struct pl_acct_table, part);
    t->loop->acct = NULL;
    free(t->slots);
    free(t);
}

/* The slot of `fd`, growing the table (made on first use) to hold it. */
static slot *slot_of(pl_loop *l, int fd)
{
    struct pl_acct_table *t = l->acct;
    if (fd < 0 || l->tearing_down)
        return NULL;
    if (!t) {
        if (!(t = l->acct = calloc(1, sizeof *t)))
            return NULL;
        t->loop = l;
        t->part.free = table_free;
        pl_loop_own(l, &t->part, PL_STAGE_TABLES);
    }
    if ((size_t)fd >= t->len) {
        size_t n = t->len ? t->len : 1024;
        while (n <= (size_t)fd)
            n *= 2;
        slot *a = realloc(t->slots, n * sizeof *a);
        if (!a)
            return NULL;
        memset(a + t->len, 0, (n - t->len) * sizeof *a);
        t->slots = a;
        t->len = n;
    }
    return &t->slots[fd];
}

void pl_acct_take(pl_loop *l, int fd, pl_sub_counters *c)
{
    slot *a = slot_of(l, fd);
    pl_wire w;
    if (!a)
        return;
    if (c)
        a->owner = c;
    if (pl_wire_read(fd, &w) != 0)
        return;
    if (a->owner) {
        a->owner->wire_rx += w.in - a->rx_seen;
        a->owner->wire_tx += w.out - a->tx_seen;
    }
    a->rx_seen = w.in;
    a->tx_seen = w.out;
}

void pl_acct_open(pl_loop *l, int fd, pl_sub_counters *c)
{
    slot *a = slot_of(l, fd);
    if (!a)
        return;
    a->owner = c;
    a->rx_seen = a->tx_seen = 0;
    if (c)
        c->tcp_connects++;
}

void pl_acct_disown(pl_loop *l, int fd, pl_sub_counters *c)
{
    struct pl_acct_table *t = l->acct;
    if (t && fd >= 0 && (size_t)fd < t->len && t->slots[fd].owner == c)
        t->slots[fd].owner = NULL;
}

void pl_acct_close(pl_loop *l, int fd)
{
    pl_acct_take(l, fd, NULL);
    slot *a = slot_of(l, fd);
    if (a)
        a->owner = NULL;
}
