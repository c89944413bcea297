/* Which request heads the long-poll front (lp_front.c) answers itself:
 * "GET /api/rooms/{room}/poll[?query] HTTP/1.1", or the short poll's
 * ".../messages[?query]", with a Host header and
 * nothing that asks for more (a body, an upgrade, an Expect, Connection:
 * close, a percent-escape, an argument the router would refuse). Any other
 * head, complete or not, is left to MHD, which then reads it as if nobody
 * had looked. Pure functions; any thread. */
#ifndef PL_POLL_HEAD_H
#define PL_POLL_HEAD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "validate.h"

/* The longest head the front looks at; a longer one is MHD's. */
#define PL_POLL_HEAD_MAX 4096

typedef struct pl_poll_head {
    size_t len; /* bytes of the head, through its blank line */
    bool longp; /* a long poll (.../poll), else a short one (.../messages) */
    char room[PL_ROOM_MAX + 1];
    uint64_t since, limit, timeout; /* limit and timeout clamped */
} pl_poll_head;

/* Returns 1 with *h filled when the `n` bytes at `buf` begin with such a
 * head, else 0. */
int pl_poll_head_parse(const char *buf, size_t n, pl_poll_head *h);

#endif
