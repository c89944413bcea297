/* Fuzz target: the long-poll front's head check (server/poll_head.c), the
 * first code to see the bytes of every HTTP connection. The input is a
 * peeked socket buffer. An accepted head must be what the front then
 * serves: a GET of a valid room's poll or messages path in the first line, ending in
 * a blank line within the input and the peek, with a Host header, no body
 * header, and arguments within the handler's bounds. */
#include <string.h>
#include <strings.h>
#include "fuzz.h"
#include "poll_head.h"

/* True when a line of head[0, len) starts with `name` (any case). */
static bool has_header(const char *head, size_t len, const char *name)
{
    size_t k = strlen(name);
    for (const char *l = memmem(head, len, "\r\n", 2); l && l + 2 + k <= head + len;
         l = memmem(l + 2, (size_t)(head + len - l - 2), "\r\n", 2))
        if (strncasecmp(l + 2, name, k) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    pl_poll_head h;
    if (!pl_poll_head_parse(buf, size, &h))
        return 0;
    FUZZ_CHECK(h.len <= size && h.len <= PL_POLL_HEAD_MAX && h.len >= 4);
    FUZZ_CHECK(memcmp(buf + h.len - 4, "\r\n\r\n", 4) == 0);
    FUZZ_CHECK(memmem(buf, h.len - 2, "\r\n\r\n", 4) == NULL); /* the first blank line */
    FUZZ_CHECK(memchr(buf, '\0', h.len) == NULL);
    FUZZ_CHECK(pl_valid_room(h.room, strlen(h.room)));
    char want[PL_ROOM_MAX + 32];
    int n =
        snprintf(want, sizeof want, "GET /api/rooms/%s/%s", h.room, h.longp ? "poll" : "messages");
    FUZZ_CHECK(memcmp(buf, want, (size_t)n) == 0);
    FUZZ_CHECK(buf[n] == ' ' || buf[n] == '?');
    FUZZ_CHECK(has_header(buf, h.len, "host:"));
    FUZZ_CHECK(!has_header(buf, h.len, "content-length:"));
    FUZZ_CHECK(!has_header(buf, h.len, "transfer-encoding:"));
    FUZZ_CHECK(h.limit <= PL_LIMIT_MAX && h.timeout <= PL_TIMEOUT_MAX);
    return 0;
}
