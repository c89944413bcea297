/* Which table serves which transport in which dialect, and what a
 * foreign dialect's options must hold; see dialect.h. nchan's polling has
 * its own tables (nchan_poll.c); its SSE and WebSocket, and a relay's
 * WebSocket, are sse.c's and ws.c's, which read the dialect themselves. */
#include "dialect.h"
#include <errno.h>
#include <string.h>
#include "client_internal.h"
#include "url.h"
#include "validate.h"

const pl_transport_ops *pl_dialect_ops(pl_dialect d, pl_transport t)
{
    switch (t) {
    case PL_TRANSPORT_SHORT_POLL:
        return d == PL_DIALECT_NCHAN ? &pl_nchan_interval_ops : &pl_short_poll_ops;
    case PL_TRANSPORT_LONG_POLL:
        return d == PL_DIALECT_NCHAN ? &pl_nchan_long_poll_ops : &pl_long_poll_ops;
    case PL_TRANSPORT_SSE: return &pl_sse_ops;
    default: return &pl_ws_ops;
    }
}

int pl_dialect_check(const pl_sub_opts *o)
{
    if (o->dialect != PL_DIALECT_NCHAN && o->dialect != PL_DIALECT_RELAY)
        return -EINVAL;
    if ((unsigned)o->transport >= PL_TRANSPORT_AUTO)
        return -EINVAL; /* auto would need four endpoints */
    if (o->dialect == PL_DIALECT_RELAY && o->transport != PL_TRANSPORT_WS)
        return -EINVAL;
    bool ws = o->transport == PL_TRANSPORT_WS;
    if (!pl_url_scheme_ok(o->endpoint, ws ? "ws" : "http", ws ? "wss" : "https") ||
        !pl_url_has_host(o->endpoint))
        return -EINVAL;
    if (o->room && !pl_valid_room(o->room, strlen(o->room)))
        return -EINVAL;
    return 0;
}
