/* The cursor rule every delivery goes through (docs/protocol.md): a
 * subscription remembers the last id it delivered, and what it does with
 * the next id it sees is decided here, as web/seq.js decides it for the
 * page. One pure function: no state, no I/O, any thread. sub.c applies
 * its verdicts; tests/client/test_cursor.c specifies it. */
#ifndef PL_CURSOR_H
#define PL_CURSOR_H
#include <stdint.h>

typedef enum pl_cursor_verdict {
    PL_CURSOR_ACCEPT,    /* deliver (or, for a page head: go on) */
    PL_CURSOR_DUPLICATE, /* at or below the cursor: drop it */
    PL_CURSOR_GAP,       /* past cursor + 1: first..last were missed; deliver */
    PL_CURSOR_RESTART,   /* the room ends below the cursor: the server
                            restarted; resume from 0 */
} pl_cursor_verdict;

/* What was seen: a message's id, or the last_id a polling page (or the
 * restart probe) reports for the room. */
typedef enum pl_cursor_seen { PL_CURSOR_MESSAGE, PL_CURSOR_LAST_ID } pl_cursor_seen;

typedef struct pl_cursor_step {
    pl_cursor_verdict verdict;
    uint64_t cursor;      /* the cursor after this step */
    uint64_t first, last; /* PL_CURSOR_GAP: the ids missed, inclusive */
} pl_cursor_step;

/* The rule: a subscription at `cursor` sees `id` as `seen`. */
pl_cursor_step pl_cursor_next(uint64_t cursor, pl_cursor_seen seen, uint64_t id);

#endif
