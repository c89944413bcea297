/* A tiny TAP test harness shared by the C tests: each TEST is one
 * behaviour, each CHECK failure marks that test "not ok" and returns from
 * it. meson runs the executables with protocol 'tap'. */
#ifndef PL_CHECK_H
#define PL_CHECK_H
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failed_now;
static int check_run, check_failures;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                      \
            check_failed_now = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            printf("# %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, a_, #b,   \
                   b_);                                                                            \
            check_failed_now = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            printf("# %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,             \
                   a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                        \
            check_failed_now = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define RUN(name)                                                                                  \
    do {                                                                                           \
        check_failed_now = 0;                                                                      \
        fflush(stdout);                                                                            \
        name();                                                                                    \
        check_run++;                                                                               \
        if (check_failed_now)                                                                      \
            check_failures++;                                                                      \
        printf("%sok %d - %s\n", check_failed_now ? "not " : "", check_run, #name);                \
        fflush(stdout);                                                                            \
    } while (0)

/* Prints a multi-line `text` (a child's stderr, say) as TAP comments. */
static inline void check_comment(const char *what, const char *text)
{
    printf("# %s:\n", what);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        printf("#   %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

#define CHECK_DONE() (printf("1..%d\n", check_run), check_failures ? 1 : 0)

#endif
