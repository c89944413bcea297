/* Short polling: GET /api/rooms/{room}/messages?since=CURSOR every
 * interval; a full page is followed at once by the next one. The one
 * keep-alive connection is reused across polls. */
#include <errno.h>
#include <stdlib.h>
#include "poll_internal.h"
#include "validate.h"

static void sp_done(pl_xfer *h, CURLcode rc, long status)
{
    pl_sub *s = h->ud;
    uint64_t before = pl_sub_cursor(s);
    int n;
    pl_sub_enter(s);
    /* A full page means more is waiting, a cursor that went back means a
     * restart to resume from: both ask again at once. */
    if (pl_poll_take_page(s, h, rc, status, &n))
        pl_sub_schedule(s, n >= PL_LIMIT_MAX || pl_sub_cursor(s) < before ? 0 : s->o.interval_ms);
    pl_sub_leave(s);
}

static int sp_start(pl_sub *s)
{
    char *url = pl_sub_api_url(s, "messages?since=%llu&limit=%d", (unsigned long long)s->cursor,
                               PL_LIMIT_MAX);
    return pl_xfer_get(&s->http, url, 10000L, sp_done);
}

const pl_transport_ops pl_short_poll_ops = {
    .kind = PL_TRANSPORT_SHORT_POLL,
    .start = sp_start,
    .stop = pl_sub_http_stop,
    .account = pl_sub_http_account,
};
