/* Specification of server/ws_fanout: who a publish wakes. Members join and
 * leave rooms; a mark wakes the service thread only when nothing was
 * marked; a drain visits exactly the members of the marked rooms, once;
 * too many marked rooms means "wake everyone". No libwebsockets. */
#include <stdint.h>
#include "check.h"
#include "ws_fanout.h"

typedef struct peer {
    pl_ws_fanout_member m;
    int woken;
} peer;

static void wake(pl_ws_fanout_member *m, void *ud)
{
    (void)ud;
    pl_list_entry(m, peer, m)->woken++;
}

static int rooms[600]; /* their addresses are the room keys */

TEST(a_drain_wakes_the_members_of_marked_rooms_only)
{
    pl_ws_fanout *f;
    peer a = {0}, b = {0}, c = {0};
    CHECK_EQ_INT(pl_ws_fanout_new(&f), 0);
    CHECK_EQ_INT(pl_ws_fanout_join(f, &a.m, &rooms[0]), 0);
    CHECK_EQ_INT(pl_ws_fanout_join(f, &b.m, &rooms[0]), 0);
    CHECK_EQ_INT(pl_ws_fanout_join(f, &c.m, &rooms[1]), 0);
    pl_ws_fanout_mark(f, &rooms[0]);
    pl_ws_fanout_mark(f, &rooms[0]); /* twice: still one visit each */
    CHECK(pl_ws_fanout_drain(f, wake, NULL));
    CHECK_EQ_INT(a.woken, 1);
    CHECK_EQ_INT(b.woken, 1);
    CHECK_EQ_INT(c.woken, 0);
    CHECK(pl_ws_fanout_drain(f, wake, NULL)); /* the marks were taken */
    CHECK_EQ_INT(a.woken, 1);
    pl_ws_fanout_leave(f, &a.m);
    pl_ws_fanout_leave(f, &b.m);
    pl_ws_fanout_leave(f, &c.m);
    pl_ws_fanout_free(f);
}

TEST(only_the_first_mark_asks_for_a_wake_up)
{
    pl_ws_fanout *f;
    CHECK_EQ_INT(pl_ws_fanout_new(&f), 0);
    CHECK(pl_ws_fanout_mark(f, &rooms[0]));
    CHECK(!pl_ws_fanout_mark(f, &rooms[1]));
    CHECK(!pl_ws_fanout_mark(f, &rooms[0]));
    CHECK(pl_ws_fanout_drain(f, wake, NULL));
    CHECK(pl_ws_fanout_mark(f, &rooms[2])); /* empty again after the drain */
    pl_ws_fanout_free(f);
}

TEST(a_member_that_left_is_not_woken_and_an_empty_room_is_forgotten)
{
    pl_ws_fanout *f;
    peer a = {0}, b = {0};
    CHECK_EQ_INT(pl_ws_fanout_new(&f), 0);
    CHECK_EQ_INT(pl_ws_fanout_join(f, &a.m, &rooms[3]), 0);
    pl_ws_fanout_leave(f, &a.m);
    CHECK(a.m.room == NULL);
    pl_ws_fanout_leave(f, &a.m); /* in no room: a no-op */
    pl_ws_fanout_mark(f, &rooms[3]);
    CHECK(pl_ws_fanout_drain(f, wake, NULL));
    CHECK_EQ_INT(a.woken, 0);
    CHECK_EQ_INT(pl_ws_fanout_join(f, &b.m, &rooms[3]), 0); /* the room comes back */
    pl_ws_fanout_mark(f, &rooms[3]);
    CHECK(pl_ws_fanout_drain(f, wake, NULL));
    CHECK_EQ_INT(b.woken, 1);
    pl_ws_fanout_leave(f, &b.m);
    pl_ws_fanout_free(f);
}

TEST(too_many_marked_rooms_means_wake_everyone)
{
    pl_ws_fanout *f;
    peer a = {0};
    CHECK_EQ_INT(pl_ws_fanout_new(&f), 0);
    CHECK_EQ_INT(pl_ws_fanout_join(f, &a.m, &rooms[0]), 0);
    for (int i = 0; i < 600; i++)
        pl_ws_fanout_mark(f, &rooms[i]);
    CHECK(!pl_ws_fanout_drain(f, wake, NULL));
    CHECK_EQ_INT(a.woken, 0);               /* the caller wakes everyone its own way */
    CHECK(pl_ws_fanout_mark(f, &rooms[0])); /* and the set is empty again */
    CHECK(pl_ws_fanout_drain(f, wake, NULL));
    CHECK_EQ_INT(a.woken, 1);
    pl_ws_fanout_leave(f, &a.m);
    pl_ws_fanout_free(f);
}

TEST(each_visits_every_member_of_every_room)
{
    pl_ws_fanout *f;
    peer p[5] = {0};
    CHECK_EQ_INT(pl_ws_fanout_new(&f), 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(pl_ws_fanout_join(f, &p[i].m, &rooms[i % 2]), 0);
    pl_ws_fanout_each(f, wake, NULL);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(p[i].woken, 1);
        pl_ws_fanout_leave(f, &p[i].m);
    }
    pl_ws_fanout_free(f);
}

int main(void)
{
    RUN(a_drain_wakes_the_members_of_marked_rooms_only);
    RUN(only_the_first_mark_asks_for_a_wake_up);
    RUN(a_member_that_left_is_not_woken_and_an_empty_room_is_forgotten);
    RUN(too_many_marked_rooms_means_wake_everyone);
    RUN(each_visits_every_member_of_every_room);
    return CHECK_DONE();
}
