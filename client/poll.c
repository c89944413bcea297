/* Taking a polling page; see poll_internal.h. The page's head goes through the
 * cursor rule first (a restarted server, "new only" positioning), then
 * each message, in order, until the subscription is closed. */
#include "poll_internal.h"
#include <errno.h>

/* opts.lean: the page scanned, not parsed. Returns what handle_page
 * does, or -EAGAIN when the scan cannot read the page or one of its
 * messages (checked before any is delivered): the full parse then says
 * what is wrong. */
static int lean_page(pl_sub *s, const char *body, size_t len)
{
    uint64_t last_id, id;
    pl_jspan msgs, m;
    const char *at = NULL, *meta;
    size_t meta_len;
    int rc, n = 0;
    if (pl_proto_lean_page(body, len, &last_id, &msgs) != 0)
        return -EAGAIN;
    while ((rc = pl_jscan_next(msgs, &at, &m)) == 1)
        if (pl_proto_lean_message(m.p, m.n, false, &id, &meta, &meta_len) != 0)
            return -EAGAIN;
    if (rc < 0)
        return -EAGAIN;
    if (!pl_sub_page_head(s, last_id))
        return 0;
    for (at = NULL; pl_jscan_next(msgs, &at, &m) == 1 && !s->closed; n++)
        pl_sub_deliver_lean(s, m.p, m.n, false);
    return n;
}

/* Delivers the messages of a page body. Returns how many were delivered
 * (the count so far when the sub was closed meanwhile), or -EPROTO for a
 * body that is no page or an element that is no message. */
static int handle_page(pl_sub *s, const char *body, size_t len)
{
    pl_proto_page p;
    int n = s->o.lean ? lean_page(s, body, len) : -EAGAIN;
    if (n != -EAGAIN)
        return n;
    n = 0;
    if (pl_proto_page_parse(body, len, &p) != 0)
        return -EPROTO;
    if (pl_sub_page_head(s, p.last_id)) {
        size_t i;
        json_t *m;
        json_array_foreach(p.messages, i, m)
        {
            int rc = pl_sub_deliver_obj(s, m);
            if (rc == -ECANCELED)
                break;
            if (rc < 0) {
                n = rc;
                break;
            }
            n++;
        }
    }
    pl_proto_page_free(&p);
    return n;
}

bool pl_poll_take_page(pl_sub *s, pl_xfer *h, CURLcode rc, long status, int *delivered)
{
    pl_client_err err;
    if (rc != CURLE_OK || status != 200) {
        pl_sub_http_failed(s, h, rc, status);
        return false;
    }
    pl_sub_opened(s);
    int n = handle_page(s, pl_xfer_body(h), h->body.len);
    if (n < 0 && n != -ECANCELED) {
        pl_proto_err(&err, -EPROTO, 0, "protocol", "not a page: %.80s", pl_xfer_body(h));
        pl_sub_lost(s, &err);
        return false;
    }
    *delivered = n;
    return true;
}
