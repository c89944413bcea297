/* Publishing over HTTP (POST /api/rooms/{room}/messages) and fetching
 * GET /api/config, each a transfer (xfer.c) with its JSON from proto.c.
 * Each request owns its state and frees it after its one completion
 * callback (or when the loop is freed first). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto.h"
#include "url.h"
#include "xfer.h"
#include "validate.h"

typedef struct pub_req {
    pl_xfer http; /* first: the done callback gets &http */
    char *body;
    pl_publish_fn fn;
    pl_config_fn cfg_fn;
    void *ud;
} pub_req;

static void req_free(pub_req *r)
{
    pl_xfer_cleanup(&r->http);
    free(r->body);
    free(r);
}

static void pub_done(pl_xfer *h, CURLcode rc, long status)
{
    pub_req *r = (pub_req *)h;
    pl_client_err err;
    uint64_t id = 0;
    if (status >= 0) {
        if (rc == CURLE_OK && (status == 200 || status == 201)) {
            if (pl_proto_publish_id(pl_xfer_body(h), h->body.len, &id) == 0)
                pl_proto_err(&err, 0, (int)status, "", "ok");
            else
                pl_proto_err(&err, -EPROTO, (int)status, "protocol", "reply has no id");
        } else {
            pl_xfer_error(h, rc, status, &err);
        }
        r->fn(r->ud, id, status == 200, &err);
    }
    req_free(r);
}

static pub_req *req_new(pl_loop *l, const char *url, const char *source_addr)
{
    pub_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (pl_xfer_init(&r->http, l, NULL, source_addr) != 0) {
        free(r);
        return NULL;
    }
    curl_easy_setopt(r->http.easy, CURLOPT_URL, url);
    return r;
}

int pl_publish_http(pl_loop *l, const char *url, const char *room, const pl_pub_msg *m,
                    const pl_pub_opts *po, pl_publish_fn fn, void *ud)
{
    char *full;
    if (!pl_url_scheme_ok(url, "http", "https") || !room || !pl_valid_room(room, strlen(room)) ||
        !m || !m->user || !m->text || !fn)
        return -EINVAL;
    if (!(full = pl_url_join(url, "/api/rooms/%s/messages", room)))
        return -ENOMEM;
    pub_req *r = req_new(l, full, po ? po->source_addr : NULL);
    free(full);
    if (!r)
        return -ENOMEM;
    size_t len;
    if (!(r->body = pl_proto_publish_text(m, NULL, 0, &len))) {
        req_free(r);
        return -EINVAL;
    }
    r->fn = fn;
    r->ud = ud;
    r->http.done = pub_done;
    r->http.headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(r->http.easy, CURLOPT_HTTPHEADER, r->http.headers);
    curl_easy_setopt(r->http.easy, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(r->http.easy, CURLOPT_TIMEOUT_MS,
                     (long)(po && po->timeout_ms > 0 ? po->timeout_ms : 10000));
    int rc = pl_xfer_start(&r->http);
    if (rc)
        req_free(r);
    return rc;
}

static void config_done(pl_xfer *h, CURLcode rc, long status)
{
    pub_req *r = (pub_req *)h;
    pl_client_err err;
    if (status >= 0) {
        if (rc == CURLE_OK && status == 200) {
            char *u = pl_proto_ws_url(pl_xfer_body(h), h->body.len);
            pl_proto_err(&err, u ? 0 : -EPROTO, 0, u ? "" : "protocol", "%s",
                         u ? "ok" : "no ws_url in /api/config");
            r->cfg_fn(r->ud, u, &err);
            free(u);
        } else {
            pl_xfer_error(h, rc, status, &err);
            r->cfg_fn(r->ud, NULL, &err);
        }
    }
    req_free(r);
}

int pl_fetch_config(pl_loop *l, const char *url, pl_config_fn fn, void *ud)
{
    if (!pl_url_scheme_ok(url, "http", "https") || !fn)
        return -EINVAL;
    char *full = pl_url_join(url, "/api/config");
    if (!full)
        return -ENOMEM;
    pub_req *r = req_new(l, full, NULL);
    free(full);
    if (!r)
        return -ENOMEM;
    r->cfg_fn = fn;
    r->ud = ud;
    r->http.done = config_done;
    curl_easy_setopt(r->http.easy, CURLOPT_TIMEOUT_MS, 10000L);
    int rc = pl_xfer_start(&r->http);
    if (rc)
        req_free(r);
    return rc;
}
