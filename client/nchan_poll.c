/* nchan's polling subscribers (PL_DIALECT_NCHAN): a GET of the endpoint
 * with If-Modified-Since and If-None-Match set from the last answer's
 * Last-Modified and Etag, which is how nchan walks a channel's messages.
 * A 200 carries one message, verbatim, and the next GET goes at once.
 * Interval polling answers 304 when nothing is newer (the next GET after
 * interval_ms); long polling holds the GET until a message comes, or
 * until nchan's subscriber timeout (304 or 408), or ours (poll_timeout_s:
 * nchan's default holds a poll for ever), and is asked again at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "client_internal.h"

/* Copies header `name` of the finished answer into out. True when the
 * header was there and fitted. */
static bool header(pl_xfer *h, const char *name, char *out, size_t len)
{
    struct curl_header *v;
    if (curl_easy_header(h->easy, name, 0, CURLH_HEADER, -1, &v) != CURLHE_OK)
        return false;
    return snprintf(out, len, "%s", v->value) < (int)len;
}

/* A 200: its message, after remembering where the next one starts.
 * Returns false when the sub was closed or the answer is no nchan's. */
static bool take(pl_sub *s, pl_xfer *h)
{
    pl_client_err err;
    pl_sub_opened(s);
    if (!header(h, "Last-Modified", s->resume_time, sizeof s->resume_time) ||
        !header(h, "Etag", s->resume_tag, sizeof s->resume_tag)) {
        /* Without them the same message would come back for ever. */
        pl_proto_err(&err, -EPROTO, 0, "protocol",
                     "a poll answer without Last-Modified and Etag: not nchan?");
        pl_sub_fatal(s, &err);
        return false;
    }
    return pl_sub_deliver_raw(s, pl_xfer_body(h), h->body.len) == 0;
}

static void poll_done(pl_xfer *h, CURLcode rc, long status)
{
    pl_sub *s = h->ud;
    bool interval = s->ops == &pl_nchan_interval_ops;
    if (status < 0)
        return;
    pl_sub_enter(s);
    if (rc == CURLE_OK && status == 200) {
        if (take(s, h))
            pl_sub_schedule(s, 0);
    } else if (rc == CURLE_OK && (status == 304 || (status == 408 && !interval))) {
        pl_sub_opened(s);
        pl_sub_schedule(s, interval ? s->o.interval_ms : 0);
    } else if (rc == CURLE_OPERATION_TIMEDOUT && !interval && h->connected && !status) {
        pl_sub_schedule(s, 0); /* held past our timeout: nothing came, ask again */
    } else {
        pl_sub_http_failed(s, h, rc, status);
    }
    pl_sub_leave(s);
}

/* Appends "Name: value" to the sub's header list when value is set. */
static void add_header(pl_sub *s, const char *name, const char *value)
{
    char line[200];
    if (!value[0] || snprintf(line, sizeof line, "%s: %s", name, value) >= (int)sizeof line)
        return;
    struct curl_slist *l = curl_slist_append(s->http.headers, line);
    if (l)
        s->http.headers = l;
}

static int start(pl_sub *s, long timeout_ms)
{
    pl_xfer_abort(&s->http); /* before its header list is replaced */
    curl_slist_free_all(s->http.headers);
    s->http.headers = NULL;
    add_header(s, "If-Modified-Since", s->resume_time);
    add_header(s, "If-None-Match", s->resume_tag);
    curl_easy_setopt(s->http.easy, CURLOPT_URL, s->endpoint);
    curl_easy_setopt(s->http.easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(s->http.easy, CURLOPT_HTTPHEADER, s->http.headers);
    curl_easy_setopt(s->http.easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    s->http.data = NULL;
    s->http.done = poll_done;
    return pl_xfer_start(&s->http);
}

static int interval_start(pl_sub *s) { return start(s, 10000L); }

static int long_start(pl_sub *s) { return start(s, (long)s->o.poll_timeout_s * 1000L); }

const pl_transport_ops pl_nchan_interval_ops = {
    .kind = PL_TRANSPORT_SHORT_POLL,
    .start = interval_start,
    .stop = pl_sub_http_stop,
    .account = pl_sub_http_account,
};

const pl_transport_ops pl_nchan_long_poll_ops = {
    .kind = PL_TRANSPORT_LONG_POLL,
    .start = long_start,
    .stop = pl_sub_http_stop,
    .account = pl_sub_http_account,
};
