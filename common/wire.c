/* TCP_INFO byte counts; see wire.h. <linux/tcp.h> because glibc's struct
 * tcp_info lacks the byte counters. */
#include "wire.h"
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdbool.h>
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
    /* The kernel counts the sequence number a FIN takes as a byte: once
     * the peer has closed (CLOSE_WAIT, LAST_ACK, CLOSING, TIME_WAIT), one
     * of its "bytes" is that FIN, not payload. */
    bool fin =
        ti.tcpi_state == 8 || ti.tcpi_state == 9 || ti.tcpi_state == 11 || ti.tcpi_state == 6;
    w->in = ti.tcpi_bytes_received - (fin && ti.tcpi_bytes_received ? 1 : 0);
    return 0;
}
