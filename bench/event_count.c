/* SSE event counting; see event_count.h. Reads the bytes it is given
 * and the counter's few saved bytes; nothing else. */
#include "event_count.h"
#include <string.h>

#define PATTERN "\ndata:"
#define TAIL    PL_EVENT_COUNT_TAIL

uint64_t pl_event_count(pl_event_counter *c, char *buf, size_t n)
{
    uint64_t found = 0;
    char *start = buf - c->tail_len, *end = buf + n;
    memcpy(start, c->tail, c->tail_len);
    for (char *p = start; (p = memmem(p, (size_t)(end - p), PATTERN, sizeof PATTERN - 1)); p++)
        found++;
    c->tail_len = (unsigned char)(end - start < (long)TAIL ? end - start : (long)TAIL);
    memcpy(c->tail, end - c->tail_len, c->tail_len);
    return found;
}
