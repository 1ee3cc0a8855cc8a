/*
 * dataplane_test.c - the data plane's pure rules: which endpoint hosts may
 * be dialled, when ALPN is offered, MQTT 5 reason codes as errors, a claim
 * policy that allows only the CSR flow, and the hint of each failure a
 * verification can meet (the resource it names, and how to fix it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/dataplane.h"
#include "service/core/err.h"

static void endpoints(void **state)
{
    (void)state;
    char why[300];
    assert_int_equal(dataplane_endpoint_ok("a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com",
                                           "eu-west-1", 0, why, sizeof why),
                     0);
    assert_int_equal(dataplane_endpoint_ok("c1b2c3d4e5f6g7.credentials.iot.eu-west-1.amazonaws.com",
                                           "eu-west-1", "", why, sizeof why),
                     0);
    assert_int_equal(dataplane_endpoint_ok("a1-ats.iot.cn-north-1.amazonaws.com.cn", "cn-north-1",
                                           0, why, sizeof why),
                     0);
    /* another region, another domain, an address, a look-alike, odd characters */
    const char *bad[] = {"a1-ats.iot.us-east-1.amazonaws.com",
                         "iot.eu-west-1.amazonaws.com.evil.net",
                         "169.254.169.254",
                         "a1-ats.iot.eu-west-1.amazonaws.com:99",
                         "a b.iot.eu-west-1.amazonaws.com",
                         ".iot.eu-west-1.amazonaws.com",
                         "",
                         "localhost"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dataplane_endpoint_ok(bad[i], "eu-west-1", 0, why, sizeof why), FW_EINVAL);
    /* the allow list: exact names, case-insensitive, for the emulator */
    assert_int_equal(
        dataplane_endpoint_ok("localhost", "eu-west-1", "example.test, LOCALHOST", why, sizeof why),
        0);
    assert_int_equal(
        dataplane_endpoint_ok("localhost.evil", "eu-west-1", "localhost", why, sizeof why),
        FW_EINVAL);
    assert_int_equal(
        dataplane_endpoint_ok("x.iot.eu-west-1.amazonaws.com", "nowhere", 0, why, sizeof why),
        FW_EINVAL);
}

static void alpn(void **state)
{
    (void)state;
    assert_int_equal(dataplane_alpn_wanted(443, 0), 1);
    assert_int_equal(dataplane_alpn_wanted(443, "auto"), 1);
    assert_int_equal(dataplane_alpn_wanted(8883, "auto"), 0);
    assert_int_equal(dataplane_alpn_wanted(8883, "on"), 1);
    assert_int_equal(dataplane_alpn_wanted(443, "off"), 0);
    assert_int_equal(dataplane_alpn_wanted(443, "yes"), -1);
}

static void reason_codes(void **state)
{
    (void)state;
    struct aws_api_error e;
    memset(&e, 0, sizeof e);
    dataplane_mqtt_error(&e, DP_ERR_CONNECT_REFUSED, "iot:Connect", 0x87, "iot:Connect refused", 0);
    assert_string_equal(e.code, "MqttConnectRefused");
    assert_string_equal(e.message, "Not authorized (0x87): iot:Connect refused");
    assert_string_equal(e.operation, "iot:Connect");
    assert_int_equal(e.cls, AWS_ERRC_ACCESS);
    assert_int_equal(e.retryable, 0);
    dataplane_mqtt_error(&e, DP_ERR_PUBLISH_REFUSED, "iot:Publish", 0x97, 0, "t/1");
    assert_string_equal(e.message, "Quota exceeded (0x97); t/1");
    assert_int_equal(e.cls, AWS_ERRC_THROTTLING);
    assert_int_equal(e.retryable, 1);
    dataplane_mqtt_error(&e, DP_ERR_DISCONNECTED, "iot:Publish", -1, 0, "closed");
    assert_string_equal(e.message, "closed");
    assert_int_equal(e.cls, AWS_ERRC_ACCESS); /* how AWS refuses an MQTT 3.1.1 client */
    char b[24];
    assert_string_equal(dataplane_reason_name(0x88, b, sizeof b), "Server unavailable");
    assert_string_equal(dataplane_reason_name(0xF0, b, sizeof b), "reason 0xF0");
}

