/* The one error type every layer reports with (PROTOCOL.md's error body):
 * an HTTP status, a stable code string and a sentence, plus its JSON.
 * Lives on the caller's stack; owns nothing; any thread. */
#ifndef PL_ERROR_H
#define PL_ERROR_H
#include <stddef.h>

typedef struct pl_err {
    int status;
    const char *code;
    char message[192];
} pl_err;

/* Fills `err` with `status`, the protocol's code for that status and a
 * printf-style message. Always returns -EINVAL so callers can
 * `return pl_err_set(...)`. */
int pl_err_set(pl_err *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "bad_request" for 400, "not_found" for 404 ... "internal" otherwise. */
const char *pl_err_code(int status);

/* The error body {"error":{"code":..,"message":..}}, malloc'ed; the caller
 * frees it. Returns NULL on allocation failure. */
char *pl_err_json(const pl_err *err, size_t *len);

#endif
