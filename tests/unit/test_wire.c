/* Specification of common/wire: TCP_INFO's counts of a real loopback
 * connection, payload only: a FIN takes a sequence number the kernel
 * counts as received, which is not a byte of the peer's. */
#include <unistd.h>
#include "check.h"
#include "tcp_pair.h"
#include "wire.h"

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
