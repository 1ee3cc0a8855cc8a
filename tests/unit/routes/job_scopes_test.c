/* Unit tests for routes/job_scopes.c: retry and cancel need the scope that
 * creating the job needed; every registered job type has a line; unknown
 * types need admin (issue 17). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "jobs/handlers/register.h"
#include "routes/job_scopes.h"

static void test_admin_jobs(void **state)
{
    (void)state;
    const char *admin[] = {"fleet.setup",      "fleet.plan",      "fleet.teardown",
                           "fleet.reconcile",  "template.create", "template.update",
                           "template.version", "template.delete"};
    for (size_t i = 0; i < sizeof admin / sizeof admin[0]; i++)
        assert_int_equal(job_scope_for(admin[i]), SCOPE_ADMIN);
}

static void test_operate_jobs(void **state)
{
    (void)state;
    const char *operate[] = {"claim.create",     "claim.rotate", "claim.disable",
                             "claim.enable",     "claim.delete", "claim.retire",
                             "claim.autorotate", "watch.cycle",  "webhook.deliver"};
    for (size_t i = 0; i < sizeof operate / sizeof operate[0]; i++)
        assert_int_equal(job_scope_for(operate[i]), SCOPE_OPERATE);
}

static void test_unknown_fails_closed(void **state)
{
    (void)state;
    assert_int_equal(job_scope_for("fleet.newthing"), SCOPE_ADMIN);
    assert_int_equal(job_scope_for(""), SCOPE_ADMIN);
    assert_int_equal(job_scope_for(NULL), SCOPE_ADMIN);
    assert_false(job_scope_known("claim.createx"));
}

/* A job type added to register.c without a line in job_scopes.c would need
 * admin to retry (safe, but likely not meant): the table must name it. */
static void test_every_registered_type_has_a_line(void **state)
{
    (void)state;
    int n = 0;
    for (const char *t; (t = handlers_type_at(n)) != NULL; n++)
        if (!job_scope_known(t))
            fail_msg("job type %s has no line in routes/job_scopes.c", t);
    assert_true(n >= 17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_jobs),
        cmocka_unit_test(test_operate_jobs),
        cmocka_unit_test(test_unknown_fails_closed),
        cmocka_unit_test(test_every_registered_type_has_a_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
