/* Time helpers; see clock.h. Reads the system clocks and the process
 * CPU times; no state. */
#include "clock.h"
#include <sys/resource.h>
#include <time.h>

static int64_t read_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pl_clock_mono_us(void) { return read_us(CLOCK_MONOTONIC); }
int64_t pl_clock_real_us(void) { return read_us(CLOCK_REALTIME); }

int64_t pl_clock_next_tick(int64_t epoch_us, int64_t period_us, int64_t now_us)
{
    if (now_us < epoch_us)
        return epoch_us;
    return epoch_us + ((now_us - epoch_us) / period_us + 1) * period_us;
}

double pl_clock_thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

pl_cpu pl_clock_cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (pl_cpu){.user_s = (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6,
                    .sys_s = (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6};
}
