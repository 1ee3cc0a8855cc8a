/* greengrass_test.c - the nucleus config.yaml for fleet provisioning by
 * claim: AWS's documented layout, defaults, overrides and escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/fleet_names.h"
#include "routes/greengrass.h"

static json_t *fleet(void)
{
    return json_loads(
        "{\"name\":\"f1\",\"region\":\"eu-west-1\",\"spec\":{\"thingGroups\":[\"group-a\"]},"
        "\"resources\":{\"endpoints\":{\"dataAts\":\"abc-ats.iot.eu-west-1.amazonaws.com\","
        "\"credentialProvider\":\"abc.credentials.iot.eu-west-1.amazonaws.com\"},"
        "\"roleAlias\":{\"name\":\"GreengrassCoreTokenExchangeRoleAlias\"},"
        "\"template\":{\"name\":\"f1-template\"}}}",
        0, 0);
}

static const char s_expected[] =
    "---\n"
    "services:\n"
    "  aws.greengrass.Nucleus:\n"
    "    version: \"" GREENGRASS_NUCLEUS_DEFAULT "\"\n"
    "  aws.greengrass.FleetProvisioningByClaim:\n"
    "    configuration:\n"
    "      rootPath: \"/greengrass/v2\"\n"
    "      awsRegion: \"eu-west-1\"\n"
    "      iotDataEndpoint: \"abc-ats.iot.eu-west-1.amazonaws.com\"\n"
    "      iotCredentialEndpoint: \"abc.credentials.iot.eu-west-1.amazonaws.com\"\n"
    "      iotRoleAlias: \"GreengrassCoreTokenExchangeRoleAlias\"\n"
    "      provisioningTemplate: \"f1-template\"\n"
    "      claimCertificatePath: \"/greengrass/v2/claim-certs/claim.pem.crt\"\n"
    "      claimCertificatePrivateKeyPath: \"/greengrass/v2/claim-certs/claim.private.pem.key\"\n"
    "      rootCaPath: \"/greengrass/v2/AmazonRootCA1.pem\"\n"
    "      templateParameters:\n"
    "        # <THING_NAME>: replace it on each device: the device's thing name, 1-128 characters "
    "of "
    "[a-zA-Z0-9:_-] (RegisterThing refuses the placeholder); or set the fleet's "
    "template.thingName.from to "
    "certificateId\n"
    "        ThingName: \"<THING_NAME>\"\n"
    "        ThingGroupName: \"group-a\"\n";

static void test_defaults(void **state)
{
    (void)state;
    json_t *f = fleet();
    char *y = greengrass_config_yaml(f, 0);
    assert_string_equal(y, s_expected);
    free(y);
    /* AWS's own ports leave the config as AWS's guide writes it: no port anywhere. */
    struct greengrass_paths aws = {.mqtt_port = 8883, .credentials_port = 443};
    y = greengrass_config_yaml(f, &aws);
    assert_string_equal(y, s_expected);
    free(y);
    json_decref(f);
}

static void test_paths_and_overrides(void **state)
{
    (void)state;
    json_t *f = fleet();
    struct greengrass_paths p = {.root_path = "/opt/gg",
                                 .claim_cert_path = "/keys/c.pem",
                                 .thing_name = "core-7",
                                 .thing_group_name = "g2",
                                 .nucleus_version = "2.13.0"};
    char *y = greengrass_config_yaml(f, &p);
    assert_non_null(strstr(y, "      rootPath: \"/opt/gg\"\n"));
    assert_non_null(strstr(y, "      claimCertificatePath: \"/keys/c.pem\"\n"));
    assert_non_null(strstr(
        y,
        "      claimCertificatePrivateKeyPath: \"/opt/gg/claim-certs/claim.private.pem.key\"\n"));
    assert_non_null(strstr(y, "      rootCaPath: \"/opt/gg/AmazonRootCA1.pem\"\n"));
    assert_non_null(strstr(y, "        ThingName: \"core-7\"\n        ThingGroupName: \"g2\"\n"));
    assert_non_null(strstr(y, "    version: \"2.13.0\"\n"));
    free(y);
    json_decref(f);
}

static void test_escaping(void **state)
{
    (void)state;
    json_t *f = fleet();
    struct greengrass_paths p = {.thing_name = "a\"b\\c\nd"};
    char *y = greengrass_config_yaml(f, &p);
    assert_non_null(strstr(y, "ThingName: \"a\\\"b\\\\c\\x0ad\"\n"));
    free(y);
    json_decref(f);
}

/* Other ports go where Greengrass reads them: the plugin's mqttPort, the
 * nucleus's mqtt.port, and iotCredentialEndpoint as host:port. */
static void test_other_ports(void **state)
{
    (void)state;
    json_t *f = fleet();
    struct greengrass_paths p = {.mqtt_port = 4101, .credentials_port = 4102};
    char *y = greengrass_config_yaml(f, &p);
    assert_non_null(
        strstr(y, "  aws.greengrass.Nucleus:\n    version: \"" GREENGRASS_NUCLEUS_DEFAULT "\"\n"
                  "    configuration:\n      mqtt:\n        port: 4101\n"
                  "  aws.greengrass.FleetProvisioningByClaim:\n"));
    assert_non_null(strstr(
        y, "      iotDataEndpoint: \"abc-ats.iot.eu-west-1.amazonaws.com\"\n"
           "      mqttPort: 4101\n"
           "      iotCredentialEndpoint: \"abc.credentials.iot.eu-west-1.amazonaws.com:4102\"\n"));
    free(y);
    p = (struct greengrass_paths){.credentials_port = 4102};
    y = greengrass_config_yaml(f, &p);
    assert_null(strstr(y, "mqttPort"));
    assert_null(strstr(y, "    configuration:\n      mqtt:"));
    assert_non_null(strstr(y, "amazonaws.com:4102\"\n"));
    free(y);
    json_decref(f);
}

static void test_not_ready(void **state)
{
    (void)state;
    json_t *f = fleet();
    json_object_del(json_object_get(f, "resources"), "endpoints");
    assert_null(greengrass_config_yaml(f, 0));
    json_decref(f);
    f = json_object();
    assert_null(greengrass_config_yaml(f, 0));
    json_decref(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),  cmocka_unit_test(test_paths_and_overrides),
        cmocka_unit_test(test_escaping),  cmocka_unit_test(test_other_ports),
        cmocka_unit_test(test_not_ready),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
