/* Nagle on for a peer that is behind, off for one that keeps up; see
 * coalesce.h. An ioctl every few writes, and a setsockopt only when the
 * peer's state changes. */
#include "coalesce.h"
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static int set_nagle(int fd, pl_coalesce *c, bool on)
{
    int nodelay = !on;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay) != 0)
        return -errno;
    c->on = on;
    return 0;
}

int pl_coalesce_before_write(int fd, pl_coalesce *c)
{
    if (c->writes++ % PL_COALESCE_EVERY != 0)
        return 0;
    int unacked = 0;
    if (ioctl(fd, SIOCOUTQ, &unacked) != 0)
        return -errno;
    bool behind = unacked > 0;
    if (behind == c->on)
        return 0;
    int rc = set_nagle(fd, c, behind);
    return rc < 0 ? rc : behind;
}

int pl_coalesce_push(int fd, pl_coalesce *c) { return c->on ? set_nagle(fd, c, false) : 0; }
