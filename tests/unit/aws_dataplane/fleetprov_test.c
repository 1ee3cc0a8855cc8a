/*
 * fleetprov_test.c - the fleet provisioning MQTT API's pure parts: topics,
 * request payloads, accepted and rejected answers (with their bounds), and
 * the credentials provider's answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/credprovider.h"
#include "aws/dataplane.h"
#include "aws/fleetprov.h"
#include "service/core/err.h"

#define CERT_ID "5c7f0b1e2d3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4"
#define PEM "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
#define KEY "-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY-----\\n"

static void topics(void **state)
{
    (void)state;
    char t[FLEETPROV_TOPIC_MAX];
    assert_int_equal(fleetprov_topic(FLEETPROV_CREATE_KEYS, 0, "/accepted", t, sizeof t), 0);
    assert_string_equal(t, "$aws/certificates/create/json/accepted");
    assert_int_equal(fleetprov_topic(FLEETPROV_CREATE_FROM_CSR, 0, "", t, sizeof t), 0);
    assert_string_equal(t, "$aws/certificates/create-from-csr/json");
    assert_int_equal(
        fleetprov_topic(FLEETPROV_REGISTER_THING, "line-7-template", "/rejected", t, sizeof t), 0);
    assert_string_equal(t, "$aws/provisioning-templates/line-7-template/provision/json/rejected");
    /* a template name that could change the topic is refused, and so are AWS's other bounds */
    assert_int_equal(fleetprov_topic(FLEETPROV_REGISTER_THING, "a/b", "", t, sizeof t), FW_EINVAL);
    assert_int_equal(fleetprov_topic(FLEETPROV_REGISTER_THING, "+", "", t, sizeof t), FW_EINVAL);
    assert_int_equal(fleetprov_topic(FLEETPROV_REGISTER_THING, "", "", t, sizeof t), FW_EINVAL);
    assert_int_equal(fleetprov_topic(FLEETPROV_REGISTER_THING,
                                     "0123456789012345678901234567890123456", "", t, sizeof t),
                     FW_EINVAL);
    assert_int_equal(fleetprov_topic(FLEETPROV_REGISTER_THING, 0, "", t, sizeof t), FW_EINVAL);
    assert_int_equal(fleetprov_topic(FLEETPROV_CREATE_KEYS, 0, "", t, 10),
                     FW_EINVAL); /* does not fit */
}

static void register_payload(void **state)
{
    (void)state;
    char *out = 0, why[200];
    json_t *p = json_pack("{s:s, s:s}", "ThingName", "fwverify-a", "SerialNumber", "1");
    assert_int_equal(fleetprov_request_register("tok", p, &out, why, sizeof why), 0);
    json_t *o = json_loads(out, 0, 0);
    assert_string_equal(json_string_value(json_object_get(o, "certificateOwnershipToken")), "tok");
    assert_true(json_equal(json_object_get(o, "parameters"), p));
    json_decref(o);
    free(out);
    assert_int_equal(fleetprov_request_register("tok", 0, &out, why, sizeof why), 0);
    assert_non_null(strstr(out, "\"parameters\":{}"));
    free(out);
    json_object_set_new(p, "n", json_integer(1)); /* RegisterThing takes strings only */
    assert_int_equal(fleetprov_request_register("tok", p, &out, why, sizeof why), FW_EINVAL);
    assert_null(out);
    json_decref(p);
    char *csr = fleetprov_request_csr("-----BEGIN CERTIFICATE REQUEST-----\n");
    assert_string_equal(
        csr, "{\"certificateSigningRequest\":\"-----BEGIN CERTIFICATE REQUEST-----\\n\"}");
    free(csr);
}

