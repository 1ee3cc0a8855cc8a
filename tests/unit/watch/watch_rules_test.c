/*
 * watch_rules_test.c - settings validation, defaults and every rule over
 * hand-made series (service/domain/watch_rules.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/watch_rules.h"
#include "service/core/err.h"

/* Validates text; returns the number of errors and the first field. */
static size_t check(const char *text, char *field, size_t fl)
{
    json_t *w = json_loads(text, 0, 0), *errs = json_array();
    assert_non_null(w);
    int rc = watch_settings_validate(w, errs);
    size_t n = json_array_size(errs);
    assert_int_equal(rc != 0, n != 0);
    field[0] = '\0';
    if (n)
        snprintf(field, fl, "%s",
                 json_string_value(json_object_get(json_array_get(errs, 0), "field")));
    json_decref(w);
    json_decref(errs);
    return n;
}

static void test_validate_good(void **state)
{
    (void)state;
    char f[160];
    assert_int_equal(check("{}", f, sizeof f), 0);
    assert_int_equal(watch_settings_validate(0, 0), 0);
    assert_int_equal(
        check(
            "{\"action\":\"revoke\",\"replace\":true,\"webhook\":{\"url\":\"https://h.example/x\","
            "\"secret\":\"0123456789abcdef\"},\"rules\":{\"registrationsPerHour\":{\"threshold\":5,"
            "\"windowSeconds\":1800,\"statistic\":\"Maximum\",\"periodSeconds\":60},"
            "\"allowedHours\":{\"enabled\":true,\"allowedHoursUtc\":[22,6]},"
            "\"baselineJump\":{\"factor\":2.5,\"alpha\":0.5}}}",
            f, sizeof f),
        0);
}

static void test_validate_bad_fields(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *field;
    } cases[] = {
        {"{\"action\":\"nuke\"}", "watch.action"},
        {"{\"enabled\":1}", "watch.enabled"},
        {"{\"bogus\":1}", "watch.bogus"},
        {"{\"rules\":{\"registrationsPerHour\":{\"threshhold\":5}}}",
         "watch.rules.registrationsPerHour.threshhold"},
        {"{\"rules\":{\"registrationsPerHour\":{\"threshold\":-1}}}",
         "watch.rules.registrationsPerHour.threshold"},
        {"{\"rules\":{\"registrationsPerHour\":{\"periodSeconds\":90}}}",
         "watch.rules.registrationsPerHour.periodSeconds"},
        {"{\"rules\":{\"registrationsPerHour\":{\"statistic\":\"p99\"}}}",
         "watch.rules.registrationsPerHour.statistic"},
        /* a running total: Sum of its data points adds totals (issue 13) */
        {"{\"rules\":{\"registrationsPerHour\":{\"statistic\":\"Sum\"}}}",
         "watch.rules.registrationsPerHour.statistic"},
        {"{\"rules\":{\"baselineJump\":{\"statistic\":\"Average\"}}}",
         "watch.rules.baselineJump.statistic"},
        {"{\"rules\":{\"failedRegistrationsPerHour\":{\"statistic\":\"p99\"}}}",
         "watch.rules.failedRegistrationsPerHour.statistic"},
        {"{\"rules\":{\"allowedHours\":{\"allowedHoursUtc\":[6]}}}",
         "watch.rules.allowedHours.allowedHoursUtc"},
        {"{\"rules\":{\"allowedHours\":{\"allowedHoursUtc\":[5,5]}}}",
         "watch.rules.allowedHours.allowedHoursUtc"},
        {"{\"rules\":{\"expectedDevices\":{\"threshold\":5}}}",
         "watch.rules.expectedDevices.threshold"},
        {"{\"rules\":{\"nope\":{}}}", "watch.rules.nope"},
        {"{\"webhook\":{\"url\":\"http://example.com/\",\"secret\":\"0123456789abcdef\"}}",
         "watch.webhook.url"},
        {"{\"webhook\":{\"url\":\"https://example.com/\",\"secret\":\"short\"}}",
         "watch.webhook.secret"},
        {"{\"webhook\":\"https://example.com/\"}", "watch.webhook"},
        /* a window is counted in whole periods that start inside it: at most a quarter */
        {"{\"rules\":{\"registrationsPerHour\":{\"periodSeconds\":3600,\"windowSeconds\":3600}}}",
         "watch.rules.registrationsPerHour.periodSeconds"},
        {"{\"rules\":{\"failedRegistrationsPerHour\":{\"periodSeconds\":960}}}",
         "watch.rules.failedRegistrationsPerHour.periodSeconds"},
        {"{\"rules\":{\"baselineJump\":{\"windowSeconds\":600}}}",
         "watch.rules.baselineJump.windowSeconds"},
        /* allowedHours: a period placed in the hour it starts in must not cross an hour mark */
        {"{\"rules\":{\"allowedHours\":{\"periodSeconds\":420}}}",
         "watch.rules.allowedHours.periodSeconds"},
    };
    char f[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(check(cases[i].json, f, sizeof f) >= 1);
        assert_string_equal(f, cases[i].field);
    }
}

