/* Specification of the WebSocket client contexts of several loops in one
 * process (client/ws_context.c): each loop's context and its TLS state go
 * with the loop, whichever order the loops (the bench's subscriber threads,
 * say) make and free them in. */
#include <libwebsockets.h>
#include <malloc.h>
#include "check.h"
#include "client.h"
#include "ws_context.h"

static const struct lws_protocols protocols[] = {
    {"pushlab-client", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2(); /* zero under ASan, whose leak check then applies */
    return m.uordblks + m.hblkhd;
}

/* Each context loads the system's CAs into a client SSL_CTX (~700 kB).
 * lws 4.1.6 re-took its OpenSSL ex-data index with every context, so the
 * first of two contexts lost the tag by which lws frees that SSL_CTX. */
TEST(contexts_of_loops_made_in_turn_free_all_their_tls_state)
{
    size_t base = 0, now;
    for (int round = 0; round < 6; round++) {
        pl_loop *a = NULL, *b = NULL;
        CHECK_EQ_INT(pl_loop_new(&a), 0);
        CHECK_EQ_INT(pl_loop_new(&b), 0);
        CHECK(pl_ws_context_of(a, protocols, "127.0.0.1", false) != NULL);
        CHECK(pl_ws_context_of(b, protocols, "127.0.0.1", true) != NULL);
        pl_loop_free(a);
        pl_loop_free(b);
        if (round == 0)
            base = heap_in_use();
    }
    now = heap_in_use();
    printf("# heap in use after 5 more rounds of two contexts: %+ld bytes\n",
           (long)now - (long)base);
    CHECK(now < base + 256 * 1024);
}

TEST(a_loop_keeps_one_context_for_all_its_connections)
{
    pl_loop *l = NULL;
    CHECK_EQ_INT(pl_loop_new(&l), 0);
    struct lws_context *first = pl_ws_context_of(l, protocols, "127.0.0.1", false);
    CHECK(first != NULL);
    CHECK(pl_ws_context_of(l, protocols, "127.0.0.1", true) == first);
    pl_loop_free(l);
}

int main(void)
{
    if (pl_client_global_init() != 0)
        return 1;
    RUN(contexts_of_loops_made_in_turn_free_all_their_tls_state);
    RUN(a_loop_keeps_one_context_for_all_its_connections);
    int rc = CHECK_DONE();
    pl_client_global_cleanup();
    return rc;
}
