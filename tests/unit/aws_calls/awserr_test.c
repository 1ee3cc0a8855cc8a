/*
 * awserr_test.c - AWS error answers become the right struct aws_api_error.
 *
 * Bodies are real shapes from IAM, STS, CloudWatch (query/XML) and IoT
 * (rest-json), including IoT's ThrottlingException sent with HTTP 400.
 * Each row says what code, class and retryability we must derive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/awserr.h"
#include "service/core/err.h"

struct xml_case {
    const char *name;
    int status;
    const char *body;
    const char *code;
    const char *message_part;
    const char *request_id;
    enum aws_err_class cls;
    int retryable;
};

static const struct xml_case s_xml_cases[] = {
    {"iam NoSuchEntity", 404,
     "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <Error>\n    "
     "<Type>Sender</Type>\n"
     "    <Code>NoSuchEntity</Code>\n    <Message>The role with name GreengrassV2TokenExchangeRole "
     "cannot be "
     "found.</Message>\n  </Error>\n  <RequestId>4f0a7b52-8c8b-4fb2-9a4e-0c4a1a2b3c4d</RequestId>\n"
     "</ErrorResponse>\n",
     "NoSuchEntity", "cannot be found", "4f0a7b52-8c8b-4fb2-9a4e-0c4a1a2b3c4d", AWS_ERRC_NOTFOUND,
     0},
    {"iam EntityAlreadyExists", 409,
     "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
     "<Code>EntityAlreadyExists</Code><Message>Role with name X already exists.</Message></Error>"
     "<RequestId>r1</RequestId></ErrorResponse>",
     "EntityAlreadyExists", "already exists", "r1", AWS_ERRC_CONFLICT, 0},
    {"iam DeleteConflict", 409,
     "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
     "<Code>DeleteConflict</Code><Message>Cannot delete entity, must detach all policies "
     "first.</Message>"
     "</Error><RequestId>r2</RequestId></ErrorResponse>",
     "DeleteConflict", "must detach", "r2", AWS_ERRC_CONFLICT, 0},
    {"iam LimitExceeded", 409,
     "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
     "<Code>LimitExceeded</Code><Message>A managed policy can have up to 5 "
     "versions.</Message></Error>"
     "<RequestId>r3</RequestId></ErrorResponse>",
     "LimitExceeded", "5 versions", "r3", AWS_ERRC_LIMIT, 0},
    {"iam Throttling", 400,
     "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
     "<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r4</RequestId>"
     "</ErrorResponse>",
     "Throttling", "Rate exceeded", "r4", AWS_ERRC_THROTTLING, 1},
    {"iam AccessDenied", 403,
     "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
     "<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/x is not authorized "
     "to perform: "
     "iam:CreateRole</Message></Error><RequestId>r5</RequestId></ErrorResponse>",
     "AccessDenied", "not authorized", "r5", AWS_ERRC_ACCESS, 0},
    {"sts InvalidClientTokenId", 403,
     "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    "
     "<Type>Sender</Type>\n"
     "    <Code>InvalidClientTokenId</Code>\n    <Message>The security token included in the "
     "request is "
     "invalid.</Message>\n  </Error>\n  <RequestId>a1b2</RequestId>\n</ErrorResponse>\n",
     "InvalidClientTokenId", "security token", "a1b2", AWS_ERRC_ACCESS, 0},
    {"sts SignatureDoesNotMatch", 403,
     "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
     "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not "
     "match the "
     "signature you provided.</Message></Error><RequestId>s1</RequestId></ErrorResponse>",
     "SignatureDoesNotMatch", "clock", "s1", AWS_ERRC_ACCESS, 0},
    {"sts ExpiredToken", 400,
     "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
     "<Code>ExpiredToken</Code><Message>The security token included in the request is "
     "expired</Message>"
     "</Error><RequestId>s2</RequestId></ErrorResponse>",
     "ExpiredToken", "expired", "s2", AWS_ERRC_ACCESS, 0},
    {"cloudwatch InvalidParameterValue", 400,
     "<ErrorResponse "
     "xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type>"
     "<Code>InvalidParameterValue</Code><Message>The value m-1 for parameter "
     "MetricDataQueries.member.1.Id is not valid.</Message></Error><RequestId>c1</RequestId>"
     "</ErrorResponse>",
     "InvalidParameterValue", "not valid", "c1", AWS_ERRC_VALIDATION, 0},
    {"cloudwatch Throttling", 400,
     "<ErrorResponse "
     "xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type>"
     "<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>c2</RequestId>"
     "</ErrorResponse>",
     "Throttling", "Rate", "c2", AWS_ERRC_THROTTLING, 1},
    {"cloudwatch InternalServiceError 500", 500,
     "<ErrorResponse "
     "xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Receiver</Type>"
     "<Code>InternalServiceError</Code><Message>Internal "
     "error</Message></Error><RequestId>c3</RequestId>"
     "</ErrorResponse>",
     "InternalServiceError", "Internal", "c3", AWS_ERRC_TRANSIENT, 1},
    {"iam ServiceFailure 503", 503,
     "<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>"
     "<RequestId>c4</RequestId></ErrorResponse>",
     "ServiceUnavailable", "down", "c4", AWS_ERRC_TRANSIENT, 1},
    {"ec2-style Response/Errors", 503,
     "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded."
     "</Message></Error></Errors><RequestID>e1</RequestID></Response>",
     "RequestLimitExceeded", "limit", "e1", AWS_ERRC_THROTTLING, 1},
    {"html from a proxy 502", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "Http502",
     "502", "hdr", AWS_ERRC_TRANSIENT, 1},
    {"empty body 500", 500, "", "Http500", "500", "hdr", AWS_ERRC_TRANSIENT, 1},
    {"empty body 403", 403, "", "Http403", "403", "hdr", AWS_ERRC_ACCESS, 0},
    {"garbage 400", 400, "<<<not xml", "Http400", "400", "hdr", AWS_ERRC_VALIDATION, 0},
};

static void test_xml_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_xml_cases / sizeof s_xml_cases[0]; i++) {
        const struct xml_case *c = &s_xml_cases[i];
        struct aws_api_error e = {0};
        snprintf(e.operation, sizeof e.operation, "%s", "sts:GetCallerIdentity");
        awserr_from_xml(&e, c->status, c->body, strlen(c->body), "hdr");
        awserr_add_hint(&e);
        print_message("case: %s -> %s %s\n", c->name, e.code, e.message);
        assert_string_equal(e.code, c->code);
        assert_non_null(strstr(e.message, c->message_part));
        assert_string_equal(e.request_id, c->request_id);
        assert_int_equal(e.cls, c->cls);
        assert_int_equal(e.retryable, c->retryable);
        assert_int_equal(e.http_status, c->status);
        assert_string_equal(e.operation, "sts:GetCallerIdentity");
    }
}

struct json_case {
    const char *name;
    int status;
    const char *error_type; /* x-amzn-ErrorType header or NULL */
    const char *body;
    const char *code;
    const char *message_part;
    enum aws_err_class cls;
    int retryable;
};

