/* Listen addresses of either family; see addr.h. inet_pton decides the
 * family, so "::1" and "127.0.0.1" need no flag of their own. */
#include "addr.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int pl_addr_parse(pl_addr *a, const char *host, int port)
{
    memset(a, 0, sizeof *a);
    if (!host || port < 0 || port > 65535)
        return -EINVAL;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        a->len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        a->len = sizeof *v6;
        return 0;
    }
    return -EINVAL;
}

int pl_addr_family(const pl_addr *a) { return a->ss.ss_family; }

int pl_addr_port(const pl_addr *a)
{
    if (a->ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

int pl_addr_url(char *out, size_t cap, const char *scheme, const char *host, int port)
{
    const char *fmt = strchr(host, ':') ? "%s://[%s]:%d" : "%s://%s:%d";
    return snprintf(out, cap, fmt, scheme, host, port);
}
