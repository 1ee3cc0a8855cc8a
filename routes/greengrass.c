/*
 * greengrass.c - renders the Greengrass nucleus config.yaml for fleet
 * provisioning by claim.
 *
 * The layout is the one in AWS's "Install AWS IoT Greengrass Core software
 * with AWS IoT fleet provisioning" guide: the nucleus with its version and
 * the FleetProvisioningByClaim plugin with rootPath, awsRegion,
 * iotDataEndpoint, iotCredentialEndpoint, iotRoleAlias, provisioningTemplate,
 * claimCertificatePath, claimCertificatePrivateKeyPath, rootCaPath and
 * templateParameters (ThingName, ThingGroupName). Every scalar is written as
 * a double-quoted YAML string with \" \\ and control characters escaped, so
 * no value (they come from the fleet record, which came from validated input
 * and AWS answers) can break the document's structure.
 *
 * The thing name: RegisterThing refuses "<THING_NAME>" (a thing name is
 * [a-zA-Z0-9:_-]+), so where the config carries it a comment says it must
 * be replaced on each device; a fleet whose template derives the name on
 * AWS's side (spec.template.thingName.from certificateId) needs no
 * ThingName parameter and one config serves a whole production line.
 * Devices join one thing group: the template's single ThingGroupName.
 *
 * Ports: AWS's are 8883 (MQTT) and 443 (credentials) and the config then
 * names none, as AWS's guide does. Another port (the emulator's, in local
 * runs and tests) goes where Greengrass reads it: the plugin's mqttPort
 * (FleetProvisioningByClaimPlugin reads it as an integer, default 8883) and
 * the nucleus's mqtt.port (its MQTT client after provisioning, default
 * 8883); the credentials port as iotCredentialEndpoint "host:port", since
 * the nucleus requests URI "https://" + iotCredEndpoint (IotConnectionManager
 * getURI) and has no port setting of its own.
 */
#include "greengrass.h"

#include <stdio.h>
#include <string.h>

#include "service/core/buf.h"
#include "service/domain/fleet_names.h"

#define GG_YAML_MAX 16384

static const char *str_at(const json_t *o, const char *a, const char *b, const char *c)
{
    const json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    const char *s = json_string_value(v);
    return (s && *s) ? s : 0;
}

static void quoted(struct buf *b, const char *s)
{
    buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            buf_printf(b, "\\x%02x", *p);
        else
            buf_append(b, p, 1);
    }
    buf_puts(b, "\"");
}

static void kv(struct buf *b, const char *indent, const char *key, const char *value)
{
    if (!value)
        return;
    buf_printf(b, "%s%s: ", indent, key);
    quoted(b, value);
    buf_puts(b, "\n");
}

static const char *first_group(const json_t *fleet)
{
    const json_t *groups = json_object_get(json_object_get(fleet, "spec"), "thingGroups");
    const char *s = json_string_value(json_array_get(groups, 0));
    return (s && *s) ? s : 0;
}

/* spec.template.thingName.from: parameter (or absent), serialNumber, certificateId. */
static const char *thing_name_from(const json_t *fleet)
{
    const json_t *t = json_object_get(json_object_get(fleet, "spec"), "template");
    return json_string_value(json_object_get(json_object_get(t, "thingName"), "from"));
}

static void path_or(char *out, size_t n, const char *given, const char *root, const char *suffix)
{
    if (given)
        snprintf(out, n, "%s", given);
    else
        snprintf(out, n, "%s%s", root, suffix);
}

static int port_or_aws(int port, int aws)
{
    return port > 0 && port <= 65535 ? port : aws;
}

/* iotDataEndpoint, mqttPort (when not AWS's) and iotCredentialEndpoint (host:port when not 443). */
static void endpoints(struct buf *b, const json_t *fleet, const struct greengrass_paths *p)
{
    const char *in = "      ";
    kv(b, in, "iotDataEndpoint", str_at(fleet, "resources", "endpoints", "dataAts"));
    int mqtt = port_or_aws(p->mqtt_port, GREENGRASS_MQTT_PORT_AWS);
    if (mqtt != GREENGRASS_MQTT_PORT_AWS)
        buf_printf(b, "%smqttPort: %d\n", in, mqtt);
    const char *cred = str_at(fleet, "resources", "endpoints", "credentialProvider");
    int cport = port_or_aws(p->credentials_port, GREENGRASS_CREDENTIALS_PORT_AWS);
    if (!cred || cport == GREENGRASS_CREDENTIALS_PORT_AWS) {
        kv(b, in, "iotCredentialEndpoint", cred);
        return;
    }
    struct buf hostport;
    buf_init(&hostport, GG_YAML_MAX);
    buf_printf(&hostport, "%s:%d", cred, cport);
    kv(b, in, "iotCredentialEndpoint", buf_cstr(&hostport));
    buf_free(&hostport);
}

