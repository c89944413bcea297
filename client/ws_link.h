/* What a WebSocket link tells the subscription that owns it (ws.c): one
 * table of events, and the ways a link ends. Two links implement it:
 * ws_plain.c on a socket libcurl connected (ws:// with no proxy) and
 * ws_lws.c on libwebsockets (wss://, proxies). Loop thread only. */
#ifndef PL_WS_LINK_H
#define PL_WS_LINK_H
#include <stdbool.h>
#include <stddef.h>

typedef enum pl_ws_link_end_kind {
    PL_WS_LINK_NO_CONNECTION, /* no TCP connection: os_errno, and why */
    PL_WS_LINK_UNTRUSTED,     /* the server's certificate is not trusted: why */
    PL_WS_LINK_ANSWERED,      /* an HTTP answer other than 101: status */
    PL_WS_LINK_CUT,           /* the connection ended before the answer's head: why */
    PL_WS_LINK_BAD_HANDSHAKE, /* bad HTTP, or a 101 that is not ours: why */
    PL_WS_LINK_CLOSED,        /* once open: a close frame (close_code), EOF or a reset */
    PL_WS_LINK_BROKEN,        /* once open: a frame no server may send: why */
    PL_WS_LINK_TOO_BIG,       /* once open: a frame over the bound */
} pl_ws_link_end_kind;

typedef struct pl_ws_link_end {
    pl_ws_link_end_kind kind;
    int os_errno;    /* NO_CONNECTION: connect()'s or bind()'s errno, else 0 */
    unsigned status; /* ANSWERED */
    int close_code;  /* CLOSED: the server's close code, 0 when none */
    const char *why; /* a detail, or NULL */
} pl_ws_link_end;

/* `ud` is the one given when the link was opened. An event may stop the
 * link; nothing of the link's runs for its owner after that. */
typedef struct pl_ws_link_events {
    /* The server's 101 checked out; `fd` is the socket. */
    void (*opened)(void *ud, int fd);
    /* A data frame's payload; `whole` when it ends its message. */
    void (*data)(void *ud, const char *p, size_t n, bool whole);
    /* The turn asked for: a frame may be sent now. */
    void (*writable)(void *ud);
    /* The link is over; nothing follows. */
    void (*ended)(void *ud, const pl_ws_link_end *e);
} pl_ws_link_events;

#endif
