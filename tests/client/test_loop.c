/* Specification of the client loop's wake-up time: it is read once when
 * the loop returns from waiting, before any callback runs, so a receive
 * time does not grow with the work done on other sockets first. */
#include "check.h"
#include "client.h"
#include "clock.h"
#include <unistd.h>

typedef struct seen {
    int calls;
    int64_t wake[2], clock[2];
} seen;

/* Records when it ran; the first call also works for 20 ms. */
static void on_ready(pl_loop *l, int fd, int events, void *ud)
{
    seen *s = ud;
    char c;
    (void)events;
    if (read(fd, &c, 1) != 1 || s->calls == 2)
        return;
    s->wake[s->calls] = pl_loop_wake_us(l);
    s->clock[s->calls] = pl_clock_mono_us();
    if (s->calls++ == 0)
        while (pl_clock_mono_us() < s->clock[0] + 20000)
            ;
    else
        pl_loop_stop(l);
}

TEST(two_sockets_ready_together_share_one_wake_time)
{
    pl_loop *l;
    int a[2], b[2];
    seen s = {0};
    CHECK_EQ_INT(pl_loop_new(&l), 0);
    CHECK(pipe(a) == 0 && pipe(b) == 0);
    CHECK(write(a[1], "x", 1) == 1 && write(b[1], "x", 1) == 1);
    CHECK_EQ_INT(pl_loop_watch_fd(l, a[0], PL_FD_READ, on_ready, &s), 0);
    CHECK_EQ_INT(pl_loop_watch_fd(l, b[0], PL_FD_READ, on_ready, &s), 0);
    int64_t before = pl_clock_mono_us();
    pl_loop_run(l, 1000);
    CHECK_EQ_INT(s.calls, 2);
    CHECK_EQ_INT(s.wake[0], s.wake[1]);
    CHECK(s.wake[0] >= before);
    CHECK(s.wake[0] <= s.clock[0]);
    CHECK(s.clock[1] >= s.wake[1] + 20000); /* the second one's wait is not in it */
    pl_loop_unwatch_fd(l, a[0]);
    pl_loop_unwatch_fd(l, b[0]);
    pl_loop_free(l);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

TEST(a_later_wake_up_has_a_later_time)
{
    pl_loop *l;
    int a[2];
    seen s = {0};
    CHECK_EQ_INT(pl_loop_new(&l), 0);
    CHECK(pipe(a) == 0);
    CHECK_EQ_INT(pl_loop_watch_fd(l, a[0], PL_FD_READ, on_ready, &s), 0);
    CHECK(write(a[1], "x", 1) == 1);
    pl_loop_run(l, 50); /* first call: records, works 20 ms */
    CHECK(write(a[1], "x", 1) == 1);
    pl_loop_run(l, 1000);
    CHECK_EQ_INT(s.calls, 2);
    CHECK(s.wake[1] >= s.clock[0] + 20000);
    pl_loop_unwatch_fd(l, a[0]);
    pl_loop_free(l);
    close(a[0]), close(a[1]);
}

int main(void)
{
    if (pl_client_global_init() != 0)
        return 1;
    RUN(two_sockets_ready_together_share_one_wake_time);
    RUN(a_later_wake_up_has_a_later_time);
    pl_client_global_cleanup();
    return CHECK_DONE();
}