static void csr_only(void **state)
{
    (void)state;
    const char *both = "{\"Resource\":[\"arn:aws:iot:r:a:topic/$aws/certificates/create/*\","
                       "\"arn:aws:iot:r:a:topic/$aws/certificates/create-from-csr/*\"]}";
    const char *csr =
        "{\"Resource\":[\"arn:aws:iot:r:a:topic/$aws/certificates/create-from-csr/*\"]}";
    const char *wild =
        "{\"Resource\":[\"arn:aws:iot:r:a:topic/$aws/certificates/*\",\"x/create-from-csr/*\"]}";
    assert_int_equal(dataplane_claim_policy_csr_only(both), 0);
    assert_int_equal(dataplane_claim_policy_csr_only(csr), 1);
    assert_int_equal(dataplane_claim_policy_csr_only(wild), 0);
    assert_int_equal(dataplane_claim_policy_csr_only(0), 0);
}

static const struct dp_names s_names = {
    "line-7-claim-policy",
    "line-7-template",
    "arn:aws:iam::123456789012:role/GreengrassFleetProvisioningRole",
    0,
    "GreengrassV2IoTThingPolicy",
    "GreengrassCoreTokenExchangeRoleAlias",
    "arn:aws:iam::123456789012:role/GreengrassV2TokenExchangeRole",
    "fwverify-claim-0123",
    "a1-ats.iot.us-east-1.amazonaws.com:8883"};

static void hint_is(const struct dp_names *n, int step, enum dp_fail kind, const char *topic,
                    const char *code, int status, const char *message, const char *want)
{
    struct aws_api_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.code, sizeof e.code, "%s", code ? code : "");
    snprintf(e.message, sizeof e.message, "%s", message ? message : "");
    e.http_status = status;
    struct dp_failure f = {step, kind, topic, &e};
    char out[600];
    dataplane_hint(n, &f, out, sizeof out);
    if (!strstr(out, want))
        fail_msg("hint \"%s\" lacks \"%s\"", out, want);
}

static void hints_mqtt(void **state)
{
    (void)state;
    hint_is(&s_names, DP_STEP_REGISTER, DP_FAIL_PUBLISH,
            "$aws/provisioning-templates/line-7-template/provision/json", "MqttPublishRefused", 0,
            "Not authorized (0x87)",
            "claim policy `line-7-claim-policy` does not allow iot:Publish on "
            "`$aws/provisioning-templates/line-7-template/provision/json`");
    hint_is(&s_names, DP_STEP_CERTIFICATE, DP_FAIL_CONNECT, 0, "MqttConnectRefused", 0, "",
            "claim policy `line-7-claim-policy` does not allow iot:Connect on "
            "`client/fwverify-claim-0123`");
    hint_is(&s_names, DP_STEP_CERTIFICATE, DP_FAIL_SUBSCRIBE,
            "$aws/certificates/create/json/accepted", 0, 0, 0,
            "does not allow iot:Subscribe on `$aws/certificates/create/json/accepted`");
    hint_is(&s_names, DP_STEP_CERTIFICATE, DP_FAIL_NO_ANSWER, "$aws/certificates/create/json", 0, 0,
            0, "claim policy `line-7-claim-policy` does not allow iot:Receive");
    hint_is(&s_names, DP_STEP_THING_CONNECT, DP_FAIL_CONNECT, 0, "MqttConnectRefused", 0,
            "iot:Connect refused",
            "thing policy `GreengrassV2IoTThingPolicy` does not allow iot:Connect");
    hint_is(&s_names, DP_STEP_THING_CONNECT, DP_FAIL_CONNECT, 0, "MqttConnectRefused", 0,
            "the certificate is not ACTIVE", "template `line-7-template` must make it ACTIVE");
    struct dp_names per_device = s_names;
    per_device.thing_policy = 0;
    hint_is(&per_device, DP_STEP_THING_CONNECT, DP_FAIL_CONNECT, 0, 0, 0, 0,
            "the per-device policy of template `line-7-template`");
    hint_is(&s_names, DP_STEP_CERTIFICATE, DP_FAIL_TLS, 0, "TLSError", 0, 0,
            "FLEETWARDEN_ROOT_CA_FILE");
    hint_is(&s_names, DP_STEP_CERTIFICATE, DP_FAIL_UNREACHABLE, 0, "ConnectionError", 0, 0,
            "cannot reach a1-ats.iot.us-east-1.amazonaws.com:8883");
}

