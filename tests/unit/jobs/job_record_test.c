/* job_record_test.c - the job record's field table (jobs/job_record.h) and
 * the two renderers made from it: a job in each state, stored as the
 * scripts store it, shows the golden bytes below through job_render and
 * through job_render_text (the golden strings were written by main's
 * hand-written job_render at d1440c7, before the table; members of rows
 * added since are left out of that comparison, so a new row needs no change
 * here); both renderers agree on every row alone and left out; state
 * digits; the table's rules; a hash that is no job. */
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
#include "jobs/job_text.h"
#include "service/core/json_out.h"
#include "tests/unit/test_render.h"

#define ID "j_0123456789abcdef01234567"
#define C "1764300000000" /* 2025-11-28T03:20:00.000Z */
#define HEAD "{\"id\":\"" ID "\","
#define TAIL ",\"href\":\"/v1/jobs/" ID "\"}"
#define NO_PROGRESS "\"progress\":{\"done\":0,\"total\":null,\"step\":null}"
/* Error lists as the scripts' cjson writes them ("\/": not compact JSON). */
#define THROTTLED                                                                                  \
    "[{\"class\":\"throttling\",\"message\":\"Rate exceeded for arn:aws:iot:us-east-1:1:cert\\/"   \
    "c0\",\"at\":\"2025-11-28T03:20:00.200Z\"}]"
#define DENIED "[{\"class\":\"access\",\"code\":\"AccessDenied\",\"message\":\"no \\\"iot:x\\\"\"}]"

struct golden {
    const char *stored[48]; /* names and values, NULL-terminated */
    const char *want;
};

