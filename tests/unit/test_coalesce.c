/* Specification of common/coalesce on a real loopback connection: Nagle
 * comes on while the peer leaves our bytes unacknowledged and goes off
 * once it has read them all, looked at on the first write and every
 * PL_COALESCE_EVERY-th. A peer that does not read is made certain by a
 * receive buffer smaller than what is written: the window closes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <time.h>
#include "check.h"
#include "coalesce.h"
#include "tcp_pair.h"

static int nodelay_of(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    return v;
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Waits up to 2 s for the peer's ACK of everything `fd` sent. */
static int all_acked(int fd)
{
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 2000; i++) {
        int q = -1;
        if (ioctl(fd, SIOCOUTQ, &q) == 0 && q == 0)
            return 1;
        nanosleep(&ms, NULL);
    }
    return 0;
}

/* Writes until the socket takes no more: the peer's window is full. */
static size_t fill(int fd)
{
    static char chunk[4096];
    size_t total = 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (;;) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n < 0)
            return errno == EAGAIN ? total : 0;
        total += (size_t)n;
    }
}

/* Reads `n` bytes, or fewer when the peer has stopped. */
static size_t drain(int fd, size_t n)
{
    char buf[65536];
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* A pair whose connecting end `a` has TCP_NODELAY, as the server's have,
 * and `b` a 4 KB window. Returns 0 or -1. */
static int nodelay_pair(int *a, int *b)
{
    if (tcp_pair_sized(a, b, 4096) != 0)
        return -1;
    set_nodelay(*a);
    return 0;
}

/* The same, with `b` not reading what fills its window: what was written
 * (0 on failure). */
static size_t behind_pair(int *a, int *b) { return nodelay_pair(a, b) == 0 ? fill(*a) : 0; }

TEST(a_peer_that_has_read_everything_keeps_every_write_immediate)
{
    int a, b;
    pl_coalesce c = {0};
    char buf[8];
    CHECK(nodelay_pair(&a, &b) == 0);
    CHECK_EQ_INT(write(a, "hello", 5), 5);
    CHECK_EQ_INT(read(b, buf, sizeof buf), 5);
    CHECK(all_acked(a));
    CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 0);
    CHECK(!c.on);
    CHECK_EQ_INT(nodelay_of(a), 1);
    close(a);
    close(b);
}

TEST(a_peer_that_has_not_read_what_it_was_sent_gets_nagle)
{
    int a, b;
    pl_coalesce c = {0};
    CHECK(behind_pair(&a, &b) > 0);
    CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 1);
    CHECK(c.on);
    CHECK_EQ_INT(nodelay_of(a), 0);
    CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 0); /* still behind */
    CHECK(c.on);
    close(a);
    close(b);
}

/* Between two looks the socket is not touched, whatever the peer does. */
TEST(the_socket_is_looked_at_once_every_few_writes)
{
    int a, b;
    pl_coalesce c = {0};
    CHECK(nodelay_pair(&a, &b) == 0);
    CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 0); /* caught up: the first look */
    CHECK(fill(a) > 0);
    for (int i = 1; i < PL_COALESCE_EVERY; i++)
        CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 0);
    CHECK_EQ_INT(nodelay_of(a), 1);
    CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 1); /* the next look */
    CHECK_EQ_INT(nodelay_of(a), 0);
    close(a);
    close(b);
}

/* A reply the peer waits on goes at once, whatever Nagle was holding. */
TEST(a_push_turns_nodelay_back_on_while_the_peer_is_behind)
{
    int a, b;
    pl_coalesce c = {0};
    CHECK(behind_pair(&a, &b) > 0);
    CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 1);
    CHECK_EQ_INT(pl_coalesce_push(a, &c), 0);
    CHECK(!c.on);
    CHECK_EQ_INT(nodelay_of(a), 1);
    close(a);
    close(b);
}

TEST(a_peer_that_catches_up_gets_nodelay_back)
{
    int a, b;
    pl_coalesce c = {0};
    size_t sent = behind_pair(&a, &b);
    CHECK(sent > 0);
    CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 1);
    CHECK_EQ_INT(drain(b, sent), sent);
    CHECK(all_acked(a));
    c.writes = 0; /* skip to the next look */
    CHECK_EQ_INT(pl_coalesce_before_write(a, &c), 0);
    CHECK(!c.on);
    CHECK_EQ_INT(nodelay_of(a), 1);
    close(a);
    close(b);
}

TEST(a_socket_that_is_not_open_is_an_error_and_changes_nothing)
{
    pl_coalesce c = {.on = true};
    CHECK(pl_coalesce_before_write(-1, &c) < 0);
    CHECK(c.on);
}

int main(void)
{
    RUN(a_peer_that_has_read_everything_keeps_every_write_immediate);
    RUN(a_peer_that_has_not_read_what_it_was_sent_gets_nagle);
    RUN(a_peer_that_catches_up_gets_nodelay_back);
    RUN(the_socket_is_looked_at_once_every_few_writes);
    RUN(a_push_turns_nodelay_back_on_while_the_peer_is_behind);
    RUN(a_socket_that_is_not_open_is_an_error_and_changes_nothing);
    return CHECK_DONE();
}
