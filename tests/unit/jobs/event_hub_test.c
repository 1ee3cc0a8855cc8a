/*
 * event_hub_test.c - the pure parts of the event hub (jobs/event_hub.c): log ids in order
 * (the ring is searched by them) and events parsed once for every stream's filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jobs/event_hub.h"

static void test_id_order(void **state)
{
    (void)state;
    assert_true(event_hub_id_cmp("1-0", "2-0") < 0);
    assert_true(event_hub_id_cmp("2-0", "10-0") < 0); /* numbers, not strings */
    assert_true(event_hub_id_cmp("5-10", "5-9") > 0);
    assert_int_equal(event_hub_id_cmp("1796593238243-3", "1796593238243-3"), 0);
    assert_true(event_hub_id_cmp("0-0", "1796593238243-0") < 0);
}

static void test_parse(void **state)
{
    (void)state;
    struct hub_event e;
    event_hub_parse(
        "{\"type\":\"job\",\"id\":\"j_1\",\"state\":\"dead\",\"jobType\":\"claim.create\","
        "\"resource\":\"claim:clm_1\",\"ts\":\"x\"}",
        &e);
    assert_string_equal(e.type, "job");
    assert_string_equal(e.state, "dead");
    assert_string_equal(e.job_type, "claim.create");
    assert_string_equal(e.resource, "claim:clm_1");
    assert_string_equal(e.eid, "j_1");
    assert_null(e.json);
    event_hub_parse(
        "{\"type\":\"incident\",\"id\":\"inc_1\",\"state\":\"open\",\"resource\":\"claim:c\"}", &e);
    assert_string_equal(e.type, "incident");
    assert_string_equal(e.state, ""); /* an incident's state is no job state */
    assert_string_equal(e.job_type, "");
    event_hub_parse("not json", &e); /* what the log holds is ours, but never trusted blindly */
    assert_string_equal(e.type, "job");
    assert_string_equal(e.eid, "");
    event_hub_parse("{\"type\":\"weird\",\"id\":7}", &e);
    assert_string_equal(e.type, "job");
    assert_string_equal(e.eid, "");
}

static void test_job_event(void **state)
{
    (void)state;
    struct hub_event e;
    assert_int_equal(
        event_hub_job_event("1796593238243-3", "3", "j_1", "claim.create", "claim:clm_1/x", &e), 0);
    assert_string_equal(e.type, "job");
    assert_string_equal(e.state, "succeeded");
    assert_string_equal(e.job_type, "claim.create");
    assert_string_equal(e.resource, "claim:clm_1/x");
    assert_string_equal(e.eid, "j_1");
    /* The text the scripts wrote when they logged JSON (cjson: this order, '/' escaped), the
     * time from the entry id's ms. */
    assert_string_equal(e.json, "{\"state\":\"succeeded\",\"type\":\"job\",\"resource\":"
                                "\"claim:clm_1\\/x\",\"id\":\"j_1\",\"ts\":"
                                "\"2026-12-06T21:40:38.243Z\",\"jobType\":\"claim.create\"}");
    free(e.json);
    assert_int_equal(event_hub_job_event("1796593238243-0", "0", "j_2", "test.noop", "", &e), 0);
    assert_string_equal(e.json, "{\"state\":\"queued\",\"type\":\"job\",\"resource\":null,"
                                "\"id\":\"j_2\",\"ts\":\"2026-12-06T21:40:38.243Z\","
                                "\"jobType\":\"test.noop\"}");
    free(e.json);
    /* What is not a job's event, from a log that is ours but never trusted blindly. */
    assert_int_equal(event_hub_job_event("1796593238243-0", "9", "j", "t", "", &e), -1);
    assert_int_equal(event_hub_job_event("1796593238243-0", "33", "j", "t", "", &e), -1);
    assert_int_equal(event_hub_job_event("1796593238243-0", NULL, "j", "t", "", &e), -1);
    assert_int_equal(event_hub_job_event("1796593238243-0", "3", NULL, "t", "", &e), -1);
    assert_int_equal(event_hub_job_event("1796593238243-0", "3", "j", NULL, "", &e), -1);
    assert_int_equal(event_hub_job_event("1796593238243-0", "3", "j", "t", NULL, &e), -1);
    assert_int_equal(event_hub_job_event("x-0", "3", "j", "t", "", &e), -1);
    assert_int_equal(event_hub_job_event("99999999999999999-0", "3", "j", "t", "", &e), -1);
    assert_int_equal(event_hub_job_event(NULL, "3", "j", "t", "", &e), -1);
    assert_int_equal(event_hub_job_event("1796593238243-0", "3", "j\xff", "t", "", &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_order),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_job_event),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
