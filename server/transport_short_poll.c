/* Short polling: GET /api/rooms/{room}/messages?since=&limit= answers at
 * once with a page of what the room holds after `since`. Exports
 * pl_short_poll_handler; the page itself is page.c's. */
#include "page.h"
#include "reply.h"
#include "server.h"

static enum MHD_Result sp_answer(pl_req *q)
{
    return pl_page_answer(q, q->room, q->u.sp.since, q->u.sp.limit);
}

static enum MHD_Result sp_start(pl_req *q)
{
    pl_server *srv = q->srv;
    pl_err err;

    q->ts = &srv->stats.short_poll;
    pl_stat_add(&q->ts->requests, 1);
    if (pl_page_query(q, &q->u.sp.since, &q->u.sp.limit, &err))
        return pl_reply_error(q, &err);
    /* Reading never creates a room: a typo'd name costs no memory. */
    return pl_req_open_room(q, false, q->u.sp.since, sp_answer);
}

const pl_handler pl_short_poll_handler = {
    .stats_ep = PL_SEP_SHORT_POLL, .room = true, .start = sp_start};
