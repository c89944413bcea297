/* Server-Sent Events: one long GET /api/rooms/{room}/events whose body is
 * fed to the WHATWG parser (sse_parser.c); each `message` event's data is
 * one message. Resumes with Last-Event-ID (and since=) from the cursor;
 * a stream silent past twice the heartbeat is reopened. In a foreign
 * dialect (nchan) the GET is the endpoint, the data the message verbatim,
 * and Last-Event-ID the server's own last event id. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "client_internal.h"
#include "dialect.h"

static void on_event(void *ud, const pl_sse_parser_event *ev)
{
    pl_sub *s = ud;
    if (s->closed || !s->opened)
        return;
    if (ev->type_len != 7 || memcmp(ev->type, "message", 7) != 0)
        return;
    if (pl_dialect_foreign(s->o.dialect)) {
        /* nchan resumes from its own ids ("time:tag"): keep the last. */
        if (ev->id_len < sizeof s->resume_tag)
            memcpy(s->resume_tag, ev->id, ev->id_len + 1);
        pl_sub_deliver_raw(s, ev->data, ev->data_len);
        return;
    }
    if (s->o.lean && pl_sub_deliver_lean(s, ev->data, ev->data_len, false))
        return;
    if (pl_sub_deliver_json(s, ev->data, ev->data_len) == -EPROTO) {
        pl_client_err err;
        pl_proto_err(&err, -EPROTO, 0, "protocol", "bad SSE message: %.80s", ev->data);
        pl_sub_lost(s, &err);
    }
}

static const pl_sse_parser_callbacks parser_cb = {.on_event = on_event};

/* Body bytes: a 200 stream goes to the parser, an error body is kept for
 * the error report once the request ends. */
static bool sse_data(pl_xfer *h, const char *p, size_t n)
{
    pl_sub *s = h->ud;
    long status = h->status; /* set while streaming (xfer_stream.c), else ask libcurl */
    if (!status)
        curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return pl_xfer_collect(h, p, n) == 0;
    pl_sub_enter(s);
    pl_sub_touch(s);
    pl_sub_opened(s);
    int rc = pl_sse_parser_feed(&s->sse, p, n);
    if (rc < 0 && !s->closed && s->opened) {
        pl_client_err err;
        pl_proto_err(&err, rc, 0, "protocol", "SSE stream: %s",
                     rc == -EMSGSIZE ? "line too long" : "out of memory");
        pl_sub_lost(s, &err);
    }
    bool keep = !s->closed && s->opened;
    pl_sub_leave(s);
    return keep;
}

static void sse_done(pl_xfer *h, CURLcode rc, long status)
{
    pl_sub *s = h->ud;
    pl_client_err err;
    pl_sub_enter(s);
    if (rc == CURLE_OK && status == 200) {
        pl_proto_err(&err, -ECONNRESET, 0, "closed", "the server ended the event stream");
        pl_sub_lost(s, &err);
    } else {
        pl_sub_http_failed(s, h, rc, status);
    }
    pl_sub_leave(s);
}

static int sse_start(pl_sub *s)
{
    char hdr[160];
    bool foreign = pl_dialect_foreign(s->o.dialect);
    char *url = foreign ? strdup(s->endpoint)
                        : pl_sub_api_url(s, "events?since=%llu%s", (unsigned long long)s->cursor,
                                         pl_sub_beat_arg(s));
    if (!url)
        return -ENOMEM;
    pl_xfer_abort(&s->http); /* before its header list is replaced */
    curl_slist_free_all(s->http.headers);
    s->http.headers = curl_slist_append(NULL, "Accept: text/event-stream");
    if (foreign)
        snprintf(hdr, sizeof hdr, "Last-Event-ID: %s", s->resume_tag);
    else
        snprintf(hdr, sizeof hdr, "Last-Event-ID: %llu", (unsigned long long)s->cursor);
    if ((foreign ? s->resume_tag[0] != '\0' : s->cursor != 0) && s->http.headers)
        curl_slist_append(s->http.headers, hdr);
    curl_easy_setopt(s->http.easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(s->http.easy, CURLOPT_HTTPHEADER, s->http.headers);
    curl_easy_setopt(s->http.easy, CURLOPT_TIMEOUT_MS, 0L);
    pl_sse_parser_free(&s->sse);
    pl_sse_parser_init(&s->sse, PL_WS_FRAME_MAX, &parser_cb, s);
    s->http.data = sse_data;
    s->http.done = sse_done;
    pl_sub_watchdog_arm(s);
    int rc = pl_xfer_stream(&s->http, url); /* the stream itself, or libcurl's */
    free(url);
    return rc;
}

const pl_transport_ops pl_sse_ops = {
    .kind = PL_TRANSPORT_SSE,
    .start = sse_start,
    .stop = pl_sub_http_stop,
    .account = pl_sub_http_account,
};
