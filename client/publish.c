/* Publishing over HTTP (POST /api/rooms/{room}/messages with libcurl on
 * the loop) and fetching GET /api/config. Each request owns its state and
 * frees it after its one completion callback. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "client_internal.h"
#include "validate.h"

typedef struct pub_req {
    pl_http http; /* first: the done callback gets &http */
    char *body;
    pl_publish_fn fn;
    pl_config_fn cfg_fn;
    void *ud;
} pub_req;

static void req_free(pub_req *r)
{
    pl_http_cleanup(&r->http);
    free(r->body);
    free(r);
}

static void pub_done(pl_http *h, CURLcode rc, long status)
{
    pub_req *r = (pub_req *)h;
    pl_client_err err;
    uint64_t id = 0;
    if (status >= 0) {
        if (rc == CURLE_OK && (status == 200 || status == 201)) {
            json_t *root = json_loadb(pl_http_body(h), h->body.len, 0, NULL);
            json_t *jid = json_object_get(root, "id");
            if (json_is_integer(jid)) {
                id = (uint64_t)json_integer_value(jid);
                pl_err_fill(&err, 0, (int)status, "", "ok");
            } else {
                pl_err_fill(&err, -EPROTO, (int)status, "protocol", "reply has no id");
            }
            json_decref(root);
        } else {
            pl_http_error(h, rc, status, &err);
        }
        r->fn(r->ud, id, status == 200, &err);
    }
    req_free(r);
}

json_t *pl_pub_json(const pl_pub_msg *m, const char *type)
{
    json_t *o = json_pack("{s:s, s:s}", "user", m->user, "text", m->text);
    if (!o)
        return NULL;
    if (type)
        json_object_set_new(o, "type", json_string(type));
    if (m->cid)
        json_object_set_new(o, "cid", json_string(m->cid));
    if (m->meta_json) {
        json_t *meta = json_loads(m->meta_json, 0, NULL);
        if (!json_is_object(meta)) {
            json_decref(meta);
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "meta", meta);
    }
    return o;
}

static char *publish_body(const pl_pub_msg *m)
{
    json_t *o = pl_pub_json(m, NULL);
    char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return out;
}

static bool base_url_ok(const char *url)
{
    return url && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0);
}

static char *join_url(const char *base, const char *tail)
{
    size_t n = strlen(base);
    char *out;
    while (n && base[n - 1] == '/')
        n--;
    return asprintf(&out, "%.*s%s", (int)n, base, tail) < 0 ? NULL : out;
}

static pub_req *req_new(pl_loop *l, const char *url, const char *source_addr)
{
    pub_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (pl_http_init(&r->http, l, NULL, source_addr) != 0) {
        free(r);
        return NULL;
    }
    curl_easy_setopt(r->http.easy, CURLOPT_URL, url);
    return r;
}

int pl_publish_http(pl_loop *l, const char *url, const char *room, const pl_pub_msg *m,
                    const pl_pub_opts *po, pl_publish_fn fn, void *ud)
{
    char tail[128], *full;
    if (!base_url_ok(url) || !room || !pl_valid_room(room, strlen(room)) || !m || !m->user ||
        !m->text || !fn)
        return -EINVAL;
    snprintf(tail, sizeof tail, "/api/rooms/%s/messages", room);
    if (!(full = join_url(url, tail)))
        return -ENOMEM;
    pub_req *r = req_new(l, full, po ? po->source_addr : NULL);
    free(full);
    if (!r)
        return -ENOMEM;
    if (!(r->body = publish_body(m))) {
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
    int rc = pl_http_start(&r->http);
    if (rc)
        req_free(r);
    return rc;
}

static void config_done(pl_http *h, CURLcode rc, long status)
{
    pub_req *r = (pub_req *)h;
    pl_client_err err;
    if (status >= 0) {
        if (rc == CURLE_OK && status == 200) {
            json_t *root = json_loadb(pl_http_body(h), h->body.len, 0, NULL);
            const char *u = json_string_value(json_object_get(root, "ws_url"));
            pl_err_fill(&err, u ? 0 : -EPROTO, 0, u ? "" : "protocol", "%s",
                        u ? "ok" : "no ws_url in /api/config");
            r->cfg_fn(r->ud, u, &err);
            json_decref(root);
        } else {
            pl_http_error(h, rc, status, &err);
            r->cfg_fn(r->ud, NULL, &err);
        }
    }
    req_free(r);
}

int pl_fetch_config(pl_loop *l, const char *url, pl_config_fn fn, void *ud)
{
    if (!base_url_ok(url) || !fn)
        return -EINVAL;
    char *full = join_url(url, "/api/config");
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
    int rc = pl_http_start(&r->http);
    if (rc)
        req_free(r);
    return rc;
}