static const struct json_case s_json_cases[] = {
    {"iot ThrottlingException with HTTP 400", 400,
     "ThrottlingException:http://internal.amazon.com/coral/com.amazonaws.iot/",
     "{\"message\":\"Rate exceeded\"}", "ThrottlingException", "Rate exceeded", AWS_ERRC_THROTTLING,
     1},
    {"iot ResourceNotFound", 404,
     "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.iot/",
     "{\"message\":\"The policy p does not exist.\"}", "ResourceNotFoundException",
     "does not exist", AWS_ERRC_NOTFOUND, 0},
    {"iot AlreadyExists by __type only", 409, 0,
     "{\"__type\":\"com.amazonaws.iot#ResourceAlreadyExistsException\",\"message\":\"Policy cannot "
     "be created - "
     "name already exists "
     "(name=p)\",\"resourceId\":\"p\",\"resourceArn\":\"arn:aws:iot:us-east-1:1:policy/p\"}",
     "ResourceAlreadyExistsException", "already exists", AWS_ERRC_CONFLICT, 0},
    {"iot VersionsLimitExceeded", 409, "VersionsLimitExceededException",
     "{\"message\":\"The policy p already has the maximum number of versions (5)\"}",
     "VersionsLimitExceededException", "five versions is the limit", AWS_ERRC_LIMIT, 0},
    {"iot DeleteConflict", 409, "DeleteConflictException",
     "{\"message\":\"The policy has non-default versions\"}", "DeleteConflictException",
     "non-default", AWS_ERRC_CONFLICT, 0},
    {"iot CertificateState 406", 406, "CertificateStateException",
     "{\"message\":\"The certificate is in the ACTIVE state\"}", "CertificateStateException",
     "INACTIVE", AWS_ERRC_CONFLICT, 0},
    {"iot Unauthorized 401", 401, "UnauthorizedException", "{\"message\":\"Access Denied\"}",
     "UnauthorizedException", "Access Denied", AWS_ERRC_ACCESS, 0},
    {"iot InvalidRequest", 400, "InvalidRequestException", "{\"message\":\"1 validation error\"}",
     "InvalidRequestException", "validation", AWS_ERRC_VALIDATION, 0},
    {"iot InternalFailure 500", 500, "InternalFailureException",
     "{\"message\":\"Internal failure\"}", "InternalFailureException", "Internal",
     AWS_ERRC_TRANSIENT, 1},
    {"iot ServiceUnavailable 503", 503, "ServiceUnavailableException",
     "{\"message\":\"unavailable\"}", "ServiceUnavailableException", "unavailable",
     AWS_ERRC_TRANSIENT, 1},
    {"iot LimitExceeded 410 is a quota", 410, "LimitExceededException", "{\"message\":\"limit\"}",
     "LimitExceededException", "limit", AWS_ERRC_LIMIT, 0},
    {"body code with Message", 400, 0,
     "{\"code\":\"TooManyRequestsException\",\"Message\":\"slow down\"}",
     "TooManyRequestsException", "slow down", AWS_ERRC_THROTTLING, 1},
    {"header wins over body", 400, "ThrottlingException",
     "{\"__type\":\"InvalidRequestException\"}", "ThrottlingException", "", AWS_ERRC_THROTTLING, 1},
    {"no code 429", 429, 0, "", "Http429", "429", AWS_ERRC_THROTTLING, 1},
    {"no code 504 html", 504, 0, "<html>gateway</html>", "Http504", "504", AWS_ERRC_TRANSIENT, 1},
    {"json array body 400", 400, 0, "[1,2]", "Http400", "400", AWS_ERRC_VALIDATION, 0},
};

