/* Data segments a TCP socket has received (TCP_INFO's tcpi_data_segs_in),
 * so a test can tell one write from several. Apart from ws_raw.h because
 * it needs <linux/tcp.h>, whose struct tcp_info clashes with glibc's. */
#ifndef PL_SEGS_IN_H
#define PL_SEGS_IN_H
#include <stdint.h>

/* Returns 0 and *out, or a negative errno-style code. */
int segs_in_read(int fd, uint32_t *out);

#endif
