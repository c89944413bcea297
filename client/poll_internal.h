/* What short and long polling share on the client: taking a page answer
 * (a failure reported to the core, the page's messages delivered). Calls
 * sub.c's events and proto.c; owns nothing. Loop thread only. */
#ifndef PL_POLL_INTERNAL_H
#define PL_POLL_INTERNAL_H
#include "client_internal.h"

/* A polling answer: a failed request is reported (false); a page is
 * delivered and true returned with the number of messages in *delivered
 * (-ECANCELED: the sub was closed meanwhile). A body that is no page is
 * reported as a lost connection (false). */
bool pl_poll_take_page(pl_sub *s, pl_xfer *h, CURLcode rc, long status, int *delivered);

#endif