static const struct golden s_golden[] = {
    /* queued, as enqueue writes it: defaults left out */
    {{"t", "test.noop", "q", "1", "c", C, "m", "5", "s", "0"},
     HEAD "\"type\":\"test.noop\",\"lane\":\"default\",\"state\":\"queued\",\"attempts\":0,"
          "\"maxAttempts\":5," NO_PROGRESS
          ",\"steps\":{},\"payload\":{},\"result\":null,\"errors\":[],"
          "\"reason\":null,\"resource\":null,\"schedule\":null,\"cancelRequested\":false,"
          "\"createdAt\":\"2025-11-28T03:20:00.000Z\",\"startedAt\":null,\"finishedAt\":null,"
          "\"nextRunAt\":null" TAIL},
    /* scheduled: run later, unique per resource, made by a schedule */
    {{"t", "claim.create",
      "q", "2",
      "c", C,
      "m", "3",
      "l", "critical",
      "p", "{\"claimId\":\"c1\"}",
      "R", "claim:c1",
      "u", "1",
      "S", "nightly",
      "N", "1764300060000",
      "s", "1"},
     HEAD "\"type\":\"claim.create\",\"lane\":\"critical\",\"state\":\"scheduled\","
          "\"attempts\":0,\"maxAttempts\":3," NO_PROGRESS ",\"steps\":{},"
          "\"payload\":{\"claimId\":\"c1\"},\"result\":null,\"errors\":[],\"reason\":null,"
          "\"resource\":\"claim:c1\",\"schedule\":\"nightly\",\"cancelRequested\":false,"
          "\"createdAt\":\"2025-11-28T03:20:00.000Z\",\"startedAt\":null,\"finishedAt\":null,"
          "\"nextRunAt\":\"2025-11-28T03:21:00.000Z\"" TAIL},
    /* running: progress, a finished step, a rate-limit token held (not shown) */
    {{"t",         "fleet.verify",
      "q",         "3",
      "c",         C,
      "m",         "5",
      "l",         "bulk",
      "p",         "{\"fleet\":\"f7\"}",
      "R",         "fleet:f7",
      "s",         "2",
      "b",         "1500",
      "a",         "1",
      "n",         "1",
      "pd",        "1",
      "pt",        "3",
      "ps",        "connect",
      "s:connect", "{\"endpoint\":\"a1\"}",
      "rp",        "1"},
     HEAD "\"type\":\"fleet.verify\",\"lane\":\"bulk\",\"state\":\"running\",\"attempts\":1,"
          "\"maxAttempts\":5,\"progress\":{\"done\":1,\"total\":3,\"step\":\"connect\"},"
          "\"steps\":{\"connect\":{\"endpoint\":\"a1\"}},\"payload\":{\"fleet\":\"f7\"},"
          "\"result\":null,\"errors\":[],\"reason\":null,\"resource\":\"fleet:f7\","
          "\"schedule\":null,\"cancelRequested\":false,\"createdAt\":\"2025-11-28T03:20:00.000Z\","
          "\"startedAt\":\"2025-11-28T03:20:01.500Z\",\"finishedAt\":null,\"nextRunAt\":null" TAIL},
    /* succeeded: start and finish after c, a result */
    {{"t", "test.noop",     "q", "4", "c", C, "m", "5", "s", "3", "b", "10", "a", "1", "n", "1",
      "r", "{\"ok\":true}", "f", "25"},
     HEAD "\"type\":\"test.noop\",\"lane\":\"default\",\"state\":\"succeeded\",\"attempts\":1,"
          "\"maxAttempts\":5," NO_PROGRESS ",\"steps\":{},\"payload\":{},\"result\":{\"ok\":true},"
          "\"errors\":[],\"reason\":null,\"resource\":null,\"schedule\":null,"
          "\"cancelRequested\":false,\"createdAt\":\"2025-11-28T03:20:00.000Z\","
          "\"startedAt\":\"2025-11-28T03:20:00.010Z\",\"finishedAt\":\"2025-11-28T03:20:00.025Z\","
          "\"nextRunAt\":null" TAIL},
    /* failed, waiting for its retry */
    {{"t", "claim.create",
      "q", "5",
      "c", C,
      "m", "5",
      "p", "{\"claimId\":\"c2\"}",
      "R", "claim:c2",
      "s", "4",
      "b", "100",
      "a", "2",
      "n", "2",
      "e", THROTTLED,
      "N", "1764300002000"},
     HEAD "\"type\":\"claim.create\",\"lane\":\"default\",\"state\":\"failed\",\"attempts\":2,"
          "\"maxAttempts\":5," NO_PROGRESS ",\"steps\":{},\"payload\":{\"claimId\":\"c2\"},"
          "\"result\":null,\"errors\":[{\"class\":\"throttling\",\"message\":\"Rate exceeded for "
          "arn:aws:iot:us-east-1:1:cert/c0\",\"at\":\"2025-11-28T03:20:00.200Z\"}],\"reason\":null,"
          "\"resource\":\"claim:c2\",\"schedule\":null,\"cancelRequested\":false,"
          "\"createdAt\":\"2025-11-28T03:20:00.000Z\",\"startedAt\":\"2025-11-28T03:20:00.100Z\","
          "\"finishedAt\":null,\"nextRunAt\":\"2025-11-28T03:20:02.000Z\"" TAIL},
    /* dead: steps (one not JSON), a reason, stalls (not shown) */
    {{"t",        "claim.create",
      "q",        "6",
      "c",        C,
      "m",        "3",
      "s",        "5",
      "b",        "4000",
      "f",        "5000",
      "a",        "3",
      "n",        "4",
      "k",        "1",
      "e",        DENIED,
      "w",        "access error: not retried",
      "pd",       "2",
      "pt",       "4",
      "ps",       "attach",
      "s:create", "{\"certificateId\":\"c1\"}",
      "s:attach", "not json"},
     HEAD
     "\"type\":\"claim.create\",\"lane\":\"default\",\"state\":\"dead\",\"attempts\":3,"
     "\"maxAttempts\":3,\"progress\":{\"done\":2,\"total\":4,\"step\":\"attach\"},"
     "\"steps\":{\"create\":{\"certificateId\":\"c1\"},\"attach\":\"not json\"},\"payload\":{},"
     "\"result\":null,\"errors\":[{\"class\":\"access\",\"code\":\"AccessDenied\",\"message\":"
     "\"no \\\"iot:x\\\"\"}],\"reason\":\"access error: not retried\","
     "\"resource\":null,\"schedule\":null,\"cancelRequested\":false,"
     "\"createdAt\":\"2025-11-28T03:20:00.000Z\",\"startedAt\":\"2025-11-28T03:20:04.000Z\","
     "\"finishedAt\":\"2025-11-28T03:20:05.000Z\",\"nextRunAt\":null" TAIL},
    /* canceled before it ran */
    {{"t", "test.noop", "q", "7", "c", C, "m", "5", "s", "6", "x", "1", "f", "300"},
     HEAD "\"type\":\"test.noop\",\"lane\":\"default\",\"state\":\"canceled\",\"attempts\":0,"
          "\"maxAttempts\":5," NO_PROGRESS ",\"steps\":{},\"payload\":{},\"result\":null,"
          "\"errors\":[],\"reason\":null,\"resource\":null,\"schedule\":null,"
          "\"cancelRequested\":true,\"createdAt\":\"2025-11-28T03:20:00.000Z\",\"startedAt\":null,"
          "\"finishedAt\":\"2025-11-28T03:20:00.300Z\",\"nextRunAt\":null" TAIL},
    /* odd values: JSON that is not compact, an empty list as cjson writes
     * it, empty progress fields, a cancel flag that is not "1" */
    {{"t",  "test.noop",
      "q",  "8",
      "c",  C,
      "m",  "5",
      "s",  "2",
      "b",  "0",
      "p",  "{\"note\":\"caf\\u00e9\"}",
      "r",  "{ \"a\": 1.50 }",
      "e",  "{}",
      "pt", "",
      "ps", "",
      "x",  "0",
      "S",  ""},
     HEAD "\"type\":\"test.noop\",\"lane\":\"default\",\"state\":\"running\",\"attempts\":0,"
          "\"maxAttempts\":5,\"progress\":{\"done\":0,\"total\":0,\"step\":null},\"steps\":{},"
          "\"payload\":{\"note\":\"caf\xc3\xa9\"},\"result\":{\"a\":1.5},\"errors\":[],"
          "\"reason\":null,\"resource\":null,\"schedule\":null,\"cancelRequested\":false,"
          "\"createdAt\":\"2025-11-28T03:20:00.000Z\",\"startedAt\":\"2025-11-28T03:20:00.000Z\","
          "\"finishedAt\":null,\"nextRunAt\":null" TAIL},
};

