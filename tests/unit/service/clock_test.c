/* clock_test.c - deadlines as pthread's timed waits take them (service/core/clock.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "service/core/clock.h"

static long long ns_of(struct timespec ts)
{
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The deadline is ms after the clock's reading taken inside the call: between two readings
 * taken around it, shifted by ms, and always a normalized timespec. */
static void check_after(clockid_t id, long long ms)
{
    struct timespec a, b;
    clock_gettime(id, &a);
    struct timespec d = clock_after(id, ms);
    clock_gettime(id, &b);
    assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    long long shift = (ms > 0 ? ms : 0) * 1000000LL;
    assert_true(ns_of(d) >= ns_of(a) + shift);
    assert_true(ns_of(d) <= ns_of(b) + shift);
}

static void test_after(void **state)
{
    (void)state;
    /* 999 ms carries into the seconds whenever the clock's own nanoseconds are past 1 ms */
    static const long long cases[] = {0, 1, 999, 1000, 1001, 12000, 86400000LL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_after(CLOCK_MONOTONIC, cases[i]);
        check_after(CLOCK_REALTIME, cases[i]);
    }
}

static void test_past_deadline_is_now(void **state)
{
    (void)state;
    check_after(CLOCK_MONOTONIC, -5000); /* a deadline already past: now, not earlier */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_after),
        cmocka_unit_test(test_past_deadline_is_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
