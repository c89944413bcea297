/* Time helpers: a monotonic clock for intervals and deadlines, and the real
 * clock for message timestamps. Both in microseconds. */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H
#include <stdint.h>

/* Microseconds on CLOCK_MONOTONIC: for measuring intervals only. */
int64_t pl_clock_mono_us(void);
/* Microseconds since the Unix epoch (CLOCK_REALTIME): message `ts`. */
int64_t pl_clock_real_us(void);

#endif
