/* What a connect-only run's takeover (xfer_stream.c, ws_plain.c) uses of
 * its pl_xfer: the socket libcurl connected, plain recv()/send() on it,
 * and whose takeover state the handle holds; see xfer.h. Loop thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "acct.h"
#include "xfer.h"

int pl_xfer_take_socket(pl_xfer *h)
{
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(h->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD)
        return -1;
    if (h->fd != fd) { /* charge the socket's bytes to this subscription from now */
        if (h->fd >= 0)
            pl_acct_take(h->loop, h->fd, h->ctr);
        h->fd = fd;
        pl_acct_take(h->loop, fd, h->ctr);
    }
    if (!h->connected && h->ctr) /* a connect-only run sends no request of libcurl's */
        h->ctr->http_requests++;
    h->connected = true;
    return fd;
}

CURLcode pl_xfer_recv(pl_xfer *h, void *buf, size_t n, size_t *got)
{
    ssize_t r = recv(h->fd, buf, n, 0);
    *got = r > 0 ? (size_t)r : 0;
    if (r >= 0)
        return CURLE_OK;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return CURLE_AGAIN;
    snprintf(h->errbuf, sizeof h->errbuf, "%s", strerror(errno));
    return CURLE_RECV_ERROR;
}

CURLcode pl_xfer_send(pl_xfer *h, const void *buf, size_t n, size_t *sent)
{
    ssize_t r = send(h->fd, buf, n, MSG_NOSIGNAL);
    *sent = r > 0 ? (size_t)r : 0;
    if (r >= 0)
        return CURLE_OK;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return CURLE_AGAIN;
    snprintf(h->errbuf, sizeof h->errbuf, "%s", strerror(errno));
    return CURLE_SEND_ERROR;
}

void *pl_xfer_takeover_of(pl_xfer *h, const pl_xfer_takeover *ops)
{
    if (h->takeover == ops)
        return h->takeover_state;
    pl_xfer_abort(h);
    if (h->takeover && h->takeover->free)
        h->takeover->free(h);
    h->takeover = NULL;
    h->takeover_state = NULL;
    return NULL;
}