static size_t count(const char *const *stored)
{
    size_t n = 0;
    while (stored[n])
        n++;
    return n;
}

/* job_render of a stored record, compact (malloc'd), after checking that
 * job_render_text writes the same bytes. */
static char *render_both(const char *const *stored, size_t n)
{
    static struct job_fields f;
    assert_int_equal(job_record_expand(ID, stored, n, &f), 0);
    json_t *tree = job_render(&f);
    struct buf text;
    buf_init(&text, (size_t)1 << 20);
    assert_int_equal(job_render_text(&f, &text), 0);
    char *view = test_same_text(tree, &text);
    json_decref(tree);
    buf_free(&text);
    return view;
}

/* The object a row's member is in: the view itself or an OBJECT row's. */
static json_t *parent_of(json_t *view, enum job_field r)
{
    enum job_field in = job_fields_table[r].in;
    return in == JOB_F_TOP ? view : json_object_get(view, job_fields_table[in].json);
}

/* The view without the members of rows the golden does not have (the view
 * itself, byte for byte, when it has no such member). */
static char *as_of_golden(const char *view_text, const char *golden)
{
    json_t *view = json_loads(view_text, 0, 0), *g = json_loads(golden, 0, 0);
    assert_non_null(view);
    assert_non_null(g);
    int cut = 0;
    for (int r = JOB_NFIELDS - 1; r >= 0; r--) {
        const char *name = job_fields_table[r].json;
        if (name && !json_object_get(parent_of(g, (enum job_field)r), name))
            cut |= !json_object_del(parent_of(view, (enum job_field)r), name);
    }
    char *out = cut ? json_out_compact(view, 0) : strdup(view_text);
    json_decref(view);
    json_decref(g);
    return out;
}

static void test_golden_every_state(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_golden / sizeof s_golden[0]; i++) {
        char *view = render_both(s_golden[i].stored, count(s_golden[i].stored));
        char *old = as_of_golden(view, s_golden[i].want);
        if (strcmp(old, s_golden[i].want))
            fail_msg("record %zu:\n want %s\n got  %s", i, s_golden[i].want, old);
        free(old);
        free(view);
    }
}

/* Every stored name of the golden records with its value, alone (beside
 * the state) and left out of the fullest record: both renderers agree. */
