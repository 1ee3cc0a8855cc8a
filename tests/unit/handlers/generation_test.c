/* Unit tests for jobs/handlers/generation.c: a job acts only on the record
 * generation (uid) it was made for (issue 17). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "service/domain/generation.h"

static int matches(const char *payload, const char *doc)
{
    json_t *p = json_loads(payload, 0, 0), *d = json_loads(doc, 0, 0);
    int m = generation_matches(p, d);
    json_decref(p);
    json_decref(d);
    return m;
}

static void test_same_uid(void **state)
{
    (void)state;
    assert_true(matches("{\"fleet\":\"a\",\"uid\":\"fl_1\"}", "{\"name\":\"a\",\"uid\":\"fl_1\"}"));
}

static void test_recreated_record(void **state)
{
    (void)state;
    assert_false(matches("{\"uid\":\"fl_1\"}", "{\"uid\":\"fl_2\"}"));
    /* a job from before generations, on a record made after them */
    assert_false(matches("{\"fleet\":\"a\"}", "{\"uid\":\"fl_2\"}"));
    /* a uid that is not a string is no uid */
    assert_false(matches("{\"uid\":7}", "{\"uid\":\"fl_2\"}"));
}

static void test_records_from_before_generations(void **state)
{
    (void)state;
    assert_true(matches("{\"fleet\":\"a\"}", "{\"name\":\"a\"}"));
    assert_false(matches("{\"uid\":\"fl_1\"}", "{\"name\":\"a\"}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_uid),
        cmocka_unit_test(test_recreated_record),
        cmocka_unit_test(test_records_from_before_generations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
