/* clock.c - the monotonic clock (see clock.h). */
#include "service/core/clock.h"

#include <time.h>

long long clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long clock_mono_ms(void)
{
    return clock_mono_ns() / 1000000LL;
}

struct timespec clock_after(clockid_t clock_id, long long ms)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
