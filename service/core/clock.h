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

/* Milliseconds and nanoseconds since an arbitrary fixed point. */
long long clock_mono_ms(void);
long long clock_mono_ns(void);

#endif
