/* A streamed GET (SSE) read off the socket libcurl connected; see xfer.h.
 * libcurl's transfer machinery cost the bench's SSE subscribers a quarter
 * of their CPU (perf), with a poll() per read (strace); so for plain
 * http:// libcurl connects (source address, timeouts as for any request)
 * and this file sends the request and reads the answer itself with
 * recv()/send() on that socket (pl_xfer_recv), the head and any chunking
 * decoded by http-parser. */
#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "proxy_internal.h"
#include "xfer.h"

#define READ_CHUNK 16384

typedef struct stream {
    ev_io io;
    pl_xfer *h;
    http_parser hp;
    pl_buf req; /* the request's bytes, req_off of them sent */
    size_t req_off;
    bool complete; /* the answer ended (chunked end, or EOF) */
    bool refused;  /* h->data said stop */
    unsigned run;  /* bumped by stop: a callback aborted or restarted us */
} stream;

static stream *stream_of(pl_xfer *h) { return h->takeover_state; }

/* Ends the run as libcurl would have: out of the multi, then done. */
static void finish(pl_xfer *h, CURLcode rc)
{
    long status = h->status;
    pl_xfer_abort(h);
    h->status = status;
    h->done(h, rc, status);
}

static int on_head(http_parser *hp)
{
    stream *st = hp->data;
    st->h->status = hp->status_code;
    return 0;
}

static int on_body(http_parser *hp, const char *p, size_t n)
{
    stream *st = hp->data;
    pl_xfer *h = st->h;
    unsigned run = st->run;
    if (h->status != 200)
        return pl_xfer_collect(h, p, n) == 0 ? 0 : -1;
    if (!h->data(h, p, n) || st->run != run) {
        st->refused = true;
        return -1;
    }
    return 0;
}

static int on_end(http_parser *hp)
{
    ((stream *)hp->data)->complete = true;
    return -1; /* nothing after the answer is read */
}

static const http_parser_settings parser_settings = {
    .on_headers_complete = on_head,
    .on_body = on_body,
    .on_message_complete = on_end,
};

/* Feeds `n` bytes (0: the server closed); false once the run is over. */
static bool feed(stream *st, const char *p, size_t n)
{
    pl_xfer *h = st->h;
    unsigned run = st->run;
    http_parser_execute(&st->hp, &parser_settings, p, n);
    if (st->run != run)
        return false; /* a callback stopped or restarted the transfer */
    if (st->refused) {
        finish(h, CURLE_WRITE_ERROR);
        return false;
    }
    if (st->complete) {
        finish(h, CURLE_OK);
        return false;
    }
    enum http_errno e = HTTP_PARSER_ERRNO(&st->hp);
    if (e == HPE_OK && n > 0)
        return true;
    if (e == HPE_OK || e == HPE_INVALID_EOF_STATE) {
        snprintf(h->errbuf, sizeof h->errbuf, "the server closed the connection %s",
                 h->status ? "within an answer" : "before answering");
        finish(h, h->status ? CURLE_PARTIAL_FILE : CURLE_GOT_NOTHING);
    } else {
        snprintf(h->errbuf, sizeof h->errbuf, "bad HTTP answer: %s", http_errno_description(e));
        finish(h, CURLE_WEIRD_SERVER_REPLY);
    }
    return false;
}

/* Sends what is left of the request; false when the run is over. */
static bool send_rest(stream *st)
{
    while (st->req_off < st->req.len) {
        size_t n = 0;
        CURLcode rc = pl_xfer_send(st->h, st->req.p + st->req_off, st->req.len - st->req_off, &n);
        if (rc == CURLE_AGAIN)
            return true;
        if (rc != CURLE_OK) {
            finish(st->h, rc);
            return false;
        }
        st->req_off += n;
    }
    return true;
}

static void on_io(struct ev_loop *ev, ev_io *w, int revents)
{
    stream *st = (stream *)(void *)w;
    char buf[READ_CHUNK];
    if (st->req_off < st->req.len) {
        if (!send_rest(st))
            return;
        if (st->req_off < st->req.len)
            return;
        ev_io_stop(ev, w);
        ev_io_set(w, w->fd, EV_READ);
        ev_io_start(ev, w);
    }
    if (!(revents & EV_READ))
        return;
    for (;;) {
        size_t n = 0;
        CURLcode rc = pl_xfer_recv(st->h, buf, sizeof buf, &n);
        if (rc == CURLE_AGAIN)
            return;
        if (rc != CURLE_OK) {
            finish(st->h, rc);
            return;
        }
        if (!feed(st, buf, n))
            return;
        /* A short read emptied the socket; epoll says when more comes. */
        if (n < sizeof buf)
            return;
    }
}