static void test_periods_that_fit(void **state)
{
    (void)state;
    char f[160];
    assert_int_equal(
        check("{\"rules\":{\"registrationsPerHour\":{\"periodSeconds\":900},"
              "\"expectedDevices\":{\"periodSeconds\":3600},"
              "\"failedRegistrationsPerHour\":{\"periodSeconds\":1800,\"windowSeconds\":7200},"
              "\"allowedHours\":{\"periodSeconds\":720},"
              "\"baselineJump\":{\"periodSeconds\":60,\"windowSeconds\":300}}}",
              f, sizeof f),
        0);
    /* settings stored before the check are read with the longest period that fits */
    json_t *w = json_loads("{\"rules\":{\"registrationsPerHour\":{\"periodSeconds\":3600,"
                           "\"windowSeconds\":3600},\"allowedHours\":{\"periodSeconds\":420},"
                           "\"expectedDevices\":{\"periodSeconds\":3600},"
                           "\"baselineJump\":{\"windowSeconds\":300}}}",
                           0, 0);
    struct watch_cfg c;
    watch_cfg_load(w, &c);
    assert_int_equal(c.rule[WATCH_RULE_RATE].period_s, 900);
    assert_int_equal(c.rule[WATCH_RULE_HOURS].period_s, 360);
    assert_int_equal(c.rule[WATCH_RULE_TOTAL].period_s, 3600);
    assert_int_equal(c.rule[WATCH_RULE_JUMP].period_s, 60);
    json_decref(w);
}

static void test_defaults_and_load(void **state)
{
    (void)state;
    struct watch_cfg c;
    watch_cfg_load(0, &c);
    assert_int_equal(c.enabled, 1);
    assert_int_equal(c.action, WATCH_ACT_ALERT);
    assert_true(c.rule[WATCH_RULE_RATE].threshold == 100);
    assert_int_equal(c.rule[WATCH_RULE_RATE].period_s, 300);
    assert_int_equal(c.rule[WATCH_RULE_HOURS].enabled, 0);
    assert_string_equal(c.rule[WATCH_RULE_JUMP].stat, "Maximum");
    assert_string_equal(c.rule[WATCH_RULE_RATE].stat, "Maximum");
    assert_string_equal(c.rule[WATCH_RULE_FAILED].stat, "Sum");
    json_t *w = json_loads(
        "{\"action\":\"disable\",\"rules\":{\"failedRegistrationsPerHour\":{\"threshold\":3,"
        "\"windowSeconds\":600}}}",
        0, 0);
    watch_cfg_load(w, &c);
    assert_int_equal(c.action, WATCH_ACT_DISABLE);
    assert_true(c.rule[WATCH_RULE_FAILED].threshold == 3);
    assert_int_equal(c.rule[WATCH_RULE_FAILED].window_s, 600);
    json_decref(w);
}

/* The defaults rendered as settings are valid settings and load back the same. */
static void test_defaults_round_trip(void **state)
{
    (void)state;
    struct watch_cfg a, b;
    watch_cfg_load(0, &a);
    json_t *j = watch_cfg_json(&a), *errs = json_array();
    assert_int_equal(watch_settings_validate(j, errs), 0);
    assert_int_equal(json_array_size(errs), 0);
    watch_cfg_load(j, &b);
    assert_int_equal(memcmp(&a, &b, sizeof a), 0);
    json_decref(j);
    json_decref(errs);
}

