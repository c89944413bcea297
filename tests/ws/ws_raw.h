/* A raw WebSocket client for tests: plain sockets, so a test sees the exact
 * handshake and frame bytes and can send what no library would (bad masks
 * aside: every frame it sends is masked, as RFC 6455 requires of clients).
 * Blocking with poll() timeouts; header-only like tests/spawn.h. */
#ifndef PL_WS_RAW_H
#define PL_WS_RAW_H
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WS_OP_CONT   0x0
#define WS_OP_TEXT   0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE  0x8
#define WS_OP_PING   0x9
#define WS_OP_PONG   0xA

typedef struct ws_raw {
    int fd;
    char response[2048]; /* the handshake response head, NUL-terminated */
    unsigned char in[1 << 17];
    size_t in_len;   /* bytes buffered in `in` */
    size_t consumed; /* the frame last returned, dropped at the next receive */
} ws_raw;

/* One received frame: `data` points into the client's buffer, valid until
 * the next receive. */
typedef struct ws_frame {
    int opcode;
    bool fin;
    const unsigned char *data;
    size_t len;
} ws_frame;

static inline int ws_raw_tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline int ws_raw_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads more bytes into c->in, waiting up to timeout_ms. Returns bytes
 * read, 0 at EOF, -ETIMEDOUT, or -EIO. */
static inline int ws_raw_fill(ws_raw *c, int timeout_ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (c->in_len == sizeof c->in)
        return -EIO;
    int r = poll(&p, 1, timeout_ms);
    if (r == 0)
        return -ETIMEDOUT;
    if (r < 0)
        return -EIO;
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n < 0)
        return errno == ECONNRESET ? 0 : -EIO;
    c->in_len += (size_t)n;
    return (int)n;
}

/* Connects to 127.0.0.1:port and asks to upgrade `path` (e.g.
 * "/ws/lobby?since=3"), with the Origin and Sec-WebSocket-Protocol headers
 * when not NULL. Returns the response's HTTP status (101 on success), 0
 * when the server closed without answering, or -1 on a local error. The
 * response head is kept in c->response. */
static inline int ws_raw_connect(ws_raw *c, int port, const char *path, const char *origin,
                                 const char *protocol)
{
    char req[1024], extra[512] = "";
    memset(c, 0, sizeof *c);
    c->fd = ws_raw_tcp(port);
    if (c->fd < 0)
        return -1;
    int n = 0;
    if (origin)
        n += snprintf(extra + n, sizeof extra - (size_t)n, "Origin: %s\r\n", origin);
    if (protocol)
        snprintf(extra + n, sizeof extra - (size_t)n, "Sec-WebSocket-Protocol: %s\r\n", protocol);
    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n%s\r\n",
                       path, port, extra);
    if (ws_raw_send_all(c->fd, req, (size_t)len) != 0)
        return -1;
    char *end;
    while (!(end = memmem(c->in, c->in_len, "\r\n\r\n", 4))) {
        int r = ws_raw_fill(c, 5000);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
    }
    size_t head = (size_t)(end + 4 - (char *)c->in);
    if (head >= sizeof c->response)
        return -1;
    memcpy(c->response, c->in, head);
    c->response[head] = '\0';
    memmove(c->in, c->in + head, c->in_len - head);
    c->in_len -= head;
    int status = 0;
    return sscanf(c->response, "HTTP/1.%*d %d", &status) == 1 ? status : -1;
}

/* Sends one masked frame with the given opcode and FIN bit. Returns 0 or -1. */
static inline int ws_raw_send_frame(ws_raw *c, int opcode, bool fin, const void *data, size_t len)
{
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char *f = malloc(14 + len), *p = f;
    if (!f)
        return -1;
    *p++ = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        *p++ = (unsigned char)(0x80 | len);
    } else if (len <= 0xffff) {
        *p++ = 0x80 | 126;
        *p++ = (unsigned char)(len >> 8);
        *p++ = (unsigned char)len;
    } else {
        *p++ = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            *p++ = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memcpy(p, mask, 4);
    p += 4;
    for (size_t i = 0; i < len; i++)
        p[i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
    int rc = ws_raw_send_all(c->fd, f, (size_t)(p - f) + len);
    free(f);
    return rc;
}

static inline int ws_raw_send_text(ws_raw *c, const char *text)
{
    return ws_raw_send_frame(c, WS_OP_TEXT, true, text, strlen(text));
}

/* Header length and payload length of the frame at the start of c->in, or
 * 0 when it is not complete yet. Server frames are never masked. */
static inline size_t ws_raw_parse(const ws_raw *c, size_t *payload)
{
    const unsigned char *b = c->in;
    size_t head = 2, len;
    if (c->in_len < 2)
        return 0;
    len = b[1] & 0x7f;
    if (len == 126) {
        head = 4;
        if (c->in_len < head)
            return 0;
        len = ((size_t)b[2] << 8) | b[3];
    } else if (len == 127) {
        head = 10;
        if (c->in_len < head)
            return 0;
        len = 0;
        for (int i = 2; i < 10; i++)
            len = (len << 8) | b[i];
    }
    if (len > sizeof c->in - head || c->in_len < head + len)
        return 0;
    *payload = len;
    return head;
}

/* Receives one frame, waiting up to timeout_ms. Returns 0 and fills *f,
 * -ETIMEDOUT, -EPIPE when the server closed the TCP connection, or -EIO. */
static inline int ws_raw_recv(ws_raw *c, int timeout_ms, ws_frame *f)
{
    size_t head, len = 0;
    if (c->consumed) {
        memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
        c->in_len -= c->consumed;
        c->consumed = 0;
    }
    while (!(head = ws_raw_parse(c, &len))) {
        int r = ws_raw_fill(c, timeout_ms);
        if (r == 0)
            return -EPIPE;
        if (r < 0)
            return r;
    }
    f->opcode = c->in[0] & 0x0f;
    f->fin = c->in[0] & 0x80;
    f->data = c->in + head;
    f->len = len;
    c->consumed = head + len;
    return 0;
}

/* Receives the next text frame as a NUL-terminated string in `out`,
 * skipping nothing: any other frame is an error. Returns 0 or < 0. */
static inline int ws_raw_recv_text(ws_raw *c, int timeout_ms, char *out, size_t cap)
{
    ws_frame f;
    int rc = ws_raw_recv(c, timeout_ms, &f);
    if (rc != 0)
        return rc;
    if (f.opcode != WS_OP_TEXT || f.len >= cap)
        return -EIO;
    memcpy(out, f.data, f.len);
    out[f.len] = '\0';
    return 0;
}

static inline void ws_raw_close(ws_raw *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

#endif
