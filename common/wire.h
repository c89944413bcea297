/* The one definition of wire bytes (docs/protocol.md, "Wire bytes"): what
 * the kernel's TCP_INFO says a socket has carried, read the same way by
 * the server's HTTP and WebSocket sides and by the client. No state; any
 * thread; one getsockopt() per call. */
#ifndef PL_WIRE_H
#define PL_WIRE_H
#include <stdint.h>

typedef struct pl_wire {
    /* Bytes the application handed to the socket: sent once (resends not
     * counted again) plus still queued, unsent. Rises by exactly what was
     * written, whatever the network did with it. */
    uint64_t out;
    /* Payload bytes received from the peer. */
    uint64_t in;
} pl_wire;

/* Reads `fd`'s counts into *w. Returns 0, or a negative errno (not a TCP
 * socket, closed) with *w zeroed. */
int pl_wire_read(int fd, pl_wire *w);

#endif
