/* job_test.c - lanes, names, payload rules and the JSON of a job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jobs/job.h"
#include "service/core/err.h"

static void test_lane_order_fairness(void **state)
{
    (void)state;
    int first[JOB_NLANES] = {0};
    for (unsigned long pick = 0; pick < 1000; pick++) {
        int order[JOB_NLANES];
        job_lane_order(pick, order);
        first[order[0]]++;
        /* Every order is a permutation of the three lanes. */
        assert_int_equal(order[0] + order[1] + order[2], 3);
        assert_true(order[0] != order[1] && order[1] != order[2] && order[0] != order[2]);
    }
    assert_int_equal(first[JOB_LANE_BULK], 100);  /* every 10th pick */
    assert_true(first[JOB_LANE_DEFAULT] >= 200);  /* every 4th pick, less the bulk ones */
    assert_true(first[JOB_LANE_CRITICAL] >= 600); /* critical still leads */
    /* Any 10 consecutive picks put bulk first at least once. */
    for (unsigned long start = 0; start < 50; start++) {
        int seen = 0;
        for (unsigned long p = start; p < start + 10; p++) {
            int order[JOB_NLANES];
            job_lane_order(p, order);
            seen |= order[0] == JOB_LANE_BULK;
        }
        assert_true(seen);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(job_lane_name(JOB_LANE_BULK), "bulk");
    assert_null(job_lane_name(3));
    assert_int_equal(job_lane_parse("critical"), JOB_LANE_CRITICAL);
    assert_int_equal(job_lane_parse("urgent"), -1);
    assert_true(job_state_valid("canceled"));
    assert_false(job_state_valid("cancelled"));
    assert_true(job_state_terminal("dead"));
    assert_false(job_state_terminal("failed"));
    assert_true(job_type_valid("claim.create"));
    assert_false(job_type_valid("Claim.Create"));
    assert_false(job_type_valid(""));
    assert_true(job_token_valid("claim:abc-1", 64));
    assert_false(job_token_valid("claim abc", 64));
    assert_false(job_token_valid("x\"y", 64));
}

static void test_secret_keys(void **state)
{
    (void)state;
    const char *secret[] = {"privateKey",      "private_key",  "token",     "Token",
                            "secret",          "clientSecret", "password",  "SessionToken",
                            "secretAccessKey", "api-key",      "passphrase"};
    const char *fine[] = {"claimId",          "fleet",     "clientToken",
                          "idempotencyToken", "keySource", "templateName"};
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        assert_true(job_key_is_secret(secret[i]));
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        assert_false(job_key_is_secret(fine[i]));
}

static void test_payload_check(void **state)
{
    (void)state;
    char why[200];
    assert_int_equal(job_payload_check("{\"claim\":\"abc\",\"n\":[1,2]}", why, sizeof why), 0);
    assert_int_equal(job_payload_check("{\"a\":{\"b\":[{\"privateKey\":\"x\"}]}}", why, sizeof why),
                     FW_EINVAL);
    assert_non_null(strstr(why, "privateKey"));
    assert_int_equal(job_payload_check("[1]", why, sizeof why), FW_EBADJSON);
    assert_int_equal(job_payload_check("{bad", why, sizeof why), FW_EBADJSON);
    char *big = malloc(JOB_PAYLOAD_MAX + 100);
    memset(big, ' ', JOB_PAYLOAD_MAX + 99);
    big[0] = '{';
    big[JOB_PAYLOAD_MAX + 98] = '}';
    big[JOB_PAYLOAD_MAX + 99] = '\0';
    assert_int_equal(job_payload_check(big, why, sizeof why), FW_ETOOBIG);
    free(big);
}

static void test_ids_and_time(void **state)
{
    (void)state;
    char a[JOB_ID_MAX], b[JOB_ID_MAX], t[32];
    assert_int_equal(job_id_new(a), 0);
    assert_int_equal(job_id_new(b), 0);
    assert_int_equal(strlen(a), 26);
    assert_true(job_token_valid(a, JOB_ID_MAX));
    assert_string_not_equal(a, b);
    job_time_rfc3339(1795824000123LL, t);
    assert_string_equal(t, "2026-11-28T00:00:00.123Z");
}

/* A stored record (job_record.h) read and rendered. */
static json_t *render_stored(const char *id, const char *const *stored, size_t n)
{
    static struct job_fields f;
    assert_int_equal(job_record_expand(id, stored, n, &f), 0);
    return job_render(&f);
}

static void test_render(void **state)
{
    (void)state;
    const char *stored[] = {"t",
                            "claim.create",
                            "l",
                            "critical",
                            "s",
                            "5",
                            "a",
                            "3",
                            "m",
                            "3",
                            "p",
                            "{\"claim\":\"abc\"}",
                            "R",
                            "claim:abc",
                            "c",
                            "1795824000000",
                            "b",
                            "1000",
                            "f",
                            "2500",
                            "pd",
                            "2",
                            "pt",
                            "4",
                            "ps",
                            "attach-policy",
                            "s:create-cert",
                            "{\"certificateId\":\"c1\"}",
                            "s:raw",
                            "not json",
                            "e",
                            "[{\"class\":\"access\",\"code\":\"AccessDenied\",\"message\":\"no\"}]",
                            "w",
                            "access error: not retried",
                            "T",
                            "17.1"};
    json_t *o = render_stored("j_1", stored, sizeof stored / sizeof stored[0]);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "j_1");
    assert_string_equal(json_string_value(json_object_get(o, "state")), "dead");
    assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 3);
    assert_int_equal(json_integer_value(json_object_get(o, "maxAttempts")), 3);
    json_t *p = json_object_get(o, "progress");
    assert_int_equal(json_integer_value(json_object_get(p, "done")), 2);
    assert_int_equal(json_integer_value(json_object_get(p, "total")), 4);
    assert_string_equal(json_string_value(json_object_get(p, "step")), "attach-policy");
    json_t *steps = json_object_get(o, "steps");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(steps, "create-cert"), "certificateId")),
        "c1");
    assert_string_equal(json_string_value(json_object_get(steps, "raw")), "not json");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(o, "errors"), 0), "code")),
        "AccessDenied");
    assert_string_equal(json_string_value(json_object_get(o, "createdAt")),
                        "2026-11-28T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(o, "finishedAt")),
                        "2026-11-28T00:00:02.500Z");
    assert_true(json_is_null(json_object_get(o, "nextRunAt")));
    assert_true(json_is_null(json_object_get(o, "result")));
    assert_string_equal(json_string_value(json_object_get(o, "href")), "/v1/jobs/j_1");
    assert_string_equal(json_string_value(json_object_get(o, "resource")), "claim:abc");
    assert_null(json_object_get(o, "token")); /* the fencing token is internal */
    assert_null(json_object_get(o, "T"));
    json_decref(o);
}

static void test_render_empty_errors_is_array(void **state)
{
    (void)state;
    const char *stored[] = {"e", "{}", "s", "0"};
    json_t *o = render_stored("j_2", stored, 4);
    assert_true(json_is_array(json_object_get(o, "errors")));
    assert_int_equal(json_array_size(json_object_get(o, "errors")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(o, "progress"), "total")));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lane_order_fairness),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_secret_keys),
        cmocka_unit_test(test_payload_check),
        cmocka_unit_test(test_ids_and_time),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_render_empty_errors_is_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
