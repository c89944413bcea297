/* The source-address plan; see srcaddr.h. The counts come from one pass
 * over /proc/net/tcp: binding an address and port that some socket still
 * holds (TIME_WAIT counts) fails, so only the rest of the range is free. */
#include "srcaddr.h"
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts, for each of `n` addresses (network order), the distinct local
 * ports in [lo, hi] that sockets of /proc/net/tcp's text hold on it (a
 * listener's accepted sockets share its one port). */
static void tally(const char *text, int lo, int hi, const uint32_t *addrs, int n, int *counts)
{
    uint8_t *seen = calloc((size_t)n, 65536 / 8);
    memset(counts, 0, (size_t)n * sizeof *counts);
    for (const char *line = text, *next; seen && line && *line; line = next) {
        const char *nl = strchr(line, '\n');
        unsigned a, port;
        next = nl ? nl + 1 : NULL;
        if (sscanf(line, " %*u: %8X:%4X", &a, &port) != 2 || (int)port < lo || (int)port > hi)
            continue;
        for (int i = 0; i < n; i++) {
            uint8_t *bit = &seen[(size_t)i * 8192 + port / 8], m = (uint8_t)(1u << (port % 8));
            if (a == addrs[i] && !(*bit & m)) {
                *bit |= m;
                counts[i]++;
            }
        }
    }
    free(seen);
}

int pl_srcaddr_count(const char *proc_net_tcp, uint32_t addr, int lo, int hi)
{
    int c;
    tally(proc_net_tcp, lo, hi, &addr, 1, &c);
    return c;
}

/* The whole of a /proc file (its size is not known beforehand), or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    while (f && buf) {
        size_t n = fread(buf + len, 1, cap - 1 - len, f);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b)
                break;
            buf = b;
        }
    }
    if (f)
        fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static void port_range(int *lo, int *hi)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    *lo = 32768, *hi = 60999;
    if (f && fscanf(f, "%d %d", lo, hi) != 2)
        *lo = 32768, *hi = 60999;
    if (f)
        fclose(f);
}

/* True when the URL's host is on 127.0.0.0/8 (or "localhost"). */
static bool loopback_url(const char *url)
{
    char host[64] = "";
    struct in_addr a;
    const char *p = strstr(url, "://");
    sscanf(p ? p + 3 : url, "%63[^:/]", host);
    if (strcmp(host, "localhost") == 0)
        return true;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static int add(pl_srcplan *p, const char *addr, bool bind)
{
    struct in_addr a;
    if (p->n == PL_SRC_MAX || inet_pton(AF_INET, addr, &a) != 1) {
        fprintf(stderr, "pushlab-bench: --source-addrs: '%s' is not an IPv4 address\n", addr);
        return -EINVAL;
    }
    pl_src *s = &p->a[p->n++];
    snprintf(s->addr, sizeof s->addr, "%s", addr);
    s->bind = bind;
    return 0;
}

static int add_list(pl_srcplan *p, const char *list)
{
    char copy[4096], *save = NULL;
    snprintf(copy, sizeof copy, "%s", list);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int rc = add(p, t, true);
        if (rc)
            return rc;
    }
    return 0;
}

/* Sets each candidate's free ports and capacity from the sockets now on
 * it (and on 0.0.0.0, which holds its port on every address). */
static void count_free(pl_srcplan *p, int lo, int hi)
{
    uint32_t addrs[PL_SRC_MAX + 1];
    int counts[PL_SRC_MAX + 1];
    char *text = slurp("/proc/net/tcp");
    for (int i = 0; i < p->n; i++)
        inet_pton(AF_INET, p->a[i].addr, &addrs[i]);
    addrs[p->n] = htonl(INADDR_ANY);
    tally(text ? text : "", lo, hi, addrs, p->n + 1, counts);
    free(text);
    int reserve = p->port_range / 20 + PL_SRC_RESERVE_MIN;
    for (int i = 0; i < p->n; i++) {
        pl_src *s = &p->a[i];
        s->free_ports = p->port_range - counts[i] - counts[p->n];
        s->capacity = s->free_ports > reserve ? s->free_ports - reserve : 0;
    }
}

int pl_srcplan_init(pl_srcplan *p, const pl_bench_opts *o, const char *url)
{
    int lo, hi, rc = 0;
    memset(p, 0, sizeof *p);
    p->last_full = -1;
    port_range(&lo, &hi);
    p->port_range = hi - lo + 1;
    p->spread = o->source_addrs > 0 || o->source_list;
    if (o->source_list) {
        rc = add_list(p, o->source_list);
    } else if (!loopback_url(url)) {
        /* Another machine: the route picks the address; nothing to count. */
        add(p, "0.0.0.0", false);
        p->a[0].free_ports = p->a[0].capacity = INT_MAX;
        return 0;
    } else {
        int k = o->source_addrs ? o->source_addrs : PL_SRC_MAX;
        char a[24];
        for (int i = 1; rc == 0 && i <= k; i++) {
            snprintf(a, sizeof a, "127.0.0.%d", i);
            /* What the kernel picks for a loopback server anyway; not
             * binding lets it choose the port per destination. */
            rc = add(p, a, i > 1);
        }
    }
    if (rc == 0)
        count_free(p, lo, hi);
    return rc;
}

static bool has_room(const pl_src *s) { return !s->full && s->assigned < s->capacity; }

int pl_srcplan_take(pl_srcplan *p)
{
    for (int k = 0; k < p->n; k++) {
        int i = p->spread ? (p->next + k) % p->n : k;
        if (!has_room(&p->a[i]))
            continue;
        p->a[i].assigned++;
        if (p->spread)
            p->next = (i + 1) % p->n;
        return i;
    }
    return -1;
}

void pl_srcplan_release(pl_srcplan *p, int i)
{
    if (i >= 0 && i < p->n && p->a[i].assigned > 0)
        p->a[i].assigned--;
}

void pl_srcplan_full(pl_srcplan *p, int i, const char *why)
{
    if (i < 0 || i >= p->n || p->a[i].full)
        return;
    p->a[i].full = true;
    p->last_full = i;
    snprintf(p->a[i].why, sizeof p->a[i].why, "%s", why);
}

void pl_srcplan_why_none(const pl_srcplan *p, char *out, size_t len)
{
    if (p->last_full >= 0)
        snprintf(out, len, "no source address left (last: %s: %s)", p->a[p->last_full].addr,
                 p->a[p->last_full].why);
    else
        snprintf(out, len,
                 "no source address has a free port left (ports in use counted from "
                 "/proc/net/tcp, TIME_WAIT included)");
}

const char *pl_srcplan_addr(const pl_srcplan *p, int i)
{
    return i >= 0 && i < p->n && p->a[i].bind ? p->a[i].addr : NULL;
}

bool pl_srcaddr_exhausted(int rc) { return rc == -EADDRNOTAVAIL || rc == -EADDRINUSE; }
