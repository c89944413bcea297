/* Which local addresses the bench's subscriptions connect from. A local
 * address has one ephemeral port range; every socket already on it (any
 * state, TIME_WAIT of an earlier run included) holds one of those ports.
 * The plan counts them in /proc/net/tcp, gives each address only what is
 * free, and retires an address the kernel says is out of ports
 * (EADDRNOTAVAIL, EADDRINUSE). Plain data, used from the bench's thread. */
#ifndef PL_BENCH_SRCADDR_H
#define PL_BENCH_SRCADDR_H
#include <stdbool.h>
#include <stdint.h>
#include "opts.h"

#define PL_SRC_MAX 250

/* One candidate address. */
typedef struct pl_src {
    char addr[16];  /* dotted quad */
    bool bind;      /* false: the kernel picks it (127.0.0.1 to a loopback server) */
    int free_ports; /* ephemeral ports no socket on it held when planned */
    int capacity;   /* subscriptions it may take: free_ports less the reserve */
    int assigned;   /* subscriptions given to it */
    bool full;      /* the kernel refused a port on it: no more */
    char why[128];  /* why it is full */
} pl_src;

typedef struct pl_srcplan {
    pl_src a[PL_SRC_MAX];
    int n;          /* candidates */
    bool spread;    /* --source-addrs given: round robin, else fill in order */
    int next;       /* round-robin position */
    int port_range; /* size of net.ipv4.ip_local_port_range */
    int last_full;  /* the candidate retired last, -1: none */
} pl_srcplan;

/* Ports kept free on every address for the publisher, stats requests and
 * whatever else the machine connects meanwhile: 5 % of the range plus
 * this many (1,427 of the default 28,232). */
#define PL_SRC_RESERVE_MIN 16

/* Distinct local ports in [lo, hi] that sockets in `proc_net_tcp` (the
 * text of /proc/net/tcp) hold on `addr` (network order). */
int pl_srcaddr_count(const char *proc_net_tcp, uint32_t addr, int lo, int hi);

/* Plans for a server at `url`: --source-addrs K (127.0.0.1..K) or LIST
 * (given addresses, bound as given), else automatic: 127.0.0.1 (unbound),
 * then 127.0.0.2, ... as far as needed, for a loopback server; a single
 * unbound, uncounted candidate for any other server. Returns 0 or a
 * negative code (-EINVAL: a bad address in the list). */
int pl_srcplan_init(pl_srcplan *p, const pl_bench_opts *o, const char *url);

/* The candidate for one more subscription, or -1 when none has room. */
int pl_srcplan_take(pl_srcplan *p);

/* Gives back a subscription's place on candidate `i`. */
void pl_srcplan_release(pl_srcplan *p, int i);

/* Retires candidate `i` (the kernel refused it a port: `why`). */
void pl_srcplan_full(pl_srcplan *p, int i, const char *why);
/* Why no candidate has room, for a subscription that found none: "no
 * source address left (last: ADDR: WHY)" once the kernel refused one,
 * the words a subscription moved off it got, so that subscriptions of
 * every thread give one reason; else that every free port is taken. */
void pl_srcplan_why_none(const pl_srcplan *p, char *out, size_t len);

/* What to bind for candidate `i`: its address, or NULL for the kernel's
 * choice. */
const char *pl_srcplan_addr(const pl_srcplan *p, int i);

/* True for the errors that mean "this local address has no port left". */
bool pl_srcaddr_exhausted(int rc);

#endif
