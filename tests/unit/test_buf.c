/* Specification of common/buf: appends keep a C string, the bound is
 * enforced without touching what is held, memory is reused and handed
 * over. */
#include <errno.h>
#include <stdlib.h>
#include "buf.h"
#include "check.h"

TEST(appends_join_into_one_nul_terminated_string)
{
    pl_buf b;
    pl_buf_init(&b, 4, 0);
    CHECK_EQ_STR(pl_buf_str(&b), "");
    CHECK_EQ_INT(pl_buf_append(&b, "hello", 5), 0);
    CHECK_EQ_INT(pl_buf_append(&b, ", world", 7), 0);
    CHECK_EQ_STR(pl_buf_str(&b), "hello, world");
    CHECK_EQ_INT(b.len, 12);
    pl_buf_free(&b);
}

TEST(the_bound_refuses_and_keeps_what_is_held)
{
    pl_buf b;
    pl_buf_init(&b, 0, 8);
    CHECK_EQ_INT(pl_buf_append(&b, "12345678", 8), 0);
    CHECK_EQ_INT(pl_buf_append(&b, "9", 1), -EMSGSIZE);
    CHECK_EQ_STR(pl_buf_str(&b), "12345678");
    CHECK_EQ_INT(pl_buf_reserve(&b, (size_t)-1), -EMSGSIZE); /* no overflow */
    pl_buf_free(&b);
    CHECK_EQ_INT(b.max, 8); /* the bound survives a free */
}

TEST(clear_keeps_the_memory_for_the_next_text)
{
    pl_buf b;
    pl_buf_init(&b, 16, 0);
    CHECK_EQ_INT(pl_buf_append(&b, "first", 5), 0);
    char *mem = b.p;
    pl_buf_clear(&b);
    CHECK_EQ_STR(pl_buf_str(&b), "");
    CHECK_EQ_INT(pl_buf_append(&b, "again", 5), 0);
    CHECK(b.p == mem);
    CHECK_EQ_STR(pl_buf_str(&b), "again");
    pl_buf_free(&b);
}

TEST(take_hands_the_string_over_and_empties)
{
    pl_buf b = {0}; /* zeroed: valid, unbounded */
    CHECK(pl_buf_take(&b) == NULL);
    CHECK_EQ_INT(pl_buf_append(&b, "mine", 4), 0);
    char *s = pl_buf_take(&b);
    CHECK_EQ_STR(s, "mine");
    CHECK(b.p == NULL);
    CHECK_EQ_INT(b.len, 0);
    free(s);
}

TEST(growth_from_a_small_first_size_copies_everything)
{
    pl_buf b;
    char chunk[100];
    pl_buf_init(&b, 1, 0);
    for (int i = 0; i < 100; i++)
        chunk[i] = (char)('a' + i % 26);
    for (int i = 0; i < 50; i++)
        CHECK_EQ_INT(pl_buf_append(&b, chunk, sizeof chunk), 0);
    CHECK_EQ_INT(b.len, 5000);
    CHECK(b.cap > b.len);
    CHECK(memcmp(b.p + 4900, chunk, 100) == 0);
    pl_buf_free(&b);
}

int main(void)
{
    RUN(appends_join_into_one_nul_terminated_string);
    RUN(the_bound_refuses_and_keeps_what_is_held);
    RUN(clear_keeps_the_memory_for_the_next_text);
    RUN(take_hands_the_string_over_and_empties);
    RUN(growth_from_a_small_first_size_copies_everything);
    return CHECK_DONE();
}
