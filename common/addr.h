/* The server's listen address: a numeric IPv4 or IPv6 address and a
 * port as one sockaddr, and the URL that names it (IPv6 in brackets).
 * Pure functions; any thread. */
#ifndef PL_ADDR_H
#define PL_ADDR_H
#include <stddef.h>
#include <sys/socket.h>

typedef struct pl_addr {
    struct sockaddr_storage ss; /* sockaddr_in or sockaddr_in6 */
    socklen_t len;              /* of that one */
} pl_addr;

/* Fills *a from `host` ("127.0.0.1", "0.0.0.0", "::1", "::"; no names,
 * no brackets) and `port` (0 to 65535). Returns 0 or -EINVAL. */
int pl_addr_parse(pl_addr *a, const char *host, int port);
/* AF_INET or AF_INET6. */
int pl_addr_family(const pl_addr *a);
/* The port in *a (as getsockname filled it, say). */
int pl_addr_port(const pl_addr *a);
/* "scheme://host:port" into `out`, an IPv6 host in brackets. Returns the
 * length it wanted, as snprintf does. */
int pl_addr_url(char *out, size_t cap, const char *scheme, const char *host, int port);

#endif
