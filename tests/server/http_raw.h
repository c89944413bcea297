/* Raw-socket HTTP for the integration tests: exact bytes out, exact bytes
 * back, so tests can send what no polite client would and check the wire. */
#ifndef PL_HTTP_RAW_H
#define PL_HTTP_RAW_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int raw_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int raw_send(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

static long long raw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads into buf (appending at *len) until `needle` appears, EOF or
 * `timeout_ms`. Returns 1 when found, 0 otherwise. */
static int raw_read_until(int fd, char *buf, size_t cap, size_t *len, const char *needle,
                          int timeout_ms)
{
    long long end = raw_now_ms() + timeout_ms;
    for (;;) {
        buf[*len] = '\0';
        if (needle && strstr(buf, needle))
            return 1;
        long long left = end - raw_now_ms();
        if (left <= 0 || *len + 1 >= cap)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            return 0;
        ssize_t n = read(fd, buf + *len, cap - 1 - *len);
        if (n <= 0) {
            buf[*len] = '\0';
            return needle ? strstr(buf, needle) != NULL : 1;
        }
        *len += (size_t)n;
    }
}

/* Sends one request with "Connection: close" and reads the whole answer.
 * Returns the status code, or -1. */
static inline int raw_request(int port, const char *method, const char *path, const char *headers,
                              const char *body, char *resp, size_t cap)
{
    char req[40000];
    size_t blen = body ? strlen(body) : 0;
    bool own_host = headers && strncmp(headers, "Host:", 5) == 0;
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\n%sConnection: close\r\n%s", method, path,
                     own_host ? "" : "Host: 127.0.0.1\r\n", headers ? headers : "");
    if (body)
        n += snprintf(req + n, sizeof req - (size_t)n, "Content-Length: %zu\r\n", blen);
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    if ((size_t)n + blen >= sizeof req)
        return -1;
    if (body)
        memcpy(req + n, body, blen);
    n += (int)blen;
    int fd = raw_connect(port);
    size_t len = 0;
    int status = -1;
    if (fd < 0)
        return -1;
    if (raw_send(fd, req, (size_t)n) == 0) {
        raw_read_until(fd, resp, cap, &len, NULL, 5000);
        sscanf(resp, "HTTP/1.1 %d", &status);
    }
    close(fd);
    return status;
}

/* The body of a response read by raw_request. */
static inline const char *raw_body(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : "";
}

#endif
