/* Leveled logging; see log.h. One fprintf per line keeps lines whole when
 * several threads log at once. */
#include "log.h"
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int current_level = PL_LOG_WARN;
static const char *const names[] = {"error", "warn", "info", "debug"};

void pl_log_set_level(enum pl_log_level level) { atomic_store(&current_level, (int)level); }

int pl_log_parse_level(const char *name, enum pl_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum pl_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void pl_log(enum pl_log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&current_level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld pushlab %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, names[level], line);
}
