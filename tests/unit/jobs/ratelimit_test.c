/* ratelimit_test.c - the family rate table and FLEETWARDEN_RATE_<FAMILY> overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jobs/ratelimit.h"
#include "service/core/config.h"
#include "service/core/err.h"

static void test_defaults(void **state)
{
    (void)state;
    double rate = 0, burst = 0;
    unsetenv("FLEETWARDEN_RATE_IOT_POLICY_ATTACH");
    ratelimit_lookup("iot-policy-attach", &rate, &burst);
    assert_true(rate == 15.0);
    assert_true(burst == 15.0);
    ratelimit_lookup("iot-cert-create", &rate, &burst);
    assert_true(rate == 10.0);
    ratelimit_lookup("unknown-family", &rate, &burst);
    assert_true(rate == 10.0);
    for (const struct ratelimit_default *d = ratelimit_defaults; d->family; d++)
        assert_true(d->rate > 0 && d->covers != NULL);
}

/* Loads the settings from the process's environment (as main does) and publishes them. */
static int load_env(char *err, size_t errlen)
{
    struct fw_config c;
    int rc = config_load(&c, NULL, NULL, err, errlen);
    if (!rc)
        config_publish(&c);
    return rc;
}

static void test_overrides(void **state)
{
    (void)state;
    double rate = 0, burst = 0;
    char err[300];
    setenv("FLEETWARDEN_RATE_IOT_CERT_CREATE", "4", 1);
    assert_int_equal(load_env(err, sizeof err), 0);
    ratelimit_lookup("iot-cert-create", &rate, &burst);
    assert_true(rate == 4.0 && burst == 4.0);
    setenv("FLEETWARDEN_RATE_IOT_CERT_CREATE", "2.5:1", 1);
    setenv("FLEETWARDEN_RATE_IAM", "0.2", 1);
    setenv("FLEETWARDEN_RATE_MY_FAMILY_X", "7", 1);
    assert_int_equal(load_env(err, sizeof err), 0);
    ratelimit_lookup("iot-cert-create", &rate, &burst);
    assert_true(rate == 2.5 && burst == 1.0);
    ratelimit_lookup("iam", &rate, &burst);
    assert_true(rate == 0.2 && burst == 1.0);
    ratelimit_lookup("my-family.x", &rate, &burst);
    assert_true(rate == 7.0);
    ratelimit_lookup("sts", &rate, &burst);
    assert_true(rate == 50.0);
}

/* A bad override stops start-up naming the variable (it used to be ignored at first use). */
static void test_bad_override_refused(void **state)
{
    (void)state;
    char err[300];
    const char *bad[] = {"fast", "0", "-3", "5:0", "5:x", "5x", "1e9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("FLEETWARDEN_RATE_STS", bad[i], 1);
        assert_int_equal(load_env(err, sizeof err), FW_EINVAL);
        assert_non_null(strstr(err, "FLEETWARDEN_RATE_STS"));
    }
    unsetenv("FLEETWARDEN_RATE_STS");
    assert_int_equal(load_env(err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_bad_override_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
