/* Specification of client/sse_parser: the WHATWG EventSource parsing rules,
 * case by case in the spirit of web-platform-tests eventsource/format-*,
 * each also fed split at every byte boundary and one byte at a time. */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "sse_parser.h"

/* Events and retries seen, as "type|id|data;" records and "retry=N;". */
typedef struct record {
    char log[4096];
    size_t len;
} record;

static void add(record *r, const char *s, size_t n)
{
    if (r->len + n < sizeof r->log) {
        memcpy(r->log + r->len, s, n);
        r->len += n;
        r->log[r->len] = '\0';
    }
}

static void on_event(void *ud, const pl_sse_parser_event *ev)
{
    record *r = ud;
    add(r, ev->type, ev->type_len);
    add(r, "|", 1);
    add(r, ev->id, ev->id_len);
    add(r, "|", 1);
    for (size_t i = 0; i < ev->data_len; i++)
        add(r, ev->data[i] ? &ev->data[i] : "0", 1); /* a NUL shows as '0' */
    add(r, ";", 1);
}

static void on_retry(void *ud, uint64_t ms)
{
    char buf[40];
    add(ud, buf, (size_t)snprintf(buf, sizeof buf, "retry=%llu;", (unsigned long long)ms));
}

static const pl_sse_parser_callbacks cbs = {.on_event = on_event, .on_retry = on_retry};

/* Parses `in` (n bytes) cut at `cut` (n: whole) or byte by byte (cut ==
 * SIZE_MAX) into r. Returns the last feed's result. */
static int parse(const char *in, size_t n, size_t cut, record *r)
{
    pl_sse_parser p;
    int rc = 0;
    memset(r, 0, sizeof *r);
    pl_sse_parser_init(&p, 256, &cbs, r);
    if (cut == SIZE_MAX) {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = pl_sse_parser_feed(&p, in + i, 1);
    } else {
        rc = pl_sse_parser_feed(&p, in, cut);
        if (rc == 0)
            rc = pl_sse_parser_feed(&p, in + cut, n - cut);
    }
    pl_sse_parser_free(&p);
    return rc;
}

/* True when every split of `in` yields `want`; prints the first that
 * does not. */
static int same_at_every_split(const char *in, size_t n, const char *want)
{
    record r;
    for (size_t cut = 0; cut <= n + 1; cut++) {
        size_t c = cut == n + 1 ? SIZE_MAX : cut;
        parse(in, n, c, &r);
        if (strcmp(r.log, want) != 0) {
            printf("# split at %zd: got \"%s\", want \"%s\"\n",
                   c == SIZE_MAX ? (ssize_t)-1 : (ssize_t)c, r.log, want);
            return 0;
        }
    }
    return 1;
}

#define EXPECT(lit, want) CHECK(same_at_every_split(lit, sizeof(lit) - 1, want))

TEST(one_event_has_type_message_and_its_data) { EXPECT("data: hello\n\n", "message||hello;"); }

TEST(data_lines_are_joined_with_newline)
{
    EXPECT("data: one\ndata: two\ndata\ndata:three\n\n", "message||one\ntwo\n\nthree;");
}

TEST(lf_cr_and_crlf_all_end_lines)
{
    EXPECT("data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\r", "message||a\nb\nc;message||d;");
}

TEST(crlf_split_between_reads_is_one_line_end)
{
    /* A CR-LF counted as two ends would dispatch "a" alone, then "b". */
    EXPECT("data: a\r\ndata: b\r\n\r\n", "message||a\nb;");
}

TEST(leading_bom_is_stripped_once)
{
    EXPECT("\xEF\xBB\xBF"
           "data: x\n\n",
           "message||x;");
    /* a second BOM makes the first field name "\xEF\xBB\xBF" "data": unknown */
    EXPECT("\xEF\xBB\xBF\xEF\xBB\xBF"
           "data: x\n\ndata: y\n\n",
           "message||y;");
}

TEST(comments_are_ignored_inside_and_between_events)
{
    EXPECT(": ping\ndata: a\n:comment\ndata: b\n\n: ping\n\n", "message||a\nb;");
}

TEST(event_field_sets_the_type_for_one_event)
{
    EXPECT("event: chat\ndata: a\n\ndata: b\n\nevent:\ndata: c\n\n",
           "chat||a;message||b;message||c;");
}

TEST(id_persists_until_changed_and_empty_id_resets_it)
{
    EXPECT("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", "message|7|a;message|7|b;message||c;");
}

TEST(id_holding_nul_is_ignored)
{
    static const char in[] = "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n";
    CHECK(same_at_every_split(in, sizeof in - 1, "message|1|a;message|1|b;"));
}

