/*
 * clock.h - the monotonic clock, for timeouts, deadlines and durations.
 *
 * CLOCK_MONOTONIC never jumps with the wall clock (NTP, an operator's
 * `date -s`), so a deadline computed from it holds. Times stored or shown
 * (a job's createdAt, a schedule's due slot) use Redis TIME or the wall
 * clock instead, never these.
 */
#ifndef FW_CORE_CLOCK_H
#define FW_CORE_CLOCK_H

#include <time.h>

/* Milliseconds and nanoseconds since an arbitrary fixed point. */
long long clock_mono_ms(void);
long long clock_mono_ns(void);

/* The time ms (>= 0) from now on clock clock_id, as pthread's timed waits take a deadline
 * (CLOCK_MONOTONIC for a condition variable set up with it, CLOCK_REALTIME for
 * pthread_timedjoin_np). */
struct timespec clock_after(clockid_t clock_id, long long ms);

#endif
