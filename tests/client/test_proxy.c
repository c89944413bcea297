/* Specification of the $no_proxy reading the WebSocket transport shares
 * with libcurl: which hosts bypass $http_proxy. */
#include <stdlib.h>
#include "check.h"
#include "proxy_internal.h"

TEST(a_listed_host_or_address_bypasses_the_proxy)
{
    CHECK(pl_proxy_bypassed("127.0.0.2", "127.0.0.2,127.0.0.1,localhost"));
    CHECK(pl_proxy_bypassed("localhost", " 127.0.0.1 , localhost "));
    CHECK(!pl_proxy_bypassed("127.0.0.3", "127.0.0.2,127.0.0.1"));
}

TEST(a_domain_covers_the_names_below_it_only)
{
    CHECK(pl_proxy_bypassed("chat.example.org", "example.org"));
    CHECK(pl_proxy_bypassed("chat.example.org", ".example.org"));
    CHECK(!pl_proxy_bypassed("badexample.org", "example.org"));
    CHECK(!pl_proxy_bypassed("example.org", "chat.example.org"));
}

TEST(a_star_bypasses_every_host_and_an_empty_list_none)
{
    CHECK(pl_proxy_bypassed("anything", "*"));
    CHECK(!pl_proxy_bypassed("localhost", ""));
    CHECK(!pl_proxy_bypassed("localhost", NULL));
    CHECK(!pl_proxy_bypassed("localhost", ",,"));
}

TEST(the_proxy_for_a_host_follows_the_environment)
{
    setenv("http_proxy", "http://proxy.example:3128", 1);
    setenv("no_proxy", "127.0.0.1", 1);
    CHECK_EQ_STR(pl_proxy_for("127.0.0.1", false), "");
    CHECK_EQ_STR(pl_proxy_for("10.0.0.5", false), "http://proxy.example:3128");
    CHECK_EQ_STR(pl_proxy_for("10.0.0.5", true), "");
    setenv("HTTPS_PROXY", "http://tls-proxy.example:3128", 1);
    CHECK_EQ_STR(pl_proxy_for("10.0.0.5", true), "http://tls-proxy.example:3128");
    unsetenv("HTTPS_PROXY");
    unsetenv("no_proxy");
    setenv("NO_PROXY", "10.0.0.5", 1);
    CHECK_EQ_STR(pl_proxy_for("10.0.0.5", false), "");
    unsetenv("NO_PROXY");
    unsetenv("http_proxy");
    CHECK_EQ_STR(pl_proxy_for("192.0.2.1", false), "");
}

int main(void)
{
    RUN(a_listed_host_or_address_bypasses_the_proxy);
    RUN(a_domain_covers_the_names_below_it_only);
    RUN(a_star_bypasses_every_host_and_an_empty_list_none);
    RUN(the_proxy_for_a_host_follows_the_environment);
    return CHECK_DONE();
}
