/* policies_test.c - the guide's documents with placeholders filled, compared
 * as JSON with the documents written out here by hand, and the semantic
 * comparison used to accept existing resources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/policies.h"

/* Asserts that doc (stolen) equals the JSON text want exactly. */
static void assert_json(json_t *doc, const char *want)
{
    json_error_t e;
    json_t *w = json_loads(want, 0, &e);
    if (!w)
        fail_msg("bad expected JSON: %s", e.text);
    if (!json_equal(doc, w)) {
        char *got = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s", got);
    }
    json_decref(w);
    json_decref(doc);
}

static void test_tes_trust(void **state)
{
    (void)state;
    assert_json(policies_tes_trust(),
                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{"
                "\"Service\":"
                "\"credentials.iot.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}");
    assert_json(policies_provisioning_trust(),
                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{"
                "\"Service\":"
                "\"iot.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}");
}

static const char s_access[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                               "\"Action\":[\"iot:DescribeCertificate\","
                               "\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:"
                               "PutLogEvents\",\"logs:DescribeLogStreams\","
                               "\"s3:GetBucketLocation\"],\"Resource\":\"*\"}%s]}";

static void test_tes_access(void **state)
{
    (void)state;
    char want[2048];
    snprintf(want, sizeof want, s_access, "");
    assert_json(policies_tes_access("us-east-1", 0), want);
    json_t *buckets = json_pack("[s,s]", "art-1", "art-2");
    snprintf(want, sizeof want, s_access,
             ",{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::"
             "art-1/*\","
             "\"arn:aws:s3:::art-2/*\"]}");
    assert_json(policies_tes_access("us-east-1", buckets), want);
    snprintf(want, sizeof want, s_access,
             ",{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":[\"arn:aws-cn:s3:::"
             "art-1/*\","
             "\"arn:aws-cn:s3:::art-2/*\"]}");
    assert_json(policies_tes_access("cn-north-1", buckets), want);
    json_decref(buckets);
}

static void test_thing_policy(void **state)
{
    (void)state;
    assert_json(
        policies_thing_policy("eu-west-1", "111122223333", "MyAlias"),
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:"
        "Publish\","
        "\"iot:Subscribe\",\"iot:Receive\",\"iot:Connect\",\"greengrass:*\"],\"Resource\":[\"*\"]},"
        "{\"Effect\":\"Allow\",\"Action\":[\"iot:AssumeRoleWithCertificate\"],\"Resource\":"
        "\"arn:aws:iot:eu-west-1:111122223333:rolealias/MyAlias\"}]}");
}

static void test_claim_policy(void **state)
{
    (void)state;
    const char *a = "arn:aws:iot:us-west-2:123456789012:";
    char want[4096];
    snprintf(want, sizeof want,
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:"
             "Connect\"],"
             "\"Resource\":\"*\"},{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:"
             "Receive\"],\"Resource\":"
             "[\"%stopic/$aws/certificates/create/*\",\"%stopic/$aws/provisioning-templates/T1/"
             "provision/*\"]},"
             "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":[\"%stopicfilter/"
             "$aws/certificates/"
             "create/*\",\"%stopicfilter/$aws/provisioning-templates/T1/provision/*\"]}]}",
             a, a, a, a);
    assert_json(policies_claim_policy("us-west-2", "123456789012", "T1", 0), want);
    json_t *csr = policies_claim_policy("us-west-2", "123456789012", "T1", 1);
    json_t *st = json_object_get(json_array_get(json_object_get(csr, "Statement"), 2), "Resource");
    assert_int_equal(json_array_size(st), 3);
    assert_string_equal(
        json_string_value(json_array_get(st, 2)),
        "arn:aws:iot:us-west-2:123456789012:topicfilter/$aws/certificates/create-from-csr/*");
    json_decref(csr);
}

static const char s_template[] =
    "{\"Parameters\":{\"ThingName\":{\"Type\":\"String\"},\"ThingGroupName\":{\"Type\":\"String\"},"
    "\"AWS::IoT::Certificate::Id\":{\"Type\":\"String\"}},\"Resources\":{\"MyThing\":{"
    "\"OverrideSettings\":"
    "{\"AttributePayload\":\"REPLACE\",\"ThingGroups\":\"REPLACE\",\"ThingTypeName\":\"REPLACE\"},"
    "\"Properties\":"
    "{\"AttributePayload\":{},\"ThingGroups\":[{\"Ref\":\"ThingGroupName\"}],\"ThingName\":{"
    "\"Ref\":\"ThingName\"}},"
    "\"Type\":\"AWS::IoT::Thing\"},\"MyPolicy\":{\"Properties\":{%s},\"Type\":\"AWS::IoT::Policy\"}"
    ","
    "\"MyCertificate\":{\"Properties\":{\"CertificateId\":{\"Ref\":\"AWS::IoT::Certificate::Id\"},"
    "\"Status\":"
    "\"Active\"},\"Type\":\"AWS::IoT::Certificate\"}}}";

static void test_template_body(void **state)
{
    (void)state;
    char want[4096];
    snprintf(want, sizeof want, s_template, "\"PolicyName\":\"GreengrassV2IoTThingPolicy\"");
    assert_json(policies_template_body("GreengrassV2IoTThingPolicy", 0, 0), want);
    json_t *doc = json_pack("{s:s}", "Version", "2012-10-17");
    snprintf(want, sizeof want, s_template,
             "\"PolicyDocument\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\"");
    assert_json(policies_template_body(0, doc, 0), want);
    json_decref(doc);
    /* the thing name made on AWS's side from the certificate id: no ThingName parameter */
    struct policies_thing_name tn = {"certificateId", "line7-"};
    json_t *b = policies_template_body("P", 0, &tn);
    assert_null(json_object_get(json_object_get(b, "Parameters"), "ThingName"));
    char *name = json_dumps(
        json_object_get(json_object_get(json_object_get(json_object_get(b, "Resources"), "MyThing"),
                                        "Properties"),
                        "ThingName"),
        JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        name, "{\"Fn::Join\":[\"\",[\"line7-\",{\"Ref\":\"AWS::IoT::Certificate::Id\"}]]}");
    free(name);
    json_decref(b);
}

static void test_arns_and_partitions(void **state)
{
    (void)state;
    char out[256];
    assert_string_equal(policies_partition("us-east-1"), "aws");
    assert_string_equal(policies_partition("cn-northwest-1"), "aws-cn");
    assert_string_equal(policies_partition("us-gov-west-1"), "aws-us-gov");
    policies_registration_policy_arn("us-gov-east-1", out, sizeof out);
    assert_string_equal(out,
                        "arn:aws-us-gov:iam::aws:policy/service-role/AWSIoTThingsRegistration");
    policies_registration_policy_arn("eu-central-1", out, sizeof out);
    assert_string_equal(out, "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration");
    policies_iam_policy_arn("us-east-1", "123456789012", "P", out, sizeof out);
    assert_string_equal(out, "arn:aws:iam::123456789012:policy/P");
    policies_role_alias_arn("cn-north-1", "123456789012", "A", out, sizeof out);
    assert_string_equal(out, "arn:aws-cn:iot:cn-north-1:123456789012:rolealias/A");
}

static void test_equal_semantics(void **state)
{
    (void)state;
    json_t *want = policies_tes_trust();
    char diff[512];
    /* A single statement object, a one-element Action list and a Sid mean the same. */
    assert_true(policies_equal(
        "{\"Statement\":{\"Sid\":\"x\",\"Action\":[\"sts:AssumeRole\"],\"Effect\":\"Allow\","
        "\"Principal\":{\"Service\":[\"credentials.iot.amazonaws.com\"]}},"
        "\"Version\":\"2012-10-17\"}",
        want, diff, sizeof diff));
    assert_false(policies_equal(
        "{\"Statement\":{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\","
        "\"Principal\":{\"Service\":\"iot.amazonaws.com\"}},\"Version\":\"2012-10-17\"}",
        want, diff, sizeof diff));
    assert_non_null(strstr(diff, "Statement[0].Principal.Service"));
    assert_false(policies_equal("not json", want, diff, sizeof diff));
    assert_false(policies_equal(0, want, 0, 0));
    json_decref(want);
    /* Reordered actions are equal; a missing one is named. */
    json_t *tp = policies_thing_policy("us-east-1", "123456789012", "A");
    assert_true(policies_equal(
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
        "[\"greengrass:*\",\"iot:Connect\",\"iot:Receive\",\"iot:Subscribe\",\"iot:Publish\"],"
        "\"Resource\":\"*\"},{\"Effect\":\"Allow\",\"Action\":\"iot:AssumeRoleWithCertificate\","
        "\"Resource\":[\"arn:aws:iot:us-east-1:123456789012:rolealias/A\"]}]}",
        tp, 0, 0));
    assert_false(policies_equal(
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
        "[\"iot:Publish\"],\"Resource\":\"*\"}]}",
        tp, diff, sizeof diff));
    assert_non_null(strstr(diff, "Statement[0].Action"));
    json_decref(tp);
}

static void test_equal_template_document_string(void **state)
{
    (void)state;
    json_t *doc = policies_thing_policy("us-east-1", "123456789012", "A");
    json_t *a = policies_template_body(0, doc, 0);
    /* The same template whose PolicyDocument string is formatted differently. */
    json_t *b = json_deep_copy(a);
    json_t *props =
        json_object_get(json_object_get(json_object_get(b, "Resources"), "MyPolicy"), "Properties");
    char *pretty = json_dumps(doc, JSON_INDENT(2));
    json_object_set_new(props, "PolicyDocument", json_string(pretty));
    free(pretty);
    assert_true(policies_equal_json(a, b, 0, 0));
    json_decref(a);
    json_decref(b);
    json_decref(doc);
}

static void test_equal_statement_order(void **state)
{
    (void)state;
    json_t *tp = policies_thing_policy("us-east-1", "123456789012", "A");
    /* The same two statements in reverse order are the same policy (they were "exists-differs");
     * one statement twice instead of two different ones is not; Statement inside a template's
     * PolicyDocument string is compared the same way. */
    const char *reversed =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
        "\"iot:AssumeRoleWithCertificate\",\"Resource\":[\"arn:aws:iot:us-east-1:123456789012:"
        "rolealias/A\"]},{\"Effect\":\"Allow\",\"Action\":[\"greengrass:*\",\"iot:Connect\","
        "\"iot:Receive\",\"iot:Subscribe\",\"iot:Publish\"],\"Resource\":\"*\"}]}";
    assert_true(policies_equal(reversed, tp, 0, 0));
    json_t *twice = json_deep_copy(tp);
    json_t *st = json_object_get(twice, "Statement");
    json_array_set(st, 1, json_array_get(st, 0));
    char *text = json_dumps(twice, JSON_COMPACT);
    char diff[512];
    assert_false(policies_equal(text, tp, diff, sizeof diff));
    free(text);
    json_t *a = policies_template_body(0, tp, 0);
    json_t *rdoc = json_loads(reversed, 0, 0);
    json_t *b = policies_template_body(0, rdoc, 0);
    assert_true(policies_equal_json(a, b, 0, 0));
    json_decref(rdoc);
    json_decref(a);
    json_decref(b);
    json_decref(twice);
    json_decref(tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tes_trust),
        cmocka_unit_test(test_tes_access),
        cmocka_unit_test(test_thing_policy),
        cmocka_unit_test(test_claim_policy),
        cmocka_unit_test(test_template_body),
        cmocka_unit_test(test_arns_and_partitions),
        cmocka_unit_test(test_equal_semantics),
        cmocka_unit_test(test_equal_template_document_string),
        cmocka_unit_test(test_equal_statement_order),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
