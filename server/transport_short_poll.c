/* Short polling: GET /api/rooms/{room}/messages?since=&limit= answers at
 * once with a page of what the room holds after `since`. Exports
 * pl_short_poll_handler; the page itself is page.c's. */
#include "page.h"
#include "reply.h"
#include "server.h"

static enum MHD_Result sp_start(pl_req *q)
{
    pl_server *srv = q->srv;
    pl_err err;
    uint64_t since;
    size_t limit;
    pl_room *room = NULL;

    q->ts = &srv->stats.short_poll;
    pl_stat_add(&q->ts->requests, 1);
    if (pl_page_query(q, &since, &limit, &err))
        return pl_reply_error(q, &err);
    /* Reading never creates a room: a typo'd name costs no memory. */
    pl_store_room(srv->store, q->room_name, false, &room);
    return pl_page_answer(q, room, since, limit);
}

const pl_handler pl_short_poll_handler = {
    .stats_ep = PL_SEP_SHORT_POLL, .room = true, .start = sp_start};
