/* schedule_test.c - next-tick computation and schedule parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "jobs/schedule.h"
#include "service/core/err.h"

#define DAY_MS (86400LL * 1000)
/* 2026-11-28T00:00:00Z */
#define T0 1795824000000LL

static void test_every_aligned_slots(void **state)
{
    (void)state;
    struct schedule_spec s = {60, -1};
    assert_int_equal(schedule_next_ms(&s, T0), T0 + 60000);
    assert_int_equal(schedule_next_ms(&s, T0 + 1), T0 + 60000);
    assert_int_equal(schedule_next_ms(&s, T0 + 59999), T0 + 60000);
    assert_int_equal(schedule_next_ms(&s, T0 + 60000), T0 + 120000);
}

static void test_every_after_downtime_collapses(void **state)
{
    (void)state;
    /* Down for an hour: the next tick is the first slot after now, so the
     * missed ones are not replayed one by one. */
    struct schedule_spec s = {10, -1};
    long long now = T0 + 3600 * 1000 + 4321;
    long long next = schedule_next_ms(&s, now);
    assert_true(next > now);
    assert_true(next - now <= 10000);
    assert_int_equal(next % 10000, 0);
}

static void test_daily(void **state)
{
    (void)state;
    struct schedule_spec s = {0, 0};
    assert_int_equal(schedule_parse_daily("03:30", &s.daily_min), 0);
    assert_int_equal(s.daily_min, 210);
    assert_int_equal(schedule_next_ms(&s, T0), T0 + 210 * 60000LL);
    assert_int_equal(schedule_next_ms(&s, T0 + 210 * 60000LL), T0 + DAY_MS + 210 * 60000LL);
    assert_int_equal(schedule_next_ms(&s, T0 + 23 * 3600000LL), T0 + DAY_MS + 210 * 60000LL);
    s.daily_min = 0;
    assert_int_equal(schedule_next_ms(&s, T0), T0 + DAY_MS);
    assert_int_equal(schedule_next_ms(&s, T0 - 1), T0);
}

static void test_parse_daily_rejects(void **state)
{
    (void)state;
    int m = -1;
    const char *bad[] = {"24:00", "12:60", "1:00", "12:0", "12-00", "", "12:00x", "ab:cd"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(schedule_parse_daily(bad[i], &m), FW_EINVAL);
    assert_int_equal(schedule_parse_daily(NULL, &m), FW_EINVAL);
    assert_int_equal(schedule_parse_daily("23:59", &m), 0);
    assert_int_equal(m, 1439);
}

static void test_spec_check(void **state)
{
    (void)state;
    struct schedule_spec both = {60, 10}, none = {0, -1}, every = {60, -1}, daily = {0, 10};
    struct schedule_spec huge = {32L * 86400, -1};
    assert_int_equal(schedule_spec_check(&both), FW_EINVAL);
    assert_int_equal(schedule_spec_check(&none), FW_EINVAL);
    assert_int_equal(schedule_spec_check(&huge), FW_EINVAL);
    assert_int_equal(schedule_spec_check(&every), 0);
    assert_int_equal(schedule_spec_check(&daily), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_aligned_slots),
        cmocka_unit_test(test_every_after_downtime_collapses),
        cmocka_unit_test(test_daily),
        cmocka_unit_test(test_parse_daily_rejects),
        cmocka_unit_test(test_spec_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
