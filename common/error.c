/* The error type and its JSON; see error.h. Fills the caller's pl_err;
 * the JSON is jansson's, malloc'ed for the caller. */
#include "error.h"
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *pl_err_code(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    default: return "internal";
    }
}

int pl_err_set(pl_err *err, int status, const char *fmt, ...)
{
    va_list ap;
    err->status = status;
    err->code = pl_err_code(status);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

char *pl_err_json(const pl_err *err, size_t *len)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", err->code, "message", err->message);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s && len)
        *len = strlen(s);
    return s;
}