static void plugin(struct buf *b, const json_t *fleet, const struct greengrass_paths *p)
{
    const char *root = p->root_path ? p->root_path : "/greengrass/v2";
    char cert[1024], key[1024], ca[1024];
    path_or(cert, sizeof cert, p->claim_cert_path, root, "/claim-certs/claim.pem.crt");
    path_or(key, sizeof key, p->claim_key_path, root, "/claim-certs/claim.private.pem.key");
    path_or(ca, sizeof ca, p->root_ca_path, root, "/AmazonRootCA1.pem");
    const char *in = "      ";
    buf_puts(b, "  aws.greengrass.FleetProvisioningByClaim:\n    configuration:\n");
    kv(b, in, "rootPath", root);
    kv(b, in, "awsRegion", str_at(fleet, "region", 0, 0));
    endpoints(b, fleet, p);
    kv(b, in, "iotRoleAlias", str_at(fleet, "resources", "roleAlias", "name"));
    kv(b, in, "provisioningTemplate", str_at(fleet, "resources", "template", "name"));
    kv(b, in, "claimCertificatePath", cert);
    kv(b, in, "claimCertificatePrivateKeyPath", key);
    kv(b, in, "rootCaPath", ca);
    buf_printf(b, "%stemplateParameters:\n", in);
    json_t *todo = greengrass_per_device(fleet, p);
    const char *from = thing_name_from(fleet);
    size_t i;
    json_t *t;
    json_array_foreach(todo, i, t)
    {
        buf_printf(b, "        # %s: replace it on each device: %s\n",
                   json_string_value(json_object_get(t, "placeholder")),
                   json_string_value(json_object_get(t, "rule")));
    }
    json_decref(todo);
    if (from && !strcmp(from, "serialNumber"))
        kv(b, "        ", "SerialNumber", "<SERIAL_NUMBER>");
    else if (!from || !strcmp(from, "parameter"))
        kv(b, "        ", "ThingName", p->thing_name ? p->thing_name : "<THING_NAME>");
    const char *group = p->thing_group_name ? p->thing_group_name : first_group(fleet);
    kv(b, "        ", "ThingGroupName", group);
}

json_t *greengrass_per_device(const json_t *fleet, const struct greengrass_paths *paths)
{
    const char *from = thing_name_from(fleet);
    json_t *out = json_array();
    if (from && !strcmp(from, "serialNumber"))
        json_array_append_new(
            out, json_pack("{s:s, s:s, s:s}", "parameter", "SerialNumber", "placeholder",
                           "<SERIAL_NUMBER>", "rule",
                           "the device's serial number; its thing name is the fleet's prefix and "
                           "this, 1-128 characters of [a-zA-Z0-9:_-]"));
    else if ((!from || !strcmp(from, "parameter")) && !(paths && paths->thing_name))
        json_array_append_new(
            out, json_pack("{s:s, s:s, s:s}", "parameter", "ThingName", "placeholder",
                           "<THING_NAME>", "rule",
                           "the device's thing name, 1-128 characters of [a-zA-Z0-9:_-] "
                           "(RegisterThing refuses the placeholder); or set the fleet's "
                           "template.thingName.from to certificateId"));
    return out;
}

char *greengrass_config_yaml(const json_t *fleet, const struct greengrass_paths *paths)
{
    static const struct greengrass_paths defaults = {0};
    const struct greengrass_paths *p = paths ? paths : &defaults;
    if (!str_at(fleet, "resources", "endpoints", "dataAts") ||
        !str_at(fleet, "resources", "template", "name"))
        return 0;
    struct buf b;
    buf_init(&b, GG_YAML_MAX);
    buf_puts(&b, "---\nservices:\n  aws.greengrass.Nucleus:\n");
    const char *version = p->nucleus_version
                              ? p->nucleus_version
                              : str_at(fleet, "settings", "greengrass", "nucleusVersion");
    kv(&b, "    ", "version", version ? version : GREENGRASS_NUCLEUS_DEFAULT);
    int mqtt = port_or_aws(p->mqtt_port, GREENGRASS_MQTT_PORT_AWS);
    if (mqtt != GREENGRASS_MQTT_PORT_AWS)
        buf_printf(&b, "    configuration:\n      mqtt:\n        port: %d\n", mqtt);
    plugin(&b, fleet, p);
    return buf_steal(&b);
}
