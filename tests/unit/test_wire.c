/* Specification of common/wire: TCP_INFO's counts of a real loopback
 * connection, payload only: a FIN takes a sequence number the kernel
 * counts as received, which is not a byte of the peer's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "wire.h"

/* A connected pair of TCP sockets on 127.0.0.1: *a connected, *b accepted. */
static int tcp_pair(int *a, int *b)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    *a = socket(AF_INET, SOCK_STREAM, 0);
    if (*a < 0 || connect(*a, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    *b = accept(l, NULL, NULL);
    close(l);
    return *b < 0 ? -1 : 0;
}

TEST(bytes_in_and_out_are_what_was_written)
{
    int a, b;
    pl_wire w;
    char buf[16];
    CHECK(tcp_pair(&a, &b) == 0);
    CHECK_EQ_INT(write(a, "hello", 5), 5);
    CHECK_EQ_INT(read(b, buf, sizeof buf), 5);
    CHECK_EQ_INT(pl_wire_read(a, &w), 0);
    CHECK_EQ_INT(w.out, 5);
    CHECK_EQ_INT(pl_wire_read(b, &w), 0);
    CHECK_EQ_INT(w.in, 5);
    close(a);
    close(b);
}

/* Found by the garbage test: every client that merely closed its
 * connection looked as if it had sent one byte more. */
TEST(a_fin_from_the_peer_is_not_a_byte_received)
{
    int a, b;
    pl_wire w;
    char buf[16];
    CHECK(tcp_pair(&a, &b) == 0);
    CHECK_EQ_INT(write(a, "hello", 5), 5);
    close(a);
    CHECK_EQ_INT(read(b, buf, sizeof buf), 5);
    CHECK_EQ_INT(read(b, buf, sizeof buf), 0); /* the FIN is in */
    CHECK_EQ_INT(pl_wire_read(b, &w), 0);
    CHECK_EQ_INT(w.in, 5);
    close(b);
}

TEST(a_closed_fd_reads_as_an_error_and_zeros)
{
    pl_wire w = {1, 1};
    CHECK(pl_wire_read(-1, &w) < 0);
    CHECK_EQ_INT(w.in, 0);
    CHECK_EQ_INT(w.out, 0);
}

int main(void)
{
    RUN(bytes_in_and_out_are_what_was_written);
    RUN(a_fin_from_the_peer_is_not_a_byte_received);
    RUN(a_closed_fd_reads_as_an_error_and_zeros);
    return CHECK_DONE();
}
