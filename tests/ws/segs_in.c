/* See segs_in.h. */
#include "segs_in.h"
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

int segs_in_read(int fd, uint32_t *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return -errno;
    if (len < offsetof(struct tcp_info, tcpi_data_segs_in) + sizeof ti.tcpi_data_segs_in)
        return -ENOTSUP;
    *out = ti.tcpi_data_segs_in;
    return 0;
}