static void test_redact(void **state)
{
    (void)state;
    json_t *w =
        json_loads("{\"webhook\":{\"url\":\"https://a/\",\"secret\":\"0123456789abcdef\"}}", 0, 0);
    json_t *r = watch_settings_redact(w);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "webhook"), "secret")),
                        "***");
    assert_string_equal(json_string_value(json_object_get(json_object_get(w, "webhook"), "secret")),
                        "0123456789abcdef");
    json_decref(r);
    json_decref(w);
    assert_null(watch_settings_redact(0));
}

static const char *hook_member(const json_t *w, const char *k)
{
    return json_string_value(json_object_get(json_object_get(w, "webhook"), k));
}

static void test_redact_sealed(void **state)
{
    (void)state;
    json_t *w =
        json_loads("{\"webhook\":{\"url\":\"https://a/\",\"secretSealed\":\"AbCd\"}}", 0, 0);
    json_t *r = watch_settings_redact(w);
    assert_string_equal(hook_member(r, "secret"), "***");
    assert_null(hook_member(r, "secretSealed"));
    assert_int_equal(watch_webhook_has_secret(w), 1);
    assert_int_equal(watch_webhook_has_secret(r), 1);
    json_decref(r);
    json_decref(w);
}

static void test_masked_secret_keeps_the_stored_one(void **state)
{
    (void)state;
    const char *masked = "{\"webhook\":{\"url\":\"https://b/\",\"secret\":\"***\"}}";
    json_t *req = json_loads(masked, 0, 0), *errs = json_array();
    json_t *sealed =
        json_loads("{\"webhook\":{\"url\":\"https://a/\",\"secretSealed\":\"AbCd\"}}", 0, 0);
    json_t *plain =
        json_loads("{\"webhook\":{\"url\":\"https://a/\",\"secret\":\"0123456789abcdef\"}}", 0, 0);
    /* "***" is valid only when a secret is stored. */
    assert_int_equal(watch_settings_validate_patch(req, 1, errs), 0);
    assert_int_not_equal(watch_settings_validate_patch(req, 0, errs), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "field")),
                        "watch.webhook.secret");
    assert_int_not_equal(watch_settings_validate(req, 0), 0);
    assert_int_equal(watch_webhook_has_secret(req), 1);
    /* The stored form is copied: sealed stays sealed, plaintext stays plaintext (sealed by the
     * caller). */
    assert_int_equal(watch_webhook_keep_secret(req, sealed), 0);
    assert_string_equal(hook_member(req, "secretSealed"), "AbCd");
    assert_null(hook_member(req, "secret"));
    assert_string_equal(hook_member(req, "url"), "https://b/");
    json_decref(req);
    req = json_loads(masked, 0, 0);
    assert_int_equal(watch_webhook_keep_secret(req, plain), 0);
    assert_string_equal(hook_member(req, "secret"), "0123456789abcdef");
    json_decref(req);
    req = json_loads(masked, 0, 0);
    assert_int_equal(watch_webhook_keep_secret(req, 0), FW_ENOTFOUND);
    /* A new secret is not touched. */
    assert_int_equal(watch_webhook_keep_secret(plain, sealed), 0);
    assert_string_equal(hook_member(plain, "secret"), "0123456789abcdef");
    assert_null(hook_member(plain, "secretSealed"));
    json_decref(req);
    json_decref(sealed);
    json_decref(plain);
    json_decref(errs);
}

static const double s_ts[] = {1000, 1300, 1600, 1900};
static const double s_val[] = {10, 20, 30, 40};

static void test_aggregate_and_threshold(void **state)
{
    (void)state;
    struct watch_series s = {s_ts, s_val, 4};
    size_t n;
    assert_true(watch_aggregate(&s, "Sum", 1300, 1900, &n) == 50);
    assert_int_equal(n, 2);
    assert_true(watch_aggregate(&s, "Maximum", 0, 5000, 0) == 40);
    assert_true(watch_aggregate(&s, "Minimum", 0, 5000, 0) == 10);
    assert_true(watch_aggregate(&s, "Average", 0, 5000, 0) == 25);
    assert_true(watch_aggregate(&s, "Sum", 5000, 6000, &n) == 0); /* missing data is zero */
    assert_int_equal(n, 0);
    struct watch_cfg c;
    watch_cfg_load(0, &c);
    struct watch_rule_cfg r = c.rule[WATCH_RULE_FAILED];
    r.threshold = 99;
    r.window_s = 3600;
    struct watch_finding f;
    watch_eval_threshold(&r, &s, 0, 2000, &f);
    assert_int_equal(f.breach, 1);
    assert_true(f.observed == 100);
    r.threshold = 100; /* equal is not over */
    watch_eval_threshold(&r, &s, 0, 2000, &f);
    assert_int_equal(f.breach, 0);
    r.window_s = 300; /* only the newest bucket */
    r.threshold = 35;
    watch_eval_threshold(&r, &s, 0, 2000, &f);
    assert_int_equal(f.breach, 1);
    assert_true(f.observed == 40);
}