TEST(only_one_space_after_colon_is_stripped)
{
    EXPECT("data:  two\ndata:none\n\n", "message|| two\nnone;");
}

TEST(field_without_colon_has_empty_value) { EXPECT("data\n\n", "message||;"); }

TEST(retry_accepts_ascii_digits_only)
{
    EXPECT("retry: 1500\nretry: 15x\nretry: -1\nretry:\nretry: 1 5\nretry:20\n\n",
           "retry=1500;retry=20;");
}

TEST(unknown_fields_are_ignored) { EXPECT("foo: bar\nData: no\ndata: yes\n\n", "message||yes;"); }

TEST(empty_data_buffer_dispatches_nothing) { EXPECT("event: x\n\n\n\nid: 3\n\n", ""); }

TEST(data_line_of_empty_value_dispatches_empty_string) { EXPECT("data:\n\n", "message||;"); }

TEST(unterminated_last_event_is_not_dispatched) { EXPECT("data: a\n\ndata: b\n", "message||a;"); }

TEST(nul_in_data_is_kept)
{
    static const char in[] = "data: a\0b\n\n";
    CHECK(same_at_every_split(in, sizeof in - 1, "message||a0b;"));
}

TEST(a_pushlab_stream_parses_into_its_messages)
{
    EXPECT("retry: 2000\n\n: ping\n\nid: 1\nevent: message\ndata: {\"id\":1}\n\n"
           "id: 2\nevent: message\ndata: {\"id\":2}\n\n",
           "retry=2000;message|1|{\"id\":1};message|2|{\"id\":2};");
}

TEST(line_past_the_bound_is_an_error)
{
    char in[600];
    record r;
    memcpy(in, "data: ", 6);
    memset(in + 6, 'x', sizeof in - 6);
    CHECK_EQ_INT(parse(in, sizeof in, sizeof in, &r), -EMSGSIZE);
    CHECK_EQ_INT(parse(in, sizeof in, SIZE_MAX, &r), -EMSGSIZE);
}

/* Found by fuzz_sse_parser: a comment past the bound was refused when it
 * came in two reads and accepted when it came in one. */
TEST(line_past_the_bound_is_an_error_however_the_reads_split_it)
{
    char in[320];
    record r;
    memcpy(in, ": ", 2);
    memset(in + 2, 'c', 300);
    memcpy(in + 302, "\ndata: a\n\n", 11);
    size_t n = 313;
    for (size_t cut = 0; cut <= n; cut++) {
        CHECK_EQ_INT(parse(in, n, cut, &r), -EMSGSIZE);
        CHECK_EQ_STR(r.log, "");
    }
    CHECK_EQ_INT(parse(in, n, SIZE_MAX, &r), -EMSGSIZE);
}

TEST(reset_stream_keeps_last_event_id)
{
    pl_sse_parser p;
    record r = {0};
    pl_sse_parser_init(&p, 0, &cbs, &r);
    CHECK_EQ_INT(pl_sse_parser_feed(&p, "id: 9\ndata: a\n\ndata: half", 25), 0);
    pl_sse_parser_reset_stream(&p);
    CHECK_EQ_INT(pl_sse_parser_feed(&p, "data: b\n\n", 9), 0);
    pl_sse_parser_free(&p);
    CHECK_EQ_STR(r.log, "message|9|a;message|9|b;");
}

int main(void)
{
    RUN(one_event_has_type_message_and_its_data);
    RUN(data_lines_are_joined_with_newline);
    RUN(lf_cr_and_crlf_all_end_lines);
    RUN(crlf_split_between_reads_is_one_line_end);
    RUN(leading_bom_is_stripped_once);
    RUN(comments_are_ignored_inside_and_between_events);
    RUN(event_field_sets_the_type_for_one_event);
    RUN(id_persists_until_changed_and_empty_id_resets_it);
    RUN(id_holding_nul_is_ignored);
    RUN(only_one_space_after_colon_is_stripped);
    RUN(field_without_colon_has_empty_value);
    RUN(retry_accepts_ascii_digits_only);
    RUN(unknown_fields_are_ignored);
    RUN(empty_data_buffer_dispatches_nothing);
    RUN(data_line_of_empty_value_dispatches_empty_string);
    RUN(unterminated_last_event_is_not_dispatched);
    RUN(nul_in_data_is_kept);
    RUN(a_pushlab_stream_parses_into_its_messages);
    RUN(line_past_the_bound_is_an_error);
    RUN(line_past_the_bound_is_an_error_however_the_reads_split_it);
    RUN(reset_stream_keeps_last_event_id);
    return CHECK_DONE();
}
