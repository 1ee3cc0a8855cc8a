/* watch_state: the claim state line (v2, and v1 from older versions) and
 * the totals before the hour marks the next cycles start at (issue 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "service/domain/watch_state.h"

static void test_round_trip(void **state)
{
    (void)state;
    struct watch_claim_state w, r;
    memset(&w, 0, sizeof w);
    w.ewma = 2.5;
    w.n = 7;
    snprintf(w.job, sizeof w.job, "j_0123");
    w.prev_ewma = 2;
    w.prev_n = 6;
    w.metric = 1;
    w.h0 = 7200;
    w.hw0 = 1000;
    w.h1 = 10800;
    w.hw1 = WATCH_TOTAL_UNKNOWN;
    char *line = watch_state_format(&w);
    watch_state_parse(line, &r);
    free(line);
    assert_true(r.ewma == 2.5 && r.n == 7 && r.prev_ewma == 2 && r.prev_n == 6 && r.metric == 1);
    assert_string_equal(r.job, "j_0123");
    assert_true(r.h0 == 7200 && r.hw0 == 1000 && r.h1 == 10800 && r.hw1 == WATCH_TOTAL_UNKNOWN);
}

/* An older version's line: its summed running total is dropped, the moving average kept. */
static void test_v1_and_garbage(void **state)
{
    (void)state;
    struct watch_claim_state r;
    watch_state_parse("v1 161325 7200 3.5 4 j_x 3 3 1", &r);
    assert_true(r.ewma == 3.5 && r.n == 4 && r.metric == 1);
    assert_true(r.h0 == 0 && r.h1 == 0);
    double base = 0;
    assert_int_equal(watch_state_base(&r, 7200, &base), 0);
    watch_state_parse("v2 nonsense", &r);
    assert_true(r.n == 0 && r.metric == -1);
    watch_state_parse(0, &r);
    assert_true(r.n == 0 && r.metric == -1);
    /* a line cut short, a job id longer than the record holds, a metric past int: nothing kept */
    watch_state_parse("v2 2.5 7 j_0123 2 6 1 7200 1000 10800", &r);
    assert_true(r.n == 0 && r.metric == -1 && r.ewma == 0);
    char line[400];
    snprintf(line, sizeof line, "v2 2.5 7 j_%0200d 2 6 1 7200 1000 10800 5", 0);
    watch_state_parse(line, &r);
    assert_true(r.n == 0 && r.metric == -1 && r.job[0] == '\0');
    watch_state_parse("v2 2.5 7 j_1 2 6 99999999999 7200 1000 10800 5", &r);
    assert_true(r.n == 0 && r.metric == -1);
    watch_state_parse("v2 2.5 7 j_1 2 6 1 7200 1000 10800 5 and more", &r);
    assert_true(r.n == 7 && r.metric == 1 && r.hw1 == 5);
}

static void test_base_and_advance(void **state)
{
    (void)state;
    struct watch_claim_state w;
    memset(&w, 0, sizeof w);
    double base = -5;
    assert_int_equal(watch_state_base(&w, 7200, &base), 0);
    /* the cycle at start 7200 saw 1000 before it and points up to 1004 */
    double ts[] = {7300, 9000, 11000}, v[] = {1001, 1003, 1004};
    struct watch_series s = {ts, v, 3};
    watch_state_advance(&w, &s, 1000, 7200);
    assert_int_equal(watch_state_base(&w, 7200, &base), 1); /* a cycle in the same hour */
    assert_true(base == 1000);
    assert_int_equal(watch_state_base(&w, 10800, &base), 1); /* the next hour */
    assert_true(base == 1003);
    assert_int_equal(watch_state_base(&w, 14400, &base), 0); /* later: read it again */
    assert_int_equal(watch_state_base(&w, 3600, &base), 0);  /* a longer window: read it again */
    /* nothing known, nothing seen: both marks unknown */
    memset(&w, 0, sizeof w);
    watch_state_advance(&w, 0, WATCH_TOTAL_UNKNOWN, 7200);
    assert_int_equal(watch_state_base(&w, 10800, &base), 1);
    assert_true(base == WATCH_TOTAL_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_v1_and_garbage),
        cmocka_unit_test(test_base_and_advance),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
