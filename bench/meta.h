/* The `meta` object the bench puts in every message: its sequence number
 * and its intended and actual send times (this process's CLOCK_MONOTONIC,
 * microseconds), so a delivery's latency needs no clock but our own. */
#ifndef PL_BENCH_META_H
#define PL_BENCH_META_H
#include <stddef.h>
#include <stdint.h>

struct json_t;

typedef struct pl_meta {
    uint64_t seq;        /* publisher sequence, from 0 */
    int64_t intended_us; /* when the schedule said to send it */
    int64_t sent_us;     /* when it was handed to the client library */
} pl_meta;

/* Writes {"seq":..,"intended_us":..,"sent_us":..} into buf. Returns its
 * length (always < 96), buf must hold at least 96 bytes. */
size_t pl_meta_format(char *buf, size_t len, const pl_meta *m);

/* Reads the three fields back from the meta object of a delivered message
 * (pl_client_msg.meta; borrowed). No allocation: this runs once per
 * delivery. Returns 0, or -EINVAL when meta is NULL or not an object, or a
 * field is missing, negative or not an integer. */
int pl_meta_parse(const struct json_t *meta, pl_meta *out);

/* The same from the meta object's text (pl_client_msg.meta_raw of a lean
 * subscription), scanned, not parsed (common/jscan.h). Returns 0 or
 * -EINVAL, as pl_meta_parse. */
int pl_meta_scan(const char *meta, size_t len, pl_meta *out);
/* The same from the `meta` member of a message body that is our publish
 * JSON verbatim (a foreign server's message). */
int pl_meta_scan_body(const char *body, size_t len, pl_meta *out);

#endif
