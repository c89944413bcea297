/* Specification of the floor run's event counter: every SSE event is
 * counted once however the stream is cut into reads, and nothing else in
 * the stream (head, retry, heartbeats) counts. */
#include "check.h"
#include "event_count.h"

static const char stream[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                             "retry: 2000\n\n"
                             ": ping\n\n"
                             "id: 1\ndata: {\"text\":\"data: not an event\"}\n\n"
                             "id: 2\ndata: {\"text\":\"b\"}\n\n"
                             ": ping\n\n"
                             "id: 3\ndata: {}\n\n";

/* Feeds stream[] in pieces of `piece` bytes; returns the events counted. */
static uint64_t count_in_pieces(size_t piece)
{
    char buf[PL_EVENT_COUNT_TAIL + sizeof stream];
    pl_event_counter c = {0};
    uint64_t n = 0;
    for (size_t off = 0; off < sizeof stream - 1; off += piece) {
        size_t len = sizeof stream - 1 - off < piece ? sizeof stream - 1 - off : piece;
        memcpy(buf + PL_EVENT_COUNT_TAIL, stream + off, len);
        n += pl_event_count(&c, buf + PL_EVENT_COUNT_TAIL, len);
    }
    return n;
}

TEST(counts_each_event_once_in_one_read) { CHECK_EQ_INT(count_in_pieces(sizeof stream), 3); }

TEST(counts_each_event_once_whatever_the_read_sizes)
{
    for (size_t piece = 1; piece < sizeof stream; piece++)
        CHECK_EQ_INT(count_in_pieces(piece), 3);
}

TEST(counts_nothing_in_a_stream_of_heartbeats)
{
    char buf[PL_EVENT_COUNT_TAIL + 32];
    pl_event_counter c = {0};
    memcpy(buf + PL_EVENT_COUNT_TAIL, ": ping\n\nretry: 2000\n\n", 21);
    CHECK_EQ_INT(pl_event_count(&c, buf + PL_EVENT_COUNT_TAIL, 21), 0);
}

int main(void)
{
    RUN(counts_each_event_once_in_one_read);
    RUN(counts_each_event_once_whatever_the_read_sizes);
    RUN(counts_nothing_in_a_stream_of_heartbeats);
    return CHECK_DONE();
}
