/* One intrusive doubly-linked list for the whole tree: a node embedded in
 * the owner's struct, a circular list around a head node, O(1) insert and
 * unlink. Owns nothing and locks nothing: whoever embeds the nodes decides
 * which lock guards a list. Header only. */
#ifndef PL_LIST_H
#define PL_LIST_H
#include <stdbool.h>
#include <stddef.h>

/* A head (the list itself) or a node (one member). A zeroed node is "not
 * on a list"; a head must be set up with pl_list_init(). */
typedef struct pl_list {
    struct pl_list *prev, *next;
} pl_list;

/* The struct of type `type` whose member `field` is the node `n`. */
#define pl_list_entry(n, type, field) ((type *)(void *)((char *)(n)-offsetof(type, field)))

/* Visits every node of `head` as `it`; `it` may be unlinked (or freed) in
 * the body, other nodes may not. */
#define pl_list_each(it, head)                                                                     \
    for (pl_list *it = (head)->next, *it##_next = it->next; it != (head);                          \
         it = it##_next, it##_next = it->next)

static inline void pl_list_init(pl_list *head) { head->prev = head->next = head; }

static inline bool pl_list_empty(const pl_list *head) { return head->next == head; }

/* True when node `n` is on some list. */
static inline bool pl_list_linked(const pl_list *n) { return n->next && n->next != n; }

/* The first node of `head`, or NULL when it is empty. */
static inline pl_list *pl_list_first(const pl_list *head)
{
    return head->next == head ? NULL : head->next;
}

/* Links `n` (not on a list) at the end of `head`. */
static inline void pl_list_push(pl_list *head, pl_list *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

/* Links `n` (not on a list) at the front of `head`. */
static inline void pl_list_push_front(pl_list *head, pl_list *n)
{
    n->next = head->next;
    n->prev = head;
    head->next->prev = n;
    head->next = n;
}

/* Unlinks `n` if it is on a list; it is then "not on a list" again. */
static inline void pl_list_remove(pl_list *n)
{
    if (!pl_list_linked(n))
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

#endif
