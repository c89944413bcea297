/* Specification of common/error: the protocol's code for each status and
 * the error body's exact JSON. */
#include <stdlib.h>
#include "check.h"
#include "error.h"

TEST(error_codes_follow_the_status)
{
    pl_err e;
    CHECK(pl_err_set(&e, 415, "x %d", 1) < 0);
    CHECK_EQ_INT(e.status, 415);
    CHECK_EQ_STR(e.code, "unsupported_media_type");
    CHECK_EQ_STR(e.message, "x 1");
    CHECK_EQ_STR(pl_err_code(400), "bad_request");
    CHECK_EQ_STR(pl_err_code(404), "not_found");
    CHECK_EQ_STR(pl_err_code(405), "method_not_allowed");
    CHECK_EQ_STR(pl_err_code(413), "payload_too_large");
    CHECK_EQ_STR(pl_err_code(429), "too_many_requests");
    CHECK_EQ_STR(pl_err_code(503), "unavailable");
}

TEST(error_body_is_the_protocol_json)
{
    pl_err e;
    size_t len;
    pl_err_set(&e, 400, "text is empty");
    char *s = pl_err_json(&e, &len);
    CHECK_EQ_STR(s, "{\"error\":{\"code\":\"bad_request\",\"message\":\"text is empty\"}}");
    CHECK_EQ_INT(len, strlen(s));
    free(s);
}

int main(void)
{
    RUN(error_codes_follow_the_status);
    RUN(error_body_is_the_protocol_json);
    return CHECK_DONE();
}