/* failedRegistrationsPerHour Average: failures / attempts over the window, not the average of
 * each period's average (1 failure in 100 attempts over two periods is 0.01, not 0.5). */
static void test_failure_average_over_the_window(void **state)
{
    (void)state;
    double ts[] = {1000, 1300}, fails[] = {1, 0}, att[] = {1, 99};
    struct watch_series s = {ts, fails, 2}, a = {ts, att, 2};
    struct watch_cfg c;
    watch_cfg_load(0, &c);
    struct watch_rule_cfg r = c.rule[WATCH_RULE_FAILED];
    snprintf(r.stat, sizeof r.stat, "Average");
    assert_string_equal(watch_query_stat(&r), "Sum");
    r.threshold = 0.2;
    struct watch_finding f;
    watch_eval_threshold(&r, &s, &a, 2000, &f);
    assert_int_equal(f.breach, 0);
    assert_true(f.observed == 0.01);
    fails[1] = 40; /* 41 of 100 */
    watch_eval_threshold(&r, &s, &a, 2000, &f);
    assert_int_equal(f.breach, 1);
    assert_true(f.observed == 0.41);
    watch_eval_threshold(&r, &s, 0, 2000, &f); /* no attempt read: 0, not a division by 0 */
    assert_int_equal(f.breach, 0);
    snprintf(r.stat, sizeof r.stat, "Maximum");
    assert_string_equal(watch_query_stat(&r), "Maximum");
}

/* A running total of 1,000 and two more: 2 registrations, not ~2,000 (issue 13). */
static void test_registrations_of_a_running_total(void **state)
{
    (void)state;
    double ts[] = {1000, 1300, 1600, 1900}, v[] = {1000, 1001, 1001, 1002};
    struct watch_series s = {ts, v, 4};
    assert_true(watch_registrations(&s, 1000, 900, 2000) == 2);
    assert_true(watch_registrations(&s, 1000, 1600, 2000) == 1); /* the total before 1600 is 1001 */
    assert_true(watch_registrations(&s, 1000, 2000, 3000) ==
                0); /* a gap: no point, nothing registered */
    assert_true(watch_total_latest(&s, 1000) == 1002);
    assert_true(watch_total_latest(0, 1000) ==
                1000); /* no data in the window: the total before it */
    assert_true(watch_total_latest(0, WATCH_TOTAL_UNKNOWN) == 0);
    /* newest first, as GetMetricData answers by default: the same */
    double rts[] = {1900, 1600, 1300, 1000}, rv[] = {1002, 1001, 1001, 1000};
    struct watch_series r = {rts, rv, 4};
    assert_true(watch_registrations(&r, 1000, 900, 2000) == 2);
    assert_true(watch_total_latest(&r, 0) == 1002);
    assert_true(watch_baseline(&r, WATCH_TOTAL_UNKNOWN) == 1000);
    /* an approximate count that dips and comes back registers nothing */
    double dv[] = {1000, 970, 1000, 1004};
    struct watch_series d = {ts, dv, 4};
    assert_true(watch_registrations(&d, 1000, 900, 2000) == 4);
    assert_true(watch_registrations(&d, 1000, 1300, 1700) == 0);
    /* a first sighting: the first reading is the baseline, not a burst */
    assert_true(watch_registrations(&s, WATCH_TOTAL_UNKNOWN, 900, 2000) == 0);
    double b = watch_baseline(&s, WATCH_TOTAL_UNKNOWN);
    assert_true(b == 1000 && watch_registrations(&s, b, 900, 2000) == 2);
    assert_true(watch_baseline(&s, 998) == 998);
    struct watch_cfg c;
    watch_cfg_load(0, &c);
    struct watch_rule_cfg r1 = c.rule[WATCH_RULE_RATE];
    r1.threshold = 1;
    struct watch_finding f;
    watch_eval_registrations(&r1, &s, 1000, 2000, &f);
    assert_true(f.breach && f.observed == 2 && f.before == 1000 && f.after == 1002);
    r1.threshold = 2;
    watch_eval_registrations(&r1, &s, 1000, 2000, &f);
    assert_int_equal(f.breach, 0);
}