static void test_json_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_json_cases / sizeof s_json_cases[0]; i++) {
        const struct json_case *c = &s_json_cases[i];
        struct aws_api_error e = {0};
        snprintf(e.operation, sizeof e.operation, "%s", "iot:DeleteCertificate");
        awserr_from_json(&e, c->status, c->error_type, c->body, strlen(c->body), "rid-1");
        awserr_add_hint(&e);
        print_message("case: %s -> %s %s\n", c->name, e.code, e.message);
        assert_string_equal(e.code, c->code);
        assert_non_null(strstr(e.message, c->message_part));
        assert_string_equal(e.request_id, "rid-1");
        assert_int_equal(e.cls, c->cls);
        assert_int_equal(e.retryable, c->retryable);
    }
}

struct hint_case {
    const char *operation;
    const char *code;
    const char *hint_part;
};

static const struct hint_case s_hints[] = {
    {"iot:CreateRoleAlias", "AccessDeniedException", "iam:PassRole"},
    {"iot:CreateRoleAlias", "UnauthorizedException", "iam:PassRole"},
    {"iot:CreatePolicyVersion", "VersionsLimitExceededException", "oldest non-default version"},
    {"iam:CreatePolicyVersion", "LimitExceeded", "oldest non-default version"},
    {"iot:DeletePolicy", "DeleteConflictException", "detach it"},
    {"iam:DeletePolicy", "DeleteConflict", "attached to a role"},
    {"iam:DeleteRole", "DeleteConflict", "attached or inline policies"},
    {"iot:DeleteCertificate", "DeleteConflictException", "forceDelete"},
    {"iot:DeleteCertificate", "CertificateStateException", "INACTIVE"},
    {"sts:GetCallerIdentity", "InvalidClientTokenId", "check the credentials"},
    {"iot:ListCertificates", "UnrecognizedClientException", "check the credentials"},
    {"sts:GetCallerIdentity", "SignatureDoesNotMatch", "clock"},
    {"iot:GetPolicy", "InvalidSignatureException", "clock"},
};

