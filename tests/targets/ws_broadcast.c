/* ws-broadcast: the tutorial's chat server, for pushlab-bench's
 * `--target ws-broadcast`: every text frame any client sends is relayed to
 * every connection, the sender included, verbatim. No rooms, ids or
 * history beyond a ring of the last RING frames, which lets a slow reader
 * fall behind a little; one that falls further is closed. One thread, one
 * libwebsockets service loop.
 * Usage: ws-broadcast [PORT]   (0 or none: any free port; prints
 *        "ws-broadcast listening ws://127.0.0.1:PORT"; SIGTERM stops it) */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING      4096       /* frames kept for readers behind the newest */
#define FRAME_MAX (64 << 10) /* bigger client messages close the sender */

/* One relayed frame; LWS_PRE bytes of headroom for lws_write. */
typedef struct frame {
    size_t len;
    unsigned char buf[];
} frame;

/* Per connection: the next frame it has to get, and a reassembly buffer. */
typedef struct conn {
    uint64_t next;
    unsigned char *rx;
    size_t rx_len;
} conn;

static struct {
    frame *ring[RING];
    uint64_t head; /* sequence number of the next frame stored */
    struct lws_context *ctx;
    volatile sig_atomic_t stop;
} g;

static void store_frame(struct lws *wsi, const unsigned char *p, size_t n)
{
    frame *f = malloc(sizeof *f + LWS_PRE + n);
    if (!f)
        return;
    f->len = n;
    memcpy(f->buf + LWS_PRE, p, n);
    free(g.ring[g.head % RING]); /* the one RING frames ago */
    g.ring[g.head % RING] = f;
    g.head++;
    lws_callback_on_writable_all_protocol(lws_get_context(wsi), lws_get_protocol(wsi));
}

/* Collects fragments of one message; relays it once whole. Returns -1 to
 * close a sender whose message is too big. */
static int on_receive(struct lws *wsi, conn *c, const void *in, size_t len)
{
    if (c->rx_len + len > FRAME_MAX)
        return -1;
    if (!c->rx && !(c->rx = malloc(FRAME_MAX)))
        return -1;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    if (!lws_frame_is_binary(wsi))
        store_frame(wsi, c->rx, c->rx_len);
    c->rx_len = 0;
    return 0;
}

/* One frame per writable callback, oldest first, as lws asks. */
static int on_writable(struct lws *wsi, conn *c)
{
    if (c->next == g.head)
        return 0;
    if (g.head - c->next > RING)
        return -1; /* fell behind the ring: a slow consumer is dropped */
    frame *f = g.ring[c->next % RING];
    if (lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
        return -1;
    c->next++;
    if (c->next != g.head)
        lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: c->next = g.head; return 0;
    case LWS_CALLBACK_RECEIVE: return on_receive(wsi, c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE: return on_writable(wsi, c);
    case LWS_CALLBACK_CLOSED: free(c->rx); return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    g.stop = 1;
    lws_cancel_service(g.ctx);
}

int main(int argc, char **argv)
{
    static const struct lws_protocols protocols[] = {
        {"ws-broadcast", callback, sizeof(conn), 4096, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
    };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = argc > 1 ? atoi(argv[1]) : 0;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    lws_set_log_level(LLL_ERR, NULL);
    if (!(g.ctx = lws_create_context(&info))) {
        fprintf(stderr, "ws-broadcast: cannot listen on 127.0.0.1:%d\n", info.port);
        return 1;
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(g.ctx, "default");
    printf("ws-broadcast listening ws://127.0.0.1:%d\n", vh ? lws_get_vhost_listen_port(vh) : 0);
    fflush(stdout);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!g.stop && lws_service(g.ctx, 0) >= 0)
        ;
    lws_context_destroy(g.ctx);
    for (size_t i = 0; i < RING; i++)
        free(g.ring[i]);
    return 0;
}