static void accepted_certificate(void **state)
{
    (void)state;
    struct fleetprov_cert c;
    struct aws_api_error e;
    const char *ok =
        "{\"certificateId\":\"" CERT_ID "\",\"certificatePem\":\"" PEM "\",\"privateKey\":\"" KEY
        "\",\"certificateOwnershipToken\":\"eyJ0b2tlbg==\"}";
    assert_int_equal(fleetprov_parse_cert(ok, strlen(ok), 1, &c, &e), 0);
    assert_string_equal(c.certificate_id, CERT_ID);
    assert_non_null(strstr(c.private_key, "PRIVATE KEY"));
    assert_string_equal(c.ownership_token, "eyJ0b2tlbg==");
    fleetprov_cert_cleanup(&c);
    assert_null(c.private_key);
    /* CreateKeysAndCertificate must bring the key; CreateCertificateFromCsr need not */
    const char *nokey = "{\"certificateId\":\"" CERT_ID "\",\"certificatePem\":\"" PEM
                        "\",\"certificateOwnershipToken\":\"t\"}";
    assert_int_equal(fleetprov_parse_cert(nokey, strlen(nokey), 1, &c, &e), FW_EAWS);
    assert_string_equal(e.code, DP_ERR_BAD_ANSWER);
    assert_string_equal(e.operation, "iot:CreateKeysAndCertificate");
    assert_int_equal(fleetprov_parse_cert(nokey, strlen(nokey), 0, &c, &e), 0);
    assert_null(c.private_key);
    fleetprov_cert_cleanup(&c);
}

