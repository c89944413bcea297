/* The memory backend (backend.h): the local pl_store is the whole store,
 * so opening is a lookup and publishing is pl_store_publish, both done
 * before the call returns, on the caller's thread. */
#include <errno.h>
#include <stdlib.h>
#include "backend.h"

static int mem_open(pl_backend *b, const char *name, bool create, uint64_t since, pl_room **out,
                    pl_open_done done, void *ud)
{
    (void)since, (void)done, (void)ud;
    int rc = pl_store_room(b->store, name, create, out);
    return rc == -ENOENT ? 0 : rc;
}

static int mem_publish(pl_backend *b, const char *name, const pl_publish *in, pl_publish_done done,
                       void *ud)
{
    pl_room *room;
    pl_msg *m = NULL;
    bool dup = false;
    int rc = pl_store_room(b->store, name, true, &room);
    if (rc == 0)
        rc = pl_store_publish(b->store, room, in, &m, &dup);
    done(ud, rc, m, dup);
    pl_msg_unref(m);
    return 0;
}

static void mem_stop(pl_backend *b) { (void)b; }

static void mem_free(pl_backend *b) { free(b); }

static void mem_info(pl_backend *b, pl_backend_info *out)
{
    (void)b;
    *out = (pl_backend_info){.connected = true};
}

static bool mem_current(pl_backend *b, pl_room *room)
{
    (void)b, (void)room;
    return true;
}

static const pl_backend_ops memory_ops = {.open = mem_open,
                                          .publish = mem_publish,
                                          .stop = mem_stop,
                                          .free = mem_free,
                                          .info = mem_info,
                                          .current = mem_current};

pl_backend *pl_backend_memory_new(pl_store *s)
{
    pl_backend *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->ops = &memory_ops;
    b->store = s;
    b->name = "memory";
    return b;
}
