/* A cheap count of the SSE events in a byte stream, for the floor run: it
 * finds "\ndata:" (one per event; a JSON payload has no raw newline)
 * without parsing anything. */
#ifndef PL_BENCH_EVENT_COUNT_H
#define PL_BENCH_EVENT_COUNT_H
#include <stddef.h>
#include <stdint.h>

/* Per stream: the last bytes of each piece are kept so a split "\ndata:"
 * is still seen. Zero it to start. */
#define PL_EVENT_COUNT_TAIL 5
typedef struct pl_event_counter {
    unsigned char tail_len;
    char tail[PL_EVENT_COUNT_TAIL];
} pl_event_counter;

/* Counts the events completed by `n` new bytes at `buf`. The
 * PL_EVENT_COUNT_TAIL bytes before buf must be writable scratch. */
uint64_t pl_event_count(pl_event_counter *c, char *buf, size_t n);

#endif
