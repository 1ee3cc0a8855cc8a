/* fleet_names_test.c - AWS's name patterns and lengths, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/fleet_names.h"

struct name_case {
    int (*fn)(const char *);
    const char *s;
    int ok;
};

static char s_64[65], s_65[66], s_128[129], s_129[130], s_36[37], s_37[38];

static void fill(void)
{
    memset(s_64, 'a', 64);
    memset(s_65, 'a', 65);
    memset(s_128, 'b', 128);
    memset(s_129, 'b', 129);
    memset(s_36, 'c', 36);
    memset(s_37, 'c', 37);
}

static void test_table(void **state)
{
    (void)state;
    fill();
    const struct name_case cases[] = {
        {fleet_names_fleet, "fleet-1_A", 1},
        {fleet_names_fleet, s_64, 1},
        {fleet_names_fleet, s_65, 0},
        {fleet_names_fleet, "", 0},
        {fleet_names_fleet, "a.b", 0},
        {fleet_names_fleet, 0, 0},
        {fleet_names_iam_role, "Role+=,.@_-1", 1},
        {fleet_names_iam_role, s_64, 1},
        {fleet_names_iam_role, s_65, 0},
        {fleet_names_iam_role, "a/b", 0},
        {fleet_names_iam_role, "a b", 0},
        {fleet_names_iam_policy, s_128, 1},
        {fleet_names_iam_policy, s_129, 0},
        {fleet_names_iam_policy, "p:q", 0},
        {fleet_names_iot_policy, "Greengrass.V2@x", 1},
        {fleet_names_iot_policy, s_129, 0},
        {fleet_names_role_alias, "Alias=,@_-", 1},
        {fleet_names_role_alias, "a+b", 0},
        {fleet_names_role_alias, "a.b", 0},
        {fleet_names_role_alias, s_128, 1},
        {fleet_names_role_alias, s_129, 0},
        {fleet_names_template, s_36, 1},
        {fleet_names_template, s_37, 0},
        {fleet_names_template, "a.b", 0},
        {fleet_names_template, "T_1-x", 1},
        {fleet_names_thing_group, "grp:1_a-b", 1},
        {fleet_names_thing_group, "g/1", 0},
        {fleet_names_thing_group, s_129, 0},
        {fleet_names_region, "us-east-1", 1},
        {fleet_names_region, "us-gov-west-1", 1},
        {fleet_names_region, "cn-north-1", 1},
        {fleet_names_region, "us-east", 0},
        {fleet_names_region, "US-east-1", 0},
        {fleet_names_region, "us--east-1", 0},
        {fleet_names_region, "1s-east-1", 0},
        {fleet_names_bucket, "my.bucket-1", 1},
        {fleet_names_bucket, "ab", 0},
        {fleet_names_bucket, "Upper", 0},
        {fleet_names_bucket, "-a-", 0},
        {fleet_names_bucket, "a..b", 0},
        {fleet_names_role_arn, "arn:aws:iam::123456789012:role/R", 1},
        {fleet_names_role_arn, "arn:aws:iam::123456789012:role/path/to/R", 1},
        {fleet_names_role_arn, "arn:aws-cn:iam::123456789012:role/R", 1},
        {fleet_names_role_arn, "arn:aws:iam::12345678901:role/R", 0},
        {fleet_names_role_arn, "arn:aws:iam::123456789012:user/R", 0},
        {fleet_names_iam_policy_arn,
         "arn:aws:iam::123456789012:policy/FleetwardenTokenExchangeBoundary", 1},
        {fleet_names_iam_policy_arn, "arn:aws-us-gov:iam::123456789012:policy/path/B", 1},
        {fleet_names_iam_policy_arn,
         "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration", 1},
        {fleet_names_iam_policy_arn, "arn:aws:iam::123456789012:role/B", 0},
        {fleet_names_iam_policy_arn, "arn:aws:iam::1234:policy/B", 0},
        {fleet_names_iam_policy_arn, "arn:aws:iam::123456789012:policy/", 0},
        {fleet_names_iam_policy_arn, "arn:aws:iot:us-east-1:123456789012:policy/B", 0},
        {fleet_names_role_arn, "arn:aws:iam:us-east-1:123456789012:role/R", 0},
        {fleet_names_role_arn, "arn:aws:sts::123456789012:role/R", 0},
        {fleet_names_role_arn, "arn:other:iam::123456789012:role/R", 0},
        {fleet_names_lambda_arn, "arn:aws:lambda:us-east-1:123456789012:function:hook", 1},
        {fleet_names_lambda_arn, "arn:aws:lambda:us-east-1:123456789012:function:hook:$LATEST", 1},
        {fleet_names_lambda_arn, "arn:aws:lambda:us-east-1:123456789012:function:hook:prod", 1},
        {fleet_names_lambda_arn, "arn:aws:lambda:us-east-1:123:function:hook", 0},
        {fleet_names_lambda_arn, "arn:aws:lambda:useast1:123456789012:function:hook", 0},
        {fleet_names_lambda_arn, "arn:aws:lambda:us-east-1:123456789012:layer:hook", 0},
        {fleet_names_lambda_arn, "arn:aws:s3:::bucket", 0},
        {fleet_names_lambda_arn, "arn:aws:lambda:us-east-1:123456789012:function:", 0},
        {fleet_names_external_id, "ab", 1},
        {fleet_names_external_id, "a", 0},
        {fleet_names_external_id, "a b", 0},
        {fleet_names_external_id, "id:/=,.@+-_", 1},
        {fleet_names_version, "2.16.1", 1},
        {fleet_names_version, "10.0.123456", 1},
        {fleet_names_version, "2.16", 0},
        {fleet_names_version, "2.16.1.4", 0},
        {fleet_names_version, "2.x.1", 0},
        {fleet_names_version, "2..1", 0},
        {fleet_names_version, "1234567.0.0", 0},
        {fleet_names_version, "", 0},
        {fleet_names_version, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (cases[i].fn(cases[i].s) != cases[i].ok)
            fail_msg("case %zu (\"%s\") should be %s", i, cases[i].s ? cases[i].s : "(null)",
                     cases[i].ok ? "valid" : "invalid");
}

/* AWS IoT invokes a hook only in the template's account and region (issue 13). */
static void test_lambda_in(void **state)
{
    (void)state;
    const char *h = "arn:aws:lambda:us-east-1:123456789012:function:hook:prod";
    assert_true(fleet_names_lambda_in(h, "us-east-1", "123456789012"));
    assert_true(fleet_names_lambda_in(h, "us-east-1", ""));   /* account not known yet */
    assert_true(fleet_names_lambda_in(h, 0, "123456789012")); /* region not known yet */
    assert_false(fleet_names_lambda_in(h, "eu-west-1", "123456789012"));
    assert_false(fleet_names_lambda_in(h, "us-east-11", "123456789012"));
    assert_false(fleet_names_lambda_in(h, "us-east-1", "210987654321"));
    assert_false(fleet_names_lambda_in("arn:aws:s3:::b", "us-east-1", 0));
    char acct[13];
    assert_true(fleet_names_arn_account("arn:aws:iam::210987654321:role/R", acct));
    assert_string_equal(acct, "210987654321");
    assert_false(fleet_names_arn_account("arn:aws:iam::21098765432:role/R", acct));
    assert_string_equal(acct, "");
    assert_false(fleet_names_arn_account(0, acct));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_table),
                                       cmocka_unit_test(test_lambda_in)};
    return cmocka_run_group_tests(tests, 0, 0);
}
