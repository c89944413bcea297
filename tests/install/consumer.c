/* A program a user of the installed library would write: built by
 * test_install.py against the installed tree with pkg-config only. It
 * publishes one message to argv[1]'s room "installed" and prints its id. */
#include <pushlab/client.h>
#include <stdio.h>

static int result = 1;

static void on_published(void *ud, uint64_t id, bool dup, const pl_client_err *err)
{
    pl_loop *l = ud;
    if (err && err->rc == 0) {
        printf("published id=%llu dup=%d\n", (unsigned long long)id, dup);
        result = 0;
    } else {
        fprintf(stderr, "consumer: publish failed: %s\n", err ? err->message : "?");
    }
    pl_loop_stop(l);
}

int main(int argc, char **argv)
{
    pl_loop *l;
    if (argc != 2 || pl_client_global_init() != 0 || pl_loop_new(&l) != 0)
        return 2;
    pl_pub_msg m = {.user = "pkgconfig", .text = "built against the installed tree"};
    if (pl_publish_http(l, argv[1], "installed", &m, NULL, on_published, l) == 0)
        pl_loop_run(l, 10000);
    pl_loop_free(l);
    pl_client_global_cleanup();
    return result;
}