static void accepted_certificate_bounds(void **state)
{
    (void)state;
    struct fleetprov_cert c;
    struct aws_api_error e;
    const char *bad[] = {
        "[]",
        "{\"certificateId\":\"../../x\",\"certificatePem\":\"" PEM
        "\",\"certificateOwnershipToken\":\"t\"}",
        "{\"certificateId\":\"" CERT_ID
        "\",\"certificatePem\":\"not pem\",\"certificateOwnershipToken\":\"t\"}",
        "{\"certificateId\":\"" CERT_ID "\",\"certificatePem\":\"" PEM
        "\",\"certificateOwnershipToken\":\"a\\u0001\"}",
        "{\"certificateId\":\"" CERT_ID "\",\"certificatePem\":\"" PEM "\"}",
        "{\"certificateId\":\"" CERT_ID "\",\"certificateId\":\"" CERT_ID "\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fleetprov_parse_cert(bad[i], strlen(bad[i]), 0, &c, &e), FW_EAWS);
    /* a token over 8 KiB */
    size_t n = FLEETPROV_TOKEN_MAX + 200;
    char *big = malloc(n + 300);
    int k = snprintf(
        big, 300,
        "{\"certificateId\":\"%s\",\"certificatePem\":\"%s\",\"certificateOwnershipToken\":\"",
        CERT_ID, PEM);
    memset(big + k, 'a', FLEETPROV_TOKEN_MAX + 1);
    strcpy(big + k + FLEETPROV_TOKEN_MAX + 1, "\"}");
    assert_int_equal(fleetprov_parse_cert(big, strlen(big), 0, &c, &e), FW_EAWS);
    free(big);
}

static void registered(void **state)
{
    (void)state;
    struct fleetprov_registered r;
    struct aws_api_error e;
    const char *ok =
        "{\"deviceConfiguration\":{\"a\":\"b\"},\"thingName\":\"fwverify-line-7-abc\"}";
    assert_int_equal(fleetprov_parse_registered(ok, strlen(ok), &r, &e), 0);
    assert_string_equal(r.thing_name, "fwverify-line-7-abc");
    assert_string_equal(json_string_value(json_object_get(r.device_configuration, "a")), "b");
    fleetprov_registered_cleanup(&r);
    const char *none = "{\"deviceConfiguration\":{}}"; /* a template without a thing */
    assert_int_equal(fleetprov_parse_registered(none, strlen(none), &r, &e), 0);
    assert_string_equal(r.thing_name, "");
    fleetprov_registered_cleanup(&r);
    const char *bad[] = {"{\"thingName\":\"a b\"}", "{\"thingName\":1}",
                         "{\"deviceConfiguration\":[]}", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fleetprov_parse_registered(bad[i], strlen(bad[i]), &r, &e), FW_EAWS);
}

static void rejected(void **state)
{
    (void)state;
    struct aws_api_error e;
    const char *off =
        "{\"statusCode\":400,\"errorCode\":\"InvalidRequest\",\"errorMessage\":\"The provisioning "
        "template t1 is disabled.\"}";
    assert_int_equal(fleetprov_parse_rejected(off, strlen(off), FLEETPROV_REGISTER_THING, &e),
                     FW_EAWS);
    assert_int_equal(e.http_status, 400);
    assert_string_equal(e.code, "InvalidRequest");
    assert_string_equal(e.message, "The provisioning template t1 is disabled.");
    assert_string_equal(e.operation, "iot:RegisterThing");
    assert_int_equal(e.cls, AWS_ERRC_VALIDATION);
    const char *slow =
        "{\"statusCode\":429,\"errorCode\":\"Throttling\",\"errorMessage\":\"Rate exceeded\"}";
    fleetprov_parse_rejected(slow, strlen(slow), FLEETPROV_CREATE_KEYS, &e);
    assert_int_equal(e.cls, AWS_ERRC_THROTTLING);
    assert_int_equal(e.retryable, 1);
    const char *deny = "{\"statusCode\":403,\"errorCode\":\"AccessDenied\",\"errorMessage\":"
                       "\"Access denied: no.\"}";
    fleetprov_parse_rejected(deny, strlen(deny), FLEETPROV_REGISTER_THING, &e);
    assert_int_equal(e.cls, AWS_ERRC_ACCESS);
    /* an answer without a usable errorCode is a malformed answer, not an error code we trust */
    const char *junk[] = {"{}", "{\"errorCode\":\"a b\"}",
                          "{\"statusCode\":\"x\",\"errorCode\":\"A\"}", "[1]"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        fleetprov_parse_rejected(junk[i], strlen(junk[i]), FLEETPROV_REGISTER_THING, &e);
        assert_string_equal(e.code, DP_ERR_BAD_ANSWER);
    }
}

static void credentials_answers(void **state)
{
    (void)state;
    struct credprovider_creds c;
    struct aws_api_error e;
    const char *ok =
        "{\"credentials\":{\"accessKeyId\":\"ASIAEXAMPLEEXAMPLE12\",\"secretAccessKey\":\"s3cr3t/"
        "xyz\","
        "\"sessionToken\":\"IQoJb3JpZ2luX2Vj\",\"expiration\":\"2026-11-28T06:00:00Z\"}}";
    assert_int_equal(credprovider_parse(ok, strlen(ok), &c, &e), 0);
    assert_string_equal(c.access_key_id, "ASIAEXAMPLEEXAMPLE12");
    assert_string_equal(c.expiration, "2026-11-28T06:00:00Z");
    credprovider_creds_cleanup(&c);
    assert_null(c.secret_access_key);
    const char *bad = "{\"credentials\":{\"accessKeyId\":\"not a "
                      "key\",\"secretAccessKey\":\"s\",\"sessionToken\":\"t\","
                      "\"expiration\":\"2026\"}}";
    assert_int_equal(credprovider_parse(bad, strlen(bad), &c, &e), FW_EAWS);
    assert_string_equal(e.code, DP_ERR_BAD_ANSWER);
}

static void credentials_errors(void **state)
{
    (void)state;
    struct aws_api_error e;
    /* the provider's 400 and 404 come without an error type: the status and AWS's text are kept */
    const char *trust =
        "{\"message\":\"Unable to assume the role, or the role to assume does not exist\"}";
    credprovider_error(400, "", trust, strlen(trust), &e);
    assert_int_equal(e.http_status, 400);
    assert_string_equal(e.code, "Http400");
    assert_string_equal(e.message,
                        "Unable to assume the role, or the role to assume does not exist");
    assert_string_equal(e.operation, "iot:AssumeRoleWithCertificate");
    const char *deny = "{\"message\":\"Access Denied\"}";
    credprovider_error(403, "AccessDeniedException", deny, strlen(deny), &e);
    assert_string_equal(e.code, "AccessDeniedException");
    assert_string_equal(e.message, "Access Denied");
    assert_int_equal(e.cls, AWS_ERRC_ACCESS);
    credprovider_error(404, 0, "junk", 4, &e);
    assert_string_equal(e.code, "Http404");
    assert_string_equal(e.message, "no readable message");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(topics),
        cmocka_unit_test(register_payload),
        cmocka_unit_test(accepted_certificate),
        cmocka_unit_test(accepted_certificate_bounds),
        cmocka_unit_test(registered),
        cmocka_unit_test(rejected),
        cmocka_unit_test(credentials_answers),
        cmocka_unit_test(credentials_errors),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