static void connected(pl_xfer *h)
{
    stream *st = stream_of(h);
    int fd = pl_xfer_take_socket(h);
    if (fd < 0) {
        finish(h, CURLE_COULDNT_CONNECT);
        return;
    }
    http_parser_init(&st->hp, HTTP_RESPONSE);
    st->hp.data = st;
    st->complete = st->refused = false;
    st->req_off = 0;
    ev_io_init(&st->io, on_io, fd, EV_READ | EV_WRITE);
    ev_io_start(h->loop->ev, &st->io);
}

static void stop(pl_xfer *h)
{
    stream *st = stream_of(h);
    st->run++;
    ev_io_stop(h->loop->ev, &st->io);
}

static void stream_free(pl_xfer *h)
{
    stream *st = stream_of(h);
    pl_buf_free(&st->req);
    free(st);
    h->takeover_state = NULL;
}

static const pl_xfer_takeover stream_ops = {
    .connected = connected,
    .stop = stop,
    .free = stream_free,
};

/* Appends the five parts and a CRLF. Returns 0 or pl_buf_append's code. */
static int append_line(pl_buf *b, const char *a, const char *c, const char *d, const char *e,
                       const char *f)
{
    const char *parts[] = {a, c, d, e, f, "\r\n"};
    int rc = 0;
    for (size_t i = 0; i < sizeof parts / sizeof *parts && rc == 0; i++)
        rc = pl_buf_append(b, parts[i], strlen(parts[i]));
    return rc;
}

/* "GET path?query HTTP/1.1", Host, then h->headers; -EINVAL for a header
 * that would split the request. */
static int build_request(stream *st, CURLU *u, const struct curl_slist *headers)
{
    char *path = NULL, *query = NULL, *host = NULL, *port = NULL;
    int rc = -EINVAL;
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) || curl_url_get(u, CURLUPART_HOST, &host, 0))
        goto fail;
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_PORT, &port, 0); /* none when the scheme's own */
    pl_buf_clear(&st->req);
    rc = append_line(&st->req, "GET ", path, query ? "?" : "", query ? query : "", " HTTP/1.1");
    if (rc == 0)
        rc = append_line(&st->req, "Host: ", host, port ? ":" : "", port ? port : "", "");
    for (const struct curl_slist *l = headers; l && rc == 0; l = l->next)
        rc = strpbrk(l->data, "\r\n") ? -EINVAL : append_line(&st->req, l->data, "", "", "", "");
    if (rc == 0)
        rc = pl_buf_append(&st->req, "\r\n", 2);
fail:
    curl_free(path), curl_free(query), curl_free(host), curl_free(port);
    return rc;
}

/* Whether the stream is libcurl's to read after all: over TLS, where it
 * may speak HTTP/2 (ALPN) and holds decrypted bytes epoll cannot see, and
 * through a proxy, where a connect-only run would tunnel (CONNECT) instead
 * of forwarding the GET. */
static bool libcurls(CURLU *u, const char *scheme)
{
    char *host = NULL;
    bool p = strcmp(scheme, "http") != 0 || curl_url_get(u, CURLUPART_HOST, &host, 0) ||
             *pl_proxy_for(host, false) || getenv("all_proxy") || getenv("ALL_PROXY");
    curl_free(host);
    return p;
}

int pl_xfer_stream(pl_xfer *h, const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int rc = -ENOMEM;
    if (!u)
        return -ENOMEM;
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    if (curl_url_set(u, CURLUPART_URL, url, 0) || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) {
        rc = pl_xfer_start(h); /* libcurl says what is wrong with it */
        goto out;
    }
    if (libcurls(u, scheme)) {
        rc = pl_xfer_start(h);
        goto out;
    }
    stream *st = pl_xfer_takeover_of(h, &stream_ops);
    if (!st && (st = calloc(1, sizeof *st))) {
        st->h = h;
        pl_buf_init(&st->req, 512, 64 * 1024);
        h->takeover = &stream_ops; /* stream_free releases it, even unused */
        h->takeover_state = st;
    }
    if (!st)
        goto out;
    if ((rc = build_request(st, u, h->headers)) == 0)
        rc = pl_xfer_start_connect_only(h, &stream_ops, st);
out:
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}
