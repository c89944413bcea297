/* The long-poll front's head check; see poll_head.h. It is strict on
 * purpose: whatever it turns down is served by MHD exactly as before, so
 * being narrow costs speed, never behaviour. */
#include "poll_head.h"
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "route.h"

#define TARGET_MAX 512

static bool has_token(const char *v, size_t n, const char *tok)
{
    size_t k = strlen(tok);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(v + i, tok, k) == 0)
            return true;
    return false;
}

/* One header line (no CRLF): 1 fine, 0 hand over; sets *host. */
static int header(const char *l, size_t n, bool *host)
{
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l || l[0] == ' ' || l[0] == '\t')
        return 0;
    size_t k = (size_t)(colon - l);
    const char *v = colon + 1;
    size_t vn = n - k - 1;
#define IS(name) (k == sizeof name - 1 && strncasecmp(l, name, k) == 0)
    if (IS("Host"))
        *host = true;
    else if (IS("Content-Length") || IS("Transfer-Encoding") || IS("Expect") || IS("Upgrade"))
        return 0;
    else if (IS("Connection") && (has_token(v, vn, "close") || has_token(v, vn, "upgrade")))
        return 0;
#undef IS
    return 1;
}

/* The query's since, limit and timeout, as the poll handler reads them. */
static int query(char *q, pl_poll_head *h)
{
    bool got_since = false, got_limit = false, got_timeout = false;
    h->since = 0;
    h->limit = PL_LIMIT_DEFAULT;
    h->timeout = PL_TIMEOUT_DEFAULT;
    if (strpbrk(q, "%+"))
        return 0;
    for (char *arg = q; arg && *arg;) {
        char *amp = strchr(arg, '&');
        if (amp)
            *amp = '\0';
        if (pl_route_uint_arg(arg, "since", &h->since, &got_since) ||
            pl_route_uint_arg(arg, "limit", &h->limit, &got_limit) ||
            pl_route_uint_arg(arg, "timeout", &h->timeout, &got_timeout))
            return 0;
        arg = amp ? amp + 1 : NULL;
    }
    if (h->limit > PL_LIMIT_MAX)
        h->limit = PL_LIMIT_MAX;
    if (h->timeout > PL_TIMEOUT_MAX)
        h->timeout = PL_TIMEOUT_MAX;
    return 1;
}

/* "GET <target> HTTP/1.1": the path routes to a poll, the query reads. */
static int request_line(const char *l, size_t n, pl_poll_head *h)
{
    static const char tail[] = " HTTP/1.1";
    size_t tn = sizeof tail - 1;
    if (n < 4 + tn || memcmp(l, "GET ", 4) != 0 || memcmp(l + n - tn, tail, tn) != 0)
        return 0;
    size_t len = n - 4 - tn;
    char target[TARGET_MAX];
    if (len == 0 || len >= sizeof target || memchr(l + 4, ' ', len))
        return 0;
    memcpy(target, l + 4, len);
    target[len] = '\0';
    char *qm = strchr(target, '?');
    if (qm)
        *qm = '\0';
    if (strchr(target, '%'))
        return 0;
    pl_route_match m;
    pl_route_match_url("GET", target, &m);
    if (m.ep != PL_EP_LONG_POLL && m.ep != PL_EP_SHORT_POLL)
        return 0;
    h->longp = m.ep == PL_EP_LONG_POLL;
    memcpy(h->room, m.room, sizeof h->room);
    return query(qm ? qm + 1 : target + len, h);
}

int pl_poll_head_parse(const char *buf, size_t n, pl_poll_head *h)
{
    if (n > PL_POLL_HEAD_MAX)
        n = PL_POLL_HEAD_MAX;
    const char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (!end || memchr(buf, '\0', (size_t)(end - buf)))
        return 0;
    const char *eol = memmem(buf, (size_t)(end - buf) + 2, "\r\n", 2);
    if (!request_line(buf, (size_t)(eol - buf), h))
        return 0;
    bool host = false;
    for (const char *l = eol + 2; l < end + 2;) {
        const char *e = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);
        if (!header(l, (size_t)(e - l), &host))
            return 0;
        l = e + 2;
    }
    if (!host)
        return 0;
    h->len = (size_t)(end - buf) + 4;
    return 1;
}
