/* Specification of common/addr: the listen address of either family from
 * its numeric spelling, and the URL that names it. */
#include <errno.h>
#include <netinet/in.h>
#include "addr.h"
#include "check.h"

TEST(an_ipv4_address_is_a_sockaddr_in_with_its_port)
{
    pl_addr a;
    CHECK_EQ_INT(pl_addr_parse(&a, "127.0.0.1", 8080), 0);
    CHECK_EQ_INT(pl_addr_family(&a), AF_INET);
    CHECK_EQ_INT(a.len, sizeof(struct sockaddr_in));
    CHECK_EQ_INT(pl_addr_port(&a), 8080);
}

TEST(an_ipv6_address_is_a_sockaddr_in6_with_its_port)
{
    pl_addr a;
    CHECK_EQ_INT(pl_addr_parse(&a, "::1", 8081), 0);
    CHECK_EQ_INT(pl_addr_family(&a), AF_INET6);
    CHECK_EQ_INT(a.len, sizeof(struct sockaddr_in6));
    CHECK_EQ_INT(pl_addr_port(&a), 8081);
    CHECK_EQ_INT(pl_addr_parse(&a, "::", 0), 0);
    CHECK_EQ_INT(pl_addr_port(&a), 0);
}

TEST(names_brackets_and_bad_ports_are_refused)
{
    pl_addr a;
    CHECK_EQ_INT(pl_addr_parse(&a, "localhost", 80), -EINVAL);
    CHECK_EQ_INT(pl_addr_parse(&a, "[::1]", 80), -EINVAL);
    CHECK_EQ_INT(pl_addr_parse(&a, "127.0.0.1", 65536), -EINVAL);
    CHECK_EQ_INT(pl_addr_parse(&a, "127.0.0.1", -1), -EINVAL);
    CHECK_EQ_INT(pl_addr_parse(&a, NULL, 80), -EINVAL);
}

TEST(an_ipv6_host_is_bracketed_in_a_url)
{
    char url[64];
    pl_addr_url(url, sizeof url, "http", "::1", 8080);
    CHECK_EQ_STR(url, "http://[::1]:8080");
    pl_addr_url(url, sizeof url, "ws", "127.0.0.1", 8081);
    CHECK_EQ_STR(url, "ws://127.0.0.1:8081");
}

int main(void)
{
    RUN(an_ipv4_address_is_a_sockaddr_in_with_its_port);
    RUN(an_ipv6_address_is_a_sockaddr_in6_with_its_port);
    RUN(names_brackets_and_bad_ports_are_refused);
    RUN(an_ipv6_host_is_bracketed_in_a_url);
    return CHECK_DONE();
}
