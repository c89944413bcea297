/* Time helpers: a monotonic clock for intervals and deadlines, and the real
 * clock for message timestamps. Both in microseconds. */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H
#include <stdint.h>

/* Microseconds on CLOCK_MONOTONIC: for measuring intervals only. */
int64_t pl_clock_mono_us(void);
/* Microseconds since the Unix epoch (CLOCK_REALTIME): message `ts`. */
int64_t pl_clock_real_us(void);

/* The first instant after `now_us` on the grid epoch_us + k * period_us
 * (k a whole number). Periodic work keyed to it, such as heartbeats of
 * one period, lands on the same instants for everyone, so one wake-up
 * serves them all. `period_us` must be positive. */
int64_t pl_clock_next_tick(int64_t epoch_us, int64_t period_us, int64_t now_us);

/* CPU this process has used: user and kernel (system) time, in seconds.
 * Kept apart because the kernel part is the network stack's own cost,
 * which no user-space change can remove. */
typedef struct pl_cpu {
    double user_s, sys_s;
} pl_cpu;
pl_cpu pl_clock_cpu(void);
/* CPU the calling thread has used (user + kernel), in seconds. */
double pl_clock_thread_cpu_s(void);

#endif
