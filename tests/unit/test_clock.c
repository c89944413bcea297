/* Specification of common/clock's tick grid (the clocks themselves are
 * the kernel's). */
#include "check.h"
#include "clock.h"

TEST(next_tick_is_the_next_grid_instant_after_now)
{
    CHECK_EQ_INT(pl_clock_next_tick(1000, 15, 1000), 1015);
    CHECK_EQ_INT(pl_clock_next_tick(1000, 15, 1014), 1015);
    CHECK_EQ_INT(pl_clock_next_tick(1000, 15, 1015), 1030);
    CHECK_EQ_INT(pl_clock_next_tick(1000, 60, 1031), 1060);
}

TEST(next_tick_before_the_epoch_is_the_epoch)
{
    CHECK_EQ_INT(pl_clock_next_tick(1000, 15, 10), 1000);
}

TEST(ticks_of_a_multiple_period_fall_on_the_shorter_ones)
{
    /* 15 s and 60 s heartbeats share every fourth wake-up. */
    for (int64_t t = 0; t < 600; t += 7) {
        int64_t a = pl_clock_next_tick(0, 60, t);
        CHECK_EQ_INT(a % 15, 0);
    }
}

int main(void)
{
    RUN(next_tick_is_the_next_grid_instant_after_now);
    RUN(next_tick_before_the_epoch_is_the_epoch);
    RUN(ticks_of_a_multiple_period_fall_on_the_shorter_ones);
    return CHECK_DONE();
}