static void test_hints(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_hints / sizeof s_hints[0]; i++) {
        struct aws_api_error e = {0};
        snprintf(e.operation, sizeof e.operation, "%s", s_hints[i].operation);
        awserr_set(&e, 400, s_hints[i].code, "AWS said no");
        awserr_add_hint(&e);
        print_message("%s %s -> %s\n", s_hints[i].operation, s_hints[i].code, e.message);
        assert_non_null(strstr(e.message, "AWS said no"));
        assert_non_null(strstr(e.message, s_hints[i].hint_part));
    }
}

static void test_message_truncation(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char body[2200];
    snprintf(body, sizeof body, "{\"message\":\"%s\"}", big);
    struct aws_api_error e = {0};
    snprintf(e.operation, sizeof e.operation, "%s", "iot:CreatePolicyVersion");
    awserr_from_json(&e, 409, "VersionsLimitExceededException", body, strlen(body), "r");
    awserr_add_hint(&e);
    assert_true(strlen(e.message) < sizeof e.message);
    assert_int_equal(e.cls, AWS_ERRC_LIMIT);
}

static void test_hostile_json(void **state)
{
    (void)state;
    size_t n = 200000;
    char *deep = malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    struct aws_api_error e = {0};
    awserr_from_json(&e, 400, NULL, deep, n, "r");
    assert_string_equal(e.code, "Http400");
    free(deep);
    const char *odd[] = {
        "{\"__type\":5}",      "{\"__type\":\"\"}", "{\"code\":null,\"message\":7}", "\"str\"",
        "{\"__type\":\"a#\"}", "{\"a\":1,\"a\":2}", "{\"__type\":\"X\\u0000Y\"}"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        memset(&e, 0, sizeof e);
        awserr_from_json(&e, 400, NULL, odd[i], strlen(odd[i]), "r");
        assert_true(strlen(e.code) < sizeof e.code);
        assert_int_equal(e.retryable, 0);
    }
    /* a header code longer than the field is cut, not overflowed */
    char longcode[300];
    memset(longcode, 'T', sizeof longcode - 1);
    longcode[sizeof longcode - 1] = '\0';
    memset(&e, 0, sizeof e);
    awserr_from_json(&e, 400, longcode, "", 0, "r");
    assert_int_equal(strlen(e.code), sizeof e.code - 1);
}

static void test_own_codes_and_fw_mapping(void **state)
{
    (void)state;
    struct {
        const char *code;
        int status;
        enum aws_err_class cls;
        int fw;
    } rows[] = {
        {AWSERR_CONNECTION, 0, AWS_ERRC_TRANSIENT, FW_EUNAVAILABLE},
        {AWSERR_TIMEOUT, 0, AWS_ERRC_TRANSIENT, FW_ETIMEOUT},
        {AWSERR_TOO_LARGE, 200, AWS_ERRC_OTHER, FW_EAWS},
        {AWSERR_MALFORMED, 200, AWS_ERRC_OTHER, FW_EAWS},
        {AWSERR_TLS, 0, AWS_ERRC_OTHER, FW_EAWS},
        {"SomethingNew", 0, AWS_ERRC_OTHER, FW_EAWS},
        {"NoSuchEntity", 404, AWS_ERRC_NOTFOUND, FW_ENOTFOUND},
        {"ThrottlingException", 400, AWS_ERRC_THROTTLING, FW_ETHROTTLED},
        {"VersionsLimitExceededException", 409, AWS_ERRC_LIMIT, FW_ECONFLICT},
        {"ValidationError", 400, AWS_ERRC_VALIDATION, FW_EINVAL},
        {"AccessDenied", 403, AWS_ERRC_ACCESS, FW_EAWS},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct aws_api_error e = {0};
        awserr_set(&e, rows[i].status, rows[i].code, "m");
        assert_int_equal(e.cls, rows[i].cls);
        assert_int_equal(awserr_to_fw(&e), rows[i].fw);
    }
    assert_string_equal(awserr_class_name(AWS_ERRC_THROTTLING), "throttling");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_errors),   cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_hints),        cmocka_unit_test(test_message_truncation),
        cmocka_unit_test(test_hostile_json), cmocka_unit_test(test_own_codes_and_fw_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
