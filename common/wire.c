/* TCP_INFO byte counts; see wire.h. <linux/tcp.h> because glibc's struct
 * tcp_info lacks the byte counters. */
#include "wire.h"
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

int pl_wire_read(int fd, pl_wire *w)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    *w = (pl_wire){0};
    if (fd < 0)
        return -EBADF;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return -errno;
    /* A kernel older than the byte counters fills less: report nothing. */
    if (len < offsetof(struct tcp_info, tcpi_bytes_retrans) + sizeof ti.tcpi_bytes_retrans)
        return -ENOTSUP;
    w->out = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans + ti.tcpi_notsent_bytes;
    w->in = ti.tcpi_bytes_received;
    return 0;
}
