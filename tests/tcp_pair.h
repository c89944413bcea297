/* A connected pair of TCP sockets on 127.0.0.1 for the unit tests that
 * need a real kernel connection: *a connected, *b accepted. With rcvbuf
 * > 0, the accepted end's receive buffer is that small (set on the
 * listener, so the window is sized from the start). Returns 0 or -1. */
#ifndef PL_TESTS_TCP_PAIR_H
#define PL_TESTS_TCP_PAIR_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int tcp_pair_sized(int *a, int *b, int rcvbuf)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || (rcvbuf > 0 && setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf)) ||
        bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    *a = socket(AF_INET, SOCK_STREAM, 0);
    if (*a < 0 || connect(*a, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    *b = accept(l, NULL, NULL);
    close(l);
    return *b < 0 ? -1 : 0;
}

static inline int tcp_pair(int *a, int *b) { return tcp_pair_sized(a, b, 0); }

#endif
