/* job_record_test.c - the stored job record (jobs/job_record.h) shows the same job as the
 * full record of named fields did: every API field, defaults, relative times, steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jobs/job.h"
#include "jobs/job_record.h"

/* job_render of kv, as compact JSON text (malloc'd). */
static char *render(const char *const *kv, size_t n)
{
    json_t *o = job_render(kv, n);
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

static char *render_stored(const char *id, const char *const *stored, size_t n)
{
    struct job_fields f;
    assert_int_equal(job_record_expand(id, stored, n, &f), 0);
    return render(f.kv, f.n);
}

/* The named record and the stored one render to the same JSON. */
static void assert_same(const char *const *named, size_t nnamed, const char *id,
                        const char *const *stored, size_t nstored)
{
    char *a = render(named, nnamed);
    char *b = render_stored(id, stored, nstored);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_finished_job_shows_the_same(void **state)
{
    (void)state;
    /* The same succeeded job as the old layout stored it and as it is stored now. */
    const char *named[] = {"id",       "j_1",
                           "type",     "test.noop",
                           "lane",     "default",
                           "payload",  "{}",
                           "attempts", "1",
                           "runs",     "1",
                           "stalls",   "0",
                           "max",      "5",
                           "resource", "",
                           "created",  "1796591551608",
                           "seq",      "7",
                           "cancel",   "0",
                           "uniq",     "0",
                           "sched",    "",
                           "state",    "succeeded",
                           "started",  "1796591555555",
                           "rlpaid",   "0",
                           "result",   "{\"ok\":true}",
                           "finished", "1796591555558"};
    const char *stored[] = {
        "t", "test.noop", "q", "7", "c", "1796591551608", "m", "5",   "s", "3", "b", "3947",
        "a", "1",         "n", "1", "r", "{\"ok\":true}", "f", "3950"};
    assert_same(named, sizeof named / sizeof named[0], "j_1", stored,
                sizeof stored / sizeof stored[0]);
}

static void test_every_field(void **state)
{
    (void)state;
    const char *named[] = {"id",       "j_2",
                           "type",     "claim.create",
                           "lane",     "bulk",
                           "payload",  "{\"a\":[1,2]}",
                           "attempts", "3",
                           "runs",     "5",
                           "stalls",   "1",
                           "max",      "7",
                           "resource", "claim:x/y",
                           "created",  "1000",
                           "cancel",   "1",
                           "sched",    "nightly",
                           "state",    "dead",
                           "started",  "1500",
                           "finished", "2500",
                           "next",     "9999",
                           "errors",   "[{\"class\":\"access\"}]",
                           "reason",   "access error: not retried",
                           "pdone",    "2",
                           "ptotal",   "4",
                           "pstep",    "attach",
                           "s:create", "{\"arn\":\"x\"}",
                           "s:attach", "{}"};
    const char *stored[] = {"t",        "claim.create",
                            "l",        "bulk",
                            "p",        "{\"a\":[1,2]}",
                            "a",        "3",
                            "n",        "5",
                            "k",        "1",
                            "m",        "7",
                            "R",        "claim:x/y",
                            "c",        "1000",
                            "x",        "1",
                            "S",        "nightly",
                            "s",        "5",
                            "b",        "500",
                            "f",        "1500",
                            "N",        "9999",
                            "e",        "[{\"class\":\"access\"}]",
                            "w",        "access error: not retried",
                            "pd",       "2",
                            "pt",       "4",
                            "ps",       "attach",
                            "s:create", "{\"arn\":\"x\"}",
                            "s:attach", "{}",
                            "q",        "12",
                            "u",        "1",
                            "i",        "key-1",
                            "rp",       "1",
                            "rw",       "iot"};
    assert_same(named, sizeof named / sizeof named[0], "j_2", stored,
                sizeof stored / sizeof stored[0]);
}

static void test_queued_job_defaults(void **state)
{
    (void)state;
    const char *stored[] = {"t", "test.noop", "q", "1", "c", "1000", "m", "5", "s", "0"};
    char *b = render_stored("j_3", stored, sizeof stored / sizeof stored[0]);
    json_t *o = json_loads(b, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "lane")), "default");
    assert_string_equal(json_string_value(json_object_get(o, "state")), "queued");
    assert_true(json_is_object(json_object_get(o, "payload")));
    assert_int_equal(json_object_size(json_object_get(o, "payload")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 0);
    assert_true(json_is_null(json_object_get(o, "startedAt")));
    assert_true(json_is_null(json_object_get(o, "finishedAt")));
    assert_true(json_is_null(json_object_get(o, "resource")));
    assert_string_equal(json_string_value(json_object_get(o, "href")), "/v1/jobs/j_3");
    json_decref(o);
    free(b);
}

static void test_states(void **state)
{
    (void)state;
    const char *names[] = {"queued", "scheduled", "running", "succeeded",
                           "failed", "dead",      "canceled"};
    for (int i = 0; i < 7; i++) {
        char code = job_record_state_code(names[i]);
        char text[2] = {code, '\0'};
        assert_int_equal(code, '0' + i);
        assert_string_equal(job_record_state_name(text), names[i]);
    }
    assert_int_equal(job_record_state_code("cancelled"), 0);
    assert_null(job_record_state_name("7"));
    assert_null(job_record_state_name("33"));
    assert_null(job_record_state_name(""));
    assert_null(job_record_state_name(NULL));
    /* A hash without a state (not a job record) does not expand. */
    struct job_fields f;
    const char *junk[] = {"t", "x", "s", "running"};
    assert_int_equal(job_record_expand("j_4", junk, 2, &f), -1);
    assert_int_equal(job_record_expand("j_4", junk, 4, &f), -1);
}

static void test_many_steps_are_bounded(void **state)
{
    (void)state;
    enum { N = 600 };
    static char names[N][16];
    static const char *stored[2 * N + 4];
    size_t n = 0;
    stored[n++] = "s";
    stored[n++] = "2";
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "s:step%d", i);
        stored[n++] = names[i];
        stored[n++] = "{}";
    }
    struct job_fields f;
    assert_int_equal(job_record_expand("j_5", stored, n, &f), 0);
    assert_true(f.n <= 2 * JOB_RECORD_MAX_FIELDS);
    json_t *o = job_render(f.kv, f.n);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "running");
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finished_job_shows_the_same), cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_queued_job_defaults),         cmocka_unit_test(test_states),
        cmocka_unit_test(test_many_steps_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
