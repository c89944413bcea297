/* Where the target is and what a run sends it; see target.h. The stats
 * call is a blocking libcurl easy request because it runs only between
 * measurement windows, never inside one; so does the /proc walk. */
#include "target.h"
#include "procstat.h"
#include "tls.h"
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pl_dialect pl_btarget_dialect(pl_bench_target k)
{
    return k == PL_TARGET_NCHAN          ? PL_DIALECT_NCHAN
           : k == PL_TARGET_WS_BROADCAST ? PL_DIALECT_RELAY
                                         : PL_DIALECT_PUSHLAB;
}

/* base (its trailing slashes dropped) + template with {room} replaced. */
static int expand(const char *base, const char *tmpl, const char *room, char *out, size_t len)
{
    size_t b = strlen(base);
    while (b && base[b - 1] == '/')
        b--;
    const char *at = strstr(tmpl, "{room}");
    int n =
        at ? snprintf(out, len, "%.*s%.*s%s%s", (int)b, base, (int)(at - tmpl), tmpl, room, at + 6)
           : snprintf(out, len, "%.*s%s", (int)b, base, tmpl);
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int pl_btarget_endpoint(const pl_btarget_addr *a, pl_transport t, const char *room, char *out,
                        size_t len)
{
    if (a->kind == PL_TARGET_WS_BROADCAST) /* one relay, no rooms: its URL as given */
        return snprintf(out, len, "%s", a->ws_url) < (int)len ? 0 : -ENOSPC;
    return expand(t == PL_TRANSPORT_WS ? a->ws_url : a->url, a->nchan->sub[t], room, out, len);
}

int pl_btarget_pub_url(const pl_btarget_addr *a, const char *room, char *out, size_t len)
{
    return expand(a->url, a->nchan->pub, room, out, len);
}

static int proc_stats(int pid, pl_btarget_stats *out)
{
    pl_bproc_stats p;
    if (pid <= 0)
        return -ENOENT;
    int rc = pl_bproc_sample(pid, &p);
    if (rc)
        return rc;
    out->cpu_s = p.cpu_s;
    out->rss_bytes = p.rss_bytes;
    out->pss_bytes = p.pss_bytes;
    out->pss_known = p.pss_known;
    out->processes = p.processes;
    return 0;
}

typedef struct body {
    char buf[16384];
    size_t len;
} body;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    body *b = ud;
    size_t len = sz * n;
    if (len > sizeof b->buf - 1 - b->len)
        return 0; /* larger than any stats answer: refuse */
    memcpy(b->buf + b->len, p, len);
    b->len += len;
    return len;
}

/* GET /api/stats's answer into out. */
static int parse_stats(const char *text, pl_btarget_stats *out)
{
    json_t *j = json_loads(text, 0, NULL);
    double user, sys;
    json_int_t rss;
    int rc = json_unpack(j, "{s:F, s:F, s:I}", "cpu_user_s", &user, "cpu_sys_s", &sys, "rss_bytes",
                         &rss);
    for (int t = 0; rc == 0 && t < PL_BENCH_TRANSPORTS; t++) {
        json_int_t b;
        rc = json_unpack(j, "{s:{s:{s:I}}}", "transports", pl_bench_transport_name(t), "bytes_out",
                         &b);
        out->bytes_out[t] = (uint64_t)b;
    }
    json_decref(j);
    if (rc != 0)
        return -EPROTO;
    out->cpu_s = user + sys;
    out->rss_bytes = (uint64_t)rss;
    out->processes = 1;
    out->have_bytes = true;
    return 0;
}

static int api_stats(const char *url, const pl_tls_opts *tls, pl_btarget_stats *out)
{
    char full[256];
    body *b = calloc(1, sizeof *b);
    CURL *c = curl_easy_init();
    int rc = -EIO;
    if (!b || !c)
        goto fail;
    snprintf(full, sizeof full, "%s/api/stats", url);
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    pl_btls_curl(c, tls);
    long status = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        goto fail;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    b->buf[b->len] = '\0';
    rc = status == 200 ? parse_stats(b->buf, out) : -EPROTO;
fail:
    if (c)
        curl_easy_cleanup(c);
    free(b);
    return rc;
}

/* GET /api/stats of every server of `tg` (its nodes and the publisher's,
 * each once), summed. */
static int api_stats_sum(const pl_btarget_addr *tg, const pl_tls_opts *tls, pl_btarget_stats *out)
{
    const char *urls[PL_BENCH_NODES_MAX + 1];
    int n = 0;
    urls[n++] = tg->url;
    for (int i = 1; i < tg->n_nodes; i++)
        urls[n++] = tg->node_url[i];
    if (tg->pub_url)
        urls[n++] = tg->pub_url;
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen = seen || strcmp(urls[i], urls[j]) == 0;
        pl_btarget_stats one = {0};
        int rc = seen ? 0 : api_stats(urls[i], tls, &one);
        if (rc)
            return rc;
        if (seen)
            continue;
        out->cpu_s += one.cpu_s;
        out->rss_bytes += one.rss_bytes;
        out->processes += one.processes;
        for (int t = 0; t < PL_BENCH_TRANSPORTS; t++)
            out->bytes_out[t] += one.bytes_out[t];
    }
    out->have_bytes = true;
    return 0;
}

int pl_btarget_stats_get(const pl_btarget_addr *a, const pl_tls_opts *tls, pl_btarget_stats *out)
{
    memset(out, 0, sizeof *out);
    return a->kind == PL_TARGET_PUSHLAB ? api_stats_sum(a, tls, out) : proc_stats(a->pid, out);
}
