/* retry_test.c - retry decisions by AWS error class and backoff bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "jobs/retry.h"
#include "service/core/err.h"

static void test_permanent_classes_go_dead(void **state)
{
    (void)state;
    const enum job_fail_class dead[] = {JOB_FAIL_ACCESS,   JOB_FAIL_VALIDATION,
                                        JOB_FAIL_NOTFOUND, JOB_FAIL_CONFLICT,
                                        JOB_FAIL_LIMIT,    JOB_FAIL_CREDENTIALS};
    for (size_t i = 0; i < sizeof dead / sizeof dead[0]; i++)
        assert_int_equal(retry_decide(dead[i], 1, 5, 1), RETRY_DEAD);
}

static void test_transient_counts_until_exhausted(void **state)
{
    (void)state;
    assert_int_equal(retry_decide(JOB_FAIL_TRANSIENT, 1, 3, 1), RETRY_COUNTED);
    assert_int_equal(retry_decide(JOB_FAIL_TRANSIENT, 2, 3, 2), RETRY_COUNTED);
    assert_int_equal(retry_decide(JOB_FAIL_TRANSIENT, 3, 3, 3), RETRY_DEAD);
    assert_int_equal(retry_decide(JOB_FAIL_OTHER, 1, 2, 1), RETRY_COUNTED);
    assert_int_equal(retry_decide(JOB_FAIL_NONE, 2, 2, 2), RETRY_DEAD);
}

static void test_throttling_is_free_until_cap(void **state)
{
    (void)state;
    /* The last attempt throttled: still free, no attempt used. */
    assert_int_equal(retry_decide(JOB_FAIL_THROTTLED, 3, 3, 3), RETRY_FREE);
    assert_int_equal(retry_decide(JOB_FAIL_THROTTLED, 1, 3, 1 + RETRY_FREE_MAX - 1), RETRY_FREE);
    /* After RETRY_FREE_MAX free throttles they count like transient errors. */
    assert_int_equal(retry_decide(JOB_FAIL_THROTTLED, 1, 3, 1 + RETRY_FREE_MAX), RETRY_COUNTED);
    assert_int_equal(retry_decide(JOB_FAIL_THROTTLED, 3, 3, 3 + RETRY_FREE_MAX), RETRY_DEAD);
}

static void test_backoff_full_jitter_bounds(void **state)
{
    (void)state;
    const unsigned rnds[] = {0u, 1u, 7u, 1000u, 123456789u, 0xffffffffu};
    for (int n = 1; n <= 30; n++) {
        long long ceiling = 1000;
        for (int i = 1; i < n && ceiling < 300000; i++)
            ceiling *= 2;
        if (ceiling > 300000)
            ceiling = 300000;
        for (size_t k = 0; k < sizeof rnds / sizeof rnds[0]; k++) {
            long long d = retry_backoff_ms(n, 1000, 300000, rnds[k]);
            assert_true(d >= 0);
            assert_true(d <= ceiling);
        }
    }
    assert_int_equal(retry_backoff_ms(1, 1000, 300000, 0), 0);
    assert_int_equal(retry_backoff_ms(1, 1000, 300000, 1000), 1000);
    assert_int_equal(retry_backoff_ms(3, 1000, 300000, 4000), 4000);
    assert_int_equal(retry_backoff_ms(3, 1000, 300000, 4001), 0);
    assert_int_equal(retry_backoff_ms(50, 1000, 300000, 300000), 300000);
    assert_int_equal(retry_backoff_ms(5, 0, 300000, 99), 0);
}

static void test_backoff_spreads(void **state)
{
    (void)state;
    /* Full jitter: draws cover the whole range, not just the top. */
    int low = 0, high = 0;
    for (unsigned r = 0; r < 10000; r += 7) {
        long long d = retry_backoff_ms(4, 1000, 300000, r * 2654435761u);
        low += d < 2000;
        high += d > 6000;
    }
    assert_true(low > 100);
    assert_true(high > 100);
}

static void test_class_of_return_codes(void **state)
{
    (void)state;
    assert_int_equal(retry_class_of(FW_ETHROTTLED), JOB_FAIL_THROTTLED);
    assert_int_equal(retry_class_of(FW_EINVAL), JOB_FAIL_VALIDATION);
    assert_int_equal(retry_class_of(FW_ENOTFOUND), JOB_FAIL_NOTFOUND);
    assert_int_equal(retry_class_of(FW_EFORBIDDEN), JOB_FAIL_ACCESS);
    assert_int_equal(retry_class_of(FW_ETIMEOUT), JOB_FAIL_TRANSIENT);
    assert_int_equal(retry_class_of(FW_EREDIS), JOB_FAIL_TRANSIENT);
    assert_string_equal(retry_class_name(JOB_FAIL_THROTTLED), "throttling");
    assert_string_equal(retry_class_name((enum job_fail_class)99), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permanent_classes_go_dead),
        cmocka_unit_test(test_transient_counts_until_exhausted),
        cmocka_unit_test(test_throttling_is_free_until_cap),
        cmocka_unit_test(test_backoff_full_jitter_bounds),
        cmocka_unit_test(test_backoff_spreads),
        cmocka_unit_test(test_class_of_return_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