static void test_total(void **state)
{
    (void)state;
    struct watch_cfg c;
    watch_cfg_load(0, &c);
    struct watch_finding f;
    watch_eval_total(&c.rule[WATCH_RULE_TOTAL], 111, 100, &f); /* ratio 1.1: limit 110 */
    assert_int_equal(f.breach, 1);
    watch_eval_total(&c.rule[WATCH_RULE_TOTAL], 110, 100, &f);
    assert_int_equal(f.breach, 0);
    watch_eval_total(&c.rule[WATCH_RULE_TOTAL], 1e6, 0, &f); /* no expectation, no rule */
    assert_int_equal(f.breach, 0);
}

static void test_hours(void **state)
{
    (void)state;
    assert_true(watch_hour_allowed(6, 22, 6));
    assert_false(watch_hour_allowed(6, 22, 22));
    assert_true(watch_hour_allowed(22, 6, 23));
    assert_true(watch_hour_allowed(22, 6, 5));
    assert_false(watch_hour_allowed(22, 6, 12));
    struct watch_cfg c;
    watch_cfg_load(0, &c);
    struct watch_rule_cfg r = c.rule[WATCH_RULE_HOURS];
    r.enabled = 1;
    r.hour_from = 6;
    r.hour_to = 22;
    /* a total of 500 before; 03:10 and 03:15 UTC on day 0 (outside 06-22) take it to 502 and 503 */
    double ts[] = {3 * 3600 + 600, 3 * 3600 + 900}, v[] = {502, 503};
    struct watch_series s = {ts, v, 2};
    struct watch_finding f;
    watch_eval_hours(&r, &s, 500, 4 * 3600, &f);
    assert_int_equal(f.breach, 1);
    assert_true(f.observed == 3);
    assert_true(f.before == 500); /* the totals it came from, as for the other claim rules */
    assert_true(f.after == 503);
    r.hour_from = 0;
    r.hour_to = 24;
    watch_eval_hours(&r, &s, 500, 4 * 3600, &f);
    assert_int_equal(f.breach, 0);
}

static void test_jump(void **state)
{
    (void)state;
    struct watch_cfg c;
    watch_cfg_load(0, &c);
    const struct watch_rule_cfg *r = &c.rule[WATCH_RULE_JUMP];
    struct watch_finding f;
    watch_eval_jump(r, 40, 10, 6, &f); /* 40 > 3 x 10, enough samples */
    assert_int_equal(f.breach, 1);
    watch_eval_jump(r, 40, 10, 5, &f); /* too few samples */
    assert_int_equal(f.breach, 0);
    watch_eval_jump(r, 9, 2, 10, &f); /* over 3 x 2 but under minRegistrations 10 */
    assert_int_equal(f.breach, 0);
    watch_eval_jump(r, 30, 10, 10, &f); /* not over 3 x 10 */
    assert_int_equal(f.breach, 0);
    assert_true(watch_ewma_next(0.2, 0, 0, 10) == 10);
    assert_true(watch_ewma_next(0.5, 10, 3, 20) == 15);
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < WATCH_NRULES; i++)
        assert_int_equal(watch_rule_parse(watch_rule_name(i)), i);
    assert_int_equal(watch_rule_parse("x"), -1);
    assert_null(watch_rule_name(WATCH_NRULES));
    assert_string_equal(watch_action_name(WATCH_ACT_REVOKE), "revoke");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_good),
        cmocka_unit_test(test_validate_bad_fields),
        cmocka_unit_test(test_periods_that_fit),
        cmocka_unit_test(test_failure_average_over_the_window),
        cmocka_unit_test(test_defaults_and_load),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_defaults_round_trip),
        cmocka_unit_test(test_redact_sealed),
        cmocka_unit_test(test_masked_secret_keeps_the_stored_one),
        cmocka_unit_test(test_aggregate_and_threshold),
        cmocka_unit_test(test_registrations_of_a_running_total),
        cmocka_unit_test(test_total),
        cmocka_unit_test(test_hours),
        cmocka_unit_test(test_jump),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
