/* Input rules of the wire protocol (PROTOCOL.md): limits, room names,
 * UTF-8 and query integers. The error type is in error.h. */
#ifndef PL_VALIDATE_H
#define PL_VALIDATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_ROOM_MAX        64
#define PL_USER_MAX        64
#define PL_TEXT_MAX        4096
#define PL_CID_MAX         64
#define PL_META_MAX        1024
#define PL_BODY_MAX        16384
#define PL_LIMIT_DEFAULT   100
#define PL_LIMIT_MAX       1000
#define PL_TIMEOUT_DEFAULT 25
#define PL_TIMEOUT_MAX     60
/* The heartbeat= a client may ask for is clamped into the server's
 * --min-heartbeat .. --max-heartbeat; these are their defaults. */
#define PL_HEARTBEAT_MIN_DEFAULT 1
#define PL_HEARTBEAT_MAX_DEFAULT 300
/* Ids and timeouts beyond this are refused: it is the largest integer a
 * JavaScript client can hold exactly. */
#define PL_INT_MAX ((uint64_t)9007199254740991ULL)

/* True when `s` (len bytes) matches [A-Za-z0-9_-]{1,64}. */
bool pl_valid_room(const char *s, size_t len);
/* True when `s` is well-formed UTF-8 (no overlongs, no surrogates). */
bool pl_valid_utf8(const char *s, size_t len);
/* True when `s` holds a control character other than tab and newline. */
bool pl_has_control(const char *s, size_t len);
/* Parses a non-empty run of decimal digits no larger than PL_INT_MAX.
 * Returns 0, or -EINVAL for anything else (sign, space, empty, overflow). */
int pl_parse_uint(const char *s, uint64_t *out);
/* A client's requested heartbeat, in seconds, clamped into [min_s, max_s]. */
int pl_heartbeat_clamp(uint64_t asked_s, int min_s, int max_s);

#endif
