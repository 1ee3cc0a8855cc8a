/* Unit tests for jobs/job_text.c: job_render_text gives byte for byte what
 * json_out_compact(job_render(...)) gives (itself tested against
 * json_dumps), on generated records drawn by each row's view in
 * jobs/job_record.h (a new row is covered without a change here): every
 * state, fields missing or empty, strings with quotes, control characters,
 * non-ASCII and invalid UTF-8, stored JSON that is canonical, not
 * canonical, or not JSON at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jobs/job.h"
#include "jobs/job_text.h"
#include "service/core/json_out.h"
#include "tests/unit/test_render.h"
#include "tests/unit/test_values.h"

#define E "\xc3\xa9"
#define E10 E E E E E E E E E E
static const char *const s_strings[] = {
    TEST_ODD_STRINGS,
    TEST_BAD_UTF8,
    "claim:c_0123456789abcdef",
    "fleet:bench",
    "0 */5 * * *",
    "queued",
    "dead",
    "j_0123456789abcdef01234567",
    "j_x" E10 E10 E10 E10 E10 E10 E10 E10 E E, /* the href is cut inside a character */
};
static const char *const s_json[] = {TEST_JSON_TEXTS};
static const char *const s_ints[] = {TEST_INT_TEXTS};
static const char *const s_times[] = {TEST_MS_TEXTS};
static const char *const s_steps[] = {"cert", "thing", "", "\"q\"", "caf" E, "bad\xff", "n\nl"};

/* A value for a row of this view (NULL: absent). */
static const char *value_for(enum job_view view)
{
    if (test_pick(5) == 0)
        return NULL;
    switch (view) {
    case JOB_VIEW_INT:
    case JOB_VIEW_INT_NULL: return TEST_ANY(s_ints);
    case JOB_VIEW_TIME: return TEST_ANY(s_times);
    case JOB_VIEW_JSON:
    case JOB_VIEW_ARRAY: return TEST_ANY(s_json);
    case JOB_VIEW_FLAG: return test_pick(2) ? "1" : "0";
    default: return TEST_ANY(s_strings);
    }
}

/* A job as job_record_expand gives it: each row set or not, some steps. */
static void make_record(struct job_fields *f)
{
    for (size_t r = 0; r < JOB_NFIELDS; r++)
        f->v[r] = value_for(job_fields_table[r].view);
    f->nsteps = 0;
    for (size_t i = 0; i < sizeof s_steps / sizeof *s_steps; i++)
        if (test_pick(3) == 0) {
            f->steps[f->nsteps++] = s_steps[i];
            f->steps[f->nsteps++] = TEST_ANY(s_json);
        }
}

static void same(const struct job_fields *f)
{
    json_t *tree = job_render(f);
    struct buf b;
    buf_init(&b, (size_t)1 << 24);
    assert_int_equal(job_render_text(f, &b), 0);
    free(test_same_text(tree, &b));
    json_decref(tree);
    buf_free(&b);
}

static void test_generated_records(void **state)
{
    (void)state;
    static struct job_fields f;
    for (int i = 0; i < 20000; i++) {
        make_record(&f);
        same(&f);
    }
}

/* Each stored JSON text in every row that shows JSON, and as a step. */
static void test_every_json_field_value(void **state)
{
    (void)state;
    static struct job_fields f;
    for (size_t i = 0; i < sizeof s_json / sizeof *s_json; i++) {
        memset(&f, 0, sizeof f);
        f.v[JOB_F_ID] = "j_1";
        for (size_t r = 0; r < JOB_NFIELDS; r++)
            if (job_fields_table[r].view == JOB_VIEW_JSON ||
                job_fields_table[r].view == JOB_VIEW_ARRAY)
                f.v[r] = s_json[i];
        f.steps[0] = "step";
        f.steps[1] = s_json[i];
        f.nsteps = 2;
        same(&f);
    }
}

static void test_empty_and_bare_records(void **state)
{
    (void)state;
    static struct job_fields f;
    memset(&f, 0, sizeof f);
    same(&f);
    for (size_t r = 0; r < JOB_NFIELDS; r++)
        f.v[r] = "";
    same(&f);
    f.v[JOB_F_ID] = "\xff";
    f.v[JOB_F_HREF] = "\xff";
    f.v[JOB_F_TYPE] = "a\"b";
    same(&f);
}

/* The fast path is taken for what we store: a canonical field is copied. */
static void test_canonical_fields_copied(void **state)
{
    (void)state;
    static struct job_fields f;
    memset(&f, 0, sizeof f);
    f.v[JOB_F_PAYLOAD] = "{\"claimId\":\"c_1\",\"n\":[1,-2,{\"x\":null}]}";
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(job_render_text(&f, &b), 0);
    assert_non_null(strstr(b.ptr, "\"payload\":{\"claimId\":\"c_1\",\"n\":[1,-2,{\"x\":null}]}"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_records),
        cmocka_unit_test(test_every_json_field_value),
        cmocka_unit_test(test_empty_and_bare_records),
        cmocka_unit_test(test_canonical_fields_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
