/* server/origin.c: which origin a client dialled and whether a browser's
 * Origin may open a WebSocket, behind no proxy, a --public-url and a
 * trusted reverse proxy. */
#include <errno.h>
#include "check.h"
#include "origin.h"

static const char *const allowed[] = {"http://127.0.0.1:8080", "http://localhost:8080"};
static const pl_origin_policy plain = {.allowed = allowed, .n_allowed = 2};

TEST(host_header_loses_its_port)
{
    char h[64];
    CHECK_EQ_INT(pl_origin_host("Example.org:8080", h, sizeof h), 0);
    CHECK_EQ_STR(h, "example.org");
    CHECK_EQ_INT(pl_origin_host("[::1]:8080", h, sizeof h), 0);
    CHECK_EQ_STR(h, "[::1]");
}

TEST(host_header_with_foreign_characters_is_refused)
{
    char h[64];
    CHECK_EQ_INT(pl_origin_host("evil.org/x", h, sizeof h), -EINVAL);
    CHECK_EQ_INT(pl_origin_host("a\"b", h, sizeof h), -EINVAL);
    CHECK_EQ_INT(pl_origin_host("", h, sizeof h), -EINVAL);
    CHECK_EQ_INT(pl_origin_host(NULL, h, sizeof h), -EINVAL);
    CHECK_EQ_INT(pl_origin_host("very-long-host-name.example.org", h, 8), -EINVAL);
}

TEST(public_url_keeps_scheme_host_and_port_only)
{
    char o[PL_ORIGIN_MAX];
    CHECK_EQ_INT(pl_origin_of_url("https://Chat.Example.org:8443/some/path", o, sizeof o), 0);
    CHECK_EQ_STR(o, "https://chat.example.org:8443");
    CHECK_EQ_INT(pl_origin_of_url("http://chat.example.org", o, sizeof o), 0);
    CHECK_EQ_STR(o, "http://chat.example.org");
    CHECK_EQ_INT(pl_origin_of_url("ftp://chat.example.org", o, sizeof o), -EINVAL);
    CHECK_EQ_INT(pl_origin_of_url("https://", o, sizeof o), -EINVAL);
}

TEST(a_client_without_origin_is_not_a_browser_and_passes)
{
    pl_origin_req r = {.host = "127.0.0.1:8081"};
    CHECK(pl_origin_allowed(&plain, &r));
}

TEST(only_listed_origins_pass_without_a_proxy)
{
    pl_origin_req ok = {.origin = "http://localhost:8080", .host = "localhost:8081"};
    pl_origin_req evil = {.origin = "http://evil.org", .host = "127.0.0.1:8081"};
    CHECK(pl_origin_allowed(&plain, &ok));
    CHECK(!pl_origin_allowed(&plain, &evil));
}

TEST(forwarded_headers_count_only_when_the_proxy_is_trusted)
{
    pl_origin_req r = {
        .origin = "https://chat.example.org", .host = "chat.example.org", .fwd_proto = "https"};
    CHECK(!pl_origin_allowed(&plain, &r));
    pl_origin_policy trusted = plain;
    trusted.trust_proxy = true;
    CHECK(pl_origin_allowed(&trusted, &r));
    pl_origin_req evil = r;
    evil.origin = "https://evil.org";
    CHECK(!pl_origin_allowed(&trusted, &evil));
}

TEST(forwarded_host_wins_over_host_and_lists_use_their_first_item)
{
    pl_origin_policy trusted = {.trust_proxy = true};
    pl_origin_req r = {.host = "backend:8080",
                       .fwd_proto = "https, http",
                       .fwd_host = "chat.example.org:8443, other"};
    char o[PL_ORIGIN_MAX];
    CHECK_EQ_INT(pl_origin_public(&trusted, &r, o, sizeof o), 0);
    CHECK_EQ_STR(o, "https://chat.example.org:8443");
}

TEST(public_url_origin_passes_whatever_the_headers_say)
{
    pl_origin_policy p = plain;
    p.public_origin = "https://chat.example.org";
    pl_origin_req r = {.origin = "https://chat.example.org", .host = "127.0.0.1:8081"};
    CHECK(pl_origin_allowed(&p, &r));
}

TEST(same_host_rule_accepts_the_page_under_the_host_the_browser_dialled)
{
    pl_origin_policy p = {.same_host_http_port = 8080};
    pl_origin_req lan = {.origin = "http://192.168.1.5:8080", .host = "192.168.1.5:8081"};
    pl_origin_req other_port = {.origin = "http://192.168.1.5:9999", .host = "192.168.1.5:8081"};
    CHECK(pl_origin_allowed(&p, &lan));
    CHECK(!pl_origin_allowed(&p, &other_port));
}

TEST(ws_url_follows_the_public_origin_then_the_host_then_the_bind_address)
{
    char u[PL_ORIGIN_MAX];
    pl_origin_policy pub = {.public_origin = "https://chat.example.org"};
    pl_origin_req r = {.host = "127.0.0.1:8080"};
    pl_origin_ws_url(&pub, &r, 8081, "ws://127.0.0.1:8081", u, sizeof u);
    CHECK_EQ_STR(u, "wss://chat.example.org");
    pl_origin_policy trusted = {.trust_proxy = true};
    pl_origin_req proxied = {.host = "10.0.0.1:8443", .fwd_proto = "http"};
    pl_origin_ws_url(&trusted, &proxied, 8081, "x", u, sizeof u);
    CHECK_EQ_STR(u, "ws://10.0.0.1:8443");
    pl_origin_ws_url(&plain, &r, 8081, "x", u, sizeof u);
    CHECK_EQ_STR(u, "ws://127.0.0.1:8081");
    pl_origin_req bad = {.host = "a b"};
    pl_origin_ws_url(&plain, &bad, 8081, "ws://127.0.0.1:8081", u, sizeof u);
    CHECK_EQ_STR(u, "ws://127.0.0.1:8081");
}

int main(void)
{
    RUN(host_header_loses_its_port);
    RUN(host_header_with_foreign_characters_is_refused);
    RUN(public_url_keeps_scheme_host_and_port_only);
    RUN(a_client_without_origin_is_not_a_browser_and_passes);
    RUN(only_listed_origins_pass_without_a_proxy);
    RUN(forwarded_headers_count_only_when_the_proxy_is_trusted);
    RUN(forwarded_host_wins_over_host_and_lists_use_their_first_item);
    RUN(public_url_origin_passes_whatever_the_headers_say);
    RUN(same_host_rule_accepts_the_page_under_the_host_the_browser_dialled);
    RUN(ws_url_follows_the_public_origin_then_the_host_then_the_bind_address);
    return CHECK_DONE();
}
