/* Specification of common/list.h: order of pushes, unlinking anywhere,
 * removal while iterating, and the "not on a list" state. */
#include "check.h"
#include "list.h"

typedef struct item {
    int v;
    pl_list node;
} item;

/* The values of `head` in order, as digits ("132"). */
static const char *values(pl_list *head)
{
    static char out[16];
    size_t n = 0;
    pl_list_each(it, head) out[n++] = (char)('0' + pl_list_entry(it, item, node)->v);
    out[n] = '\0';
    return out;
}

TEST(push_appends_and_push_front_prepends)
{
    pl_list h;
    item a = {.v = 1}, b = {.v = 2}, c = {.v = 3};
    pl_list_init(&h);
    CHECK(pl_list_empty(&h));
    CHECK(pl_list_first(&h) == NULL);
    pl_list_push(&h, &a.node);
    pl_list_push(&h, &b.node);
    pl_list_push_front(&h, &c.node);
    CHECK_EQ_STR(values(&h), "312");
    CHECK(pl_list_first(&h) == &c.node);
}

TEST(remove_unlinks_from_anywhere_and_twice_is_harmless)
{
    pl_list h;
    item a = {.v = 1}, b = {.v = 2}, c = {.v = 3};
    pl_list_init(&h);
    pl_list_push(&h, &a.node);
    pl_list_push(&h, &b.node);
    pl_list_push(&h, &c.node);
    pl_list_remove(&b.node);
    CHECK_EQ_STR(values(&h), "13");
    CHECK(!pl_list_linked(&b.node));
    pl_list_remove(&b.node);
    CHECK_EQ_STR(values(&h), "13");
    pl_list_remove(&c.node);
    pl_list_remove(&a.node);
    CHECK(pl_list_empty(&h));
}

TEST(a_zeroed_node_is_not_linked)
{
    item a = {0};
    CHECK(!pl_list_linked(&a.node));
    pl_list_remove(&a.node); /* a no-op, no crash */
    CHECK(!pl_list_linked(&a.node));
}

TEST(each_survives_removing_the_visited_node)
{
    pl_list h;
    item it[4];
    pl_list_init(&h);
    for (int i = 0; i < 4; i++) {
        it[i] = (item){.v = i};
        pl_list_push(&h, &it[i].node);
    }
    pl_list_each(n, &h) if (pl_list_entry(n, item, node)->v % 2 == 0) pl_list_remove(n);
    CHECK_EQ_STR(values(&h), "13");
}

int main(void)
{
    RUN(push_appends_and_push_front_prepends);
    RUN(remove_unlinks_from_anywhere_and_twice_is_harmless);
    RUN(a_zeroed_node_is_not_linked);
    RUN(each_survives_removing_the_visited_node);
    return CHECK_DONE();
}
