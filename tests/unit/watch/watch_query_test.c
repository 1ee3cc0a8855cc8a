/*
 * watch_query_test.c - query building for a watch group
 * (jobs/handlers/watch_query.c): ids, dimensions, per-owner dedup, the
 * minimum number of calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "jobs/handlers/watch_query.h"

static void test_dedup_per_owner(void **state)
{
    (void)state;
    struct watch_qset s = {0};
    size_t a = watch_qset_add(&s, WATCH_MET_REG, 0, "Sum", 300, "cert0", 5);
    size_t b = watch_qset_add(&s, WATCH_MET_REG, 0, "Sum", 300, "cert0", 5);
    size_t c = watch_qset_add(&s, WATCH_MET_REG, 0, "Maximum", 300, "cert0", 5);
    size_t d = watch_qset_add(&s, WATCH_MET_REG, 1, "Sum", 300, "cert1", 5);
    size_t e = watch_qset_add(&s, WATCH_MET_REG, 0, "Sum", 60, "cert0", 5);
    assert_int_equal(a, b);
    assert_true(c != a && d != a && e != a);
    assert_int_equal(s.n, 4);
    watch_qset_cleanup(&s);
}

static void test_build(void **state)
{
    (void)state;
    struct watch_qset s = {0};
    watch_qset_add(&s, WATCH_MET_REG, 0, "Sum", 300, "cert0", 5);
    watch_qset_add(&s, WATCH_MET_FAIL, 0, "SampleCount", 300, "tmpl", 2);
    watch_qset_add(&s, WATCH_MET_KEYS, -1, "Sum", 300, 0, 0);
    watch_qset_build(&s);
    assert_string_equal(s.cw[0].id, "q0");
    assert_string_equal(s.cw[0].metric_name, "ApproximateNumberOfThingsRegistered");
    assert_string_equal(s.cw[0].dims[0].name, "ClaimCertificateId");
    assert_string_equal(s.cw[0].dims[0].value, "cert0");
    assert_string_equal(s.cw[1].metric_name, "RegisterThingFailed");
    assert_string_equal(s.cw[1].dims[0].name, "TemplateName");
    assert_string_equal(s.cw[1].stat, "SampleCount");
    assert_string_equal(s.cw[2].metric_name, "CreateKeysAndCertificateFailed");
    assert_int_equal(s.cw[2].ndims, 0);
    assert_string_equal(s.cw[2].namespace_, "AWS/IoT");
    assert_int_equal(watch_qset_index(s.cw[2].id), 2);
    watch_qset_cleanup(&s);
}

static void test_many_and_min_calls(void **state)
{
    (void)state;
    struct watch_qset s = {0};
    char certs[1200][16];
    for (int i = 0; i < 1200; i++) {
        snprintf(certs[i], sizeof certs[i], "c%d", i);
        watch_qset_add(&s, WATCH_MET_REG, i, "Sum", 300, certs[i], 5);
        watch_qset_add(&s, WATCH_MET_REG, i, "Sum", 300, certs[i], 5);
    }
    assert_int_equal(s.n, 1200);
    watch_qset_build(&s);
    assert_string_equal(s.cw[1199].id, "q1199");
    assert_int_equal(watch_qset_min_calls(s.n), 3);
    assert_int_equal(watch_qset_min_calls(500), 1);
    assert_int_equal(watch_qset_min_calls(501), 2);
    assert_int_equal(watch_qset_min_calls(0), 0);
    watch_qset_cleanup(&s);
}

static void test_index(void **state)
{
    (void)state;
    assert_int_equal(watch_qset_index("q17"), 17);
    assert_int_equal(watch_qset_index("q"), -1);
    assert_int_equal(watch_qset_index("x1"), -1);
    assert_int_equal(watch_qset_index("q1a"), -1);
    assert_int_equal(watch_qset_index(0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup_per_owner),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_many_and_min_calls),
        cmocka_unit_test(test_index),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
