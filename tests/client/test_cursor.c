/* Specification of client/cursor: the verdict on each id a subscription
 * sees, as tests/web/static.test.mjs specifies web/seq.js for the page. */
#include "check.h"
#include "cursor.h"

#define MSG(cur, id)    pl_cursor_next(cur, PL_CURSOR_MESSAGE, id)
#define HEAD(cur, last) pl_cursor_next(cur, PL_CURSOR_LAST_ID, last)

TEST(the_next_id_is_accepted_and_moves_the_cursor)
{
    pl_cursor_step st = MSG(0, 1);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_ACCEPT);
    CHECK_EQ_INT(st.cursor, 1);
    st = MSG(41, 42);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_ACCEPT);
    CHECK_EQ_INT(st.cursor, 42);
}

TEST(an_id_at_or_below_the_cursor_is_a_duplicate_and_keeps_it)
{
    pl_cursor_step st = MSG(5, 5);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_DUPLICATE);
    CHECK_EQ_INT(st.cursor, 5);
    st = MSG(5, 1);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_DUPLICATE);
    CHECK_EQ_INT(st.cursor, 5);
}

TEST(a_jump_is_a_gap_of_exactly_the_missing_ids_then_accepted)
{
    pl_cursor_step st = MSG(3, 7);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_GAP);
    CHECK_EQ_INT(st.first, 4);
    CHECK_EQ_INT(st.last, 6);
    CHECK_EQ_INT(st.cursor, 7);
    st = MSG(0, 2); /* the first message itself was missed */
    CHECK_EQ_INT(st.verdict, PL_CURSOR_GAP);
    CHECK_EQ_INT(st.first, 1);
    CHECK_EQ_INT(st.last, 1);
}

TEST(a_room_ending_below_the_cursor_is_a_restart_from_zero)
{
    pl_cursor_step st = HEAD(10, 3);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_RESTART);
    CHECK_EQ_INT(st.cursor, 0);
    st = HEAD(10, 0); /* a new, empty room */
    CHECK_EQ_INT(st.verdict, PL_CURSOR_RESTART);
}

TEST(a_room_ending_at_or_past_the_cursor_goes_on_unchanged)
{
    pl_cursor_step st = HEAD(10, 10);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_ACCEPT);
    CHECK_EQ_INT(st.cursor, 10);
    st = HEAD(10, 500);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_ACCEPT);
    CHECK_EQ_INT(st.cursor, 10);
    st = HEAD(0, 0);
    CHECK_EQ_INT(st.verdict, PL_CURSOR_ACCEPT);
}

int main(void)
{
    RUN(the_next_id_is_accepted_and_moves_the_cursor);
    RUN(an_id_at_or_below_the_cursor_is_a_duplicate_and_keeps_it);
    RUN(a_jump_is_a_gap_of_exactly_the_missing_ids_then_accepted);
    RUN(a_room_ending_below_the_cursor_is_a_restart_from_zero);
    RUN(a_room_ending_at_or_past_the_cursor_goes_on_unchanged);
    return CHECK_DONE();
}