static void hints_register(void **state)
{
    (void)state;
    hint_is(&s_names, DP_STEP_REGISTER, DP_FAIL_REJECTED, 0, "InvalidRequest", 400,
            "The provisioning template line-7-template is disabled.",
            "provisioning template `line-7-template` is disabled");
    hint_is(&s_names, DP_STEP_REGISTER, DP_FAIL_REJECTED, 0, "AccessDenied", 403,
            "The provisioning role ... is not authorized to perform: iot:CreateThing on ...",
            "provisioning role `arn:aws:iam::123456789012:role/GreengrassFleetProvisioningRole` of "
            "template "
            "`line-7-template` may not register things: attach "
            "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration");
    hint_is(&s_names, DP_STEP_REGISTER, DP_FAIL_REJECTED, 0, "AccessDenied", 403,
            "The provisioning role R cannot be assumed by AWS IoT: its trust policy ...",
            "does not trust iot.amazonaws.com");
    struct dp_names hooked = s_names;
    hooked.hook_arn = "arn:aws:lambda:us-east-1:123456789012:function:gate";
    hint_is(&hooked, DP_STEP_REGISTER, DP_FAIL_REJECTED, 0, "AccessDenied", 403,
            "Access denied: serial unknown.",
            "the pre-provisioning hook `arn:aws:lambda:us-east-1:123456789012:function:gate` of "
            "template "
            "`line-7-template` refused the device");
    /* with a hook, a role refusal still names the role */
    hint_is(&hooked, DP_STEP_REGISTER, DP_FAIL_REJECTED, 0, "AccessDenied", 403,
            "The provisioning role R is not authorized to perform: iot:CreateThing",
            "may not register things");
    hint_is(&s_names, DP_STEP_REGISTER, DP_FAIL_REJECTED, 0, "ResourceNotFound", 404,
            "no such template", "provisioning template `line-7-template` does not exist");
    hint_is(&s_names, DP_STEP_REGISTER, DP_FAIL_REJECTED, 0, "ResourceRegistrationFailure", 400,
            "Thing group g does not exist", "thing group that does not exist");
    hint_is(&s_names, DP_STEP_REGISTER, DP_FAIL_REJECTED, 0, "TemplateMakesNoThing", 0, "",
            "makes no AWS::IoT::Thing");
}

static void hints_credentials(void **state)
{
    (void)state;
    hint_is(&s_names, DP_STEP_CREDENTIALS, DP_FAIL_AWS, 0, "AccessDeniedException", 403,
            "Access Denied",
            "thing policy `GreengrassV2IoTThingPolicy` does not allow "
            "iot:AssumeRoleWithCertificate on role alias "
            "`GreengrassCoreTokenExchangeRoleAlias`");
    hint_is(&s_names, DP_STEP_CREDENTIALS, DP_FAIL_AWS, 0, "Http400", 400,
            "Unable to assume the role, or the role to assume does not exist",
            "role alias `GreengrassCoreTokenExchangeRoleAlias` points at role "
            "`arn:aws:iam::123456789012:role/GreengrassV2TokenExchangeRole`, which does not exist "
            "or does not trust "
            "credentials.iot.amazonaws.com");
    hint_is(&s_names, DP_STEP_CREDENTIALS, DP_FAIL_AWS, 0, "Http404", 404,
            "Role alias does not exist",
            "role alias `GreengrassCoreTokenExchangeRoleAlias` does not exist");
    hint_is(&s_names, DP_STEP_CREDENTIALS, DP_FAIL_AWS, 0, "AccessDeniedException", 403,
            "Certificate is invalid on this endpoint", "must make it ACTIVE");
    hint_is(
        &s_names, DP_STEP_CREDENTIALS, DP_FAIL_AWS, 0, "Http400", 400,
        "The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role",
        "MaxSessionDuration");
    hint_is(&s_names, DP_STEP_CREDENTIALS, DP_FAIL_IDENTITY, 0, "UnexpectedRole", 0, "",
            "hands out credentials of another role");
    hint_is(&s_names, DP_STEP_CLEANUP, DP_FAIL_AWS, 0, "AccessDeniedException", 403, "", "by hand");
    assert_string_equal(dataplane_step_name(DP_STEP_REGISTER), "registerThing");
    assert_string_equal(dataplane_step_name(0), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoints),         cmocka_unit_test(alpn),
        cmocka_unit_test(reason_codes),      cmocka_unit_test(csr_only),
        cmocka_unit_test(hints_mqtt),        cmocka_unit_test(hints_register),
        cmocka_unit_test(hints_credentials),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
