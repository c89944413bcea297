/* Long polling: GET /api/rooms/{room}/poll?since=CURSOR&timeout=T; the
 * server answers when a message exists or after T seconds, and we ask
 * again at once. A request outliving T + heartbeat is treated as dead. */
#include <errno.h>
#include <stdlib.h>
#include "poll_internal.h"

static void lp_done(pl_xfer *h, CURLcode rc, long status)
{
    pl_sub *s = h->ud;
    int n;
    pl_sub_enter(s);
    if (pl_poll_take_page(s, h, rc, status, &n)) {
        /* An empty page is a timeout, or a server shutting down that
         * answered its pending polls: probe before waiting again, or a
         * restarted server would hold our poll for ids it has not got. */
        if (n == 0)
            s->resync = true;
        pl_sub_schedule(s, 0);
    }
    pl_sub_leave(s);
}

static int lp_start(pl_sub *s)
{
    char *url = pl_sub_api_url(s, "poll?since=%llu&timeout=%d", (unsigned long long)s->cursor,
                               s->o.poll_timeout_s);
    /* The server answers by its timeout; past that plus a heartbeat it is gone. */
    return pl_xfer_get(&s->http, url, (long)(s->o.poll_timeout_s + s->o.heartbeat_s) * 1000L,
                       lp_done);
}

const pl_transport_ops pl_long_poll_ops = {
    .kind = PL_TRANSPORT_LONG_POLL,
    .start = lp_start,
    .stop = pl_sub_http_stop,
    .account = pl_sub_http_account,
};