static void test_each_field_alone_and_left_out(void **state)
{
    (void)state;
    for (size_t g = 0; g < sizeof s_golden / sizeof s_golden[0]; g++) {
        const char *const *full = s_golden[g].stored;
        size_t n = count(full);
        for (size_t i = 0; i < n; i += 2) {
            const char *alone[] = {"s", "2", full[i], full[i + 1]};
            const char *without[48];
            size_t k = 0;
            for (size_t j = 0; j < n; j += 2)
                if (j != i || !strcmp(full[j], "s")) {
                    without[k++] = full[j];
                    without[k++] = full[j + 1];
                }
            free(render_both(alone, 4));
            free(render_both(without, k));
        }
    }
}

/* A name twice (no Redis hash has that, a fuzzed one did): the first
 * value is shown, by both renderers, for a step as for any field. */
static void test_names_twice_first_wins(void **state)
{
    (void)state;
    const char *stored[] = {"s", "2", "s:a", "{\"arn",    "pd", "1", "s:b", "{}",
                            "s", "3", "s:a", "{\"x\":1}", "pd", "2", "s:a", "[]"};
    char *view = render_both(stored, sizeof stored / sizeof stored[0]);
    assert_non_null(strstr(view, "\"state\":\"running\""));
    assert_non_null(strstr(view, "\"done\":1,"));
    assert_non_null(strstr(view, "\"steps\":{\"a\":\"{\\\"arn\",\"b\":{}},"));
    free(view);
}

/* A start or finish that does not fit once added to the creation time
 * (a fuzzed hash had c at the largest long long) is not shown. */
static void test_times_that_do_not_fit(void **state)
{
    (void)state;
    const char *stored[] = {"s", "3", "c", "9223372036854775807", "b", "1500", "f", "-1"};
    char *view = render_both(stored, sizeof stored / sizeof stored[0]);
    assert_non_null(strstr(view, "\"startedAt\":null,"));
    assert_non_null(strstr(view, "\"finishedAt\":\"292278994-08-17T07:12:55.806Z\","));
    free(view);
    const char *low[] = {"s", "3", "c", "-9223372036854775807", "b", "-1500"};
    view = render_both(low, sizeof low / sizeof low[0]);
    assert_non_null(strstr(view, "\"startedAt\":null,"));
    free(view);
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
    static struct job_fields f;
    const char *junk[] = {"t", "x", "s", "running"};
    assert_int_equal(job_record_expand("j_4", junk, 2, &f), -1);
    assert_int_equal(job_record_expand("j_4", junk, 4, &f), -1);
}

/* The table's own rules: stored and shown names unique, each member in a
 * top-level OBJECT row, a value for every row the renderers show. */
static void test_table_rules(void **state)
{
    (void)state;
    for (int a = 0; a < JOB_NFIELDS; a++) {
        const struct job_field_def *d = &job_fields_table[a];
        assert_true(d->in == JOB_F_TOP || (job_fields_table[d->in].view == JOB_VIEW_OBJECT &&
                                           job_fields_table[d->in].in == JOB_F_TOP));
        assert_true((d->json != NULL) == (d->view != JOB_VIEW_NONE));
        assert_true((d->stored != NULL) == (d->kept != JOB_KEPT_KEY && d->kept != JOB_KEPT_NONE));
        for (int b = a + 1; b < JOB_NFIELDS; b++) {
            const struct job_field_def *e = &job_fields_table[b];
            if (d->stored && e->stored)
                assert_string_not_equal(d->stored, e->stored);
            if (d->json && e->json && d->in == e->in)
                assert_string_not_equal(d->json, e->json);
        }
    }
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
    stored[n++] = "l";
    stored[n++] = "bulk";
    char *view = render_both(stored, n);
    json_t *o = json_loads(view, 0, 0);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "running");
    assert_string_equal(json_string_value(json_object_get(o, "lane")), "bulk");
    assert_int_equal(json_object_size(json_object_get(o, "steps")), JOB_RECORD_MAX_STEPS);
    json_decref(o);
    free(view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_every_state),
        cmocka_unit_test(test_each_field_alone_and_left_out),
        cmocka_unit_test(test_names_twice_first_wins),
        cmocka_unit_test(test_times_that_do_not_fit),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_table_rules),
        cmocka_unit_test(test_many_steps_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
