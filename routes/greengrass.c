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
 */
#include "greengrass.h"

#include <stdio.h>
#include <string.h>

#include "service/core/buf.h"

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

static void path_or(char *out, size_t n, const char *given, const char *root, const char *suffix)
{
    if (given)
        snprintf(out, n, "%s", given);
    else
        snprintf(out, n, "%s%s", root, suffix);
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
    kv(b, in, "iotDataEndpoint", str_at(fleet, "resources", "endpoints", "dataAts"));
    kv(b, in, "iotCredentialEndpoint", str_at(fleet, "resources", "endpoints", "credentialProvider"));
    kv(b, in, "iotRoleAlias", str_at(fleet, "resources", "roleAlias", "name"));
    kv(b, in, "provisioningTemplate", str_at(fleet, "resources", "template", "name"));
    kv(b, in, "claimCertificatePath", cert);
    kv(b, in, "claimCertificatePrivateKeyPath", key);
    kv(b, in, "rootCaPath", ca);
    buf_printf(b, "%stemplateParameters:\n", in);
    kv(b, "        ", "ThingName", p->thing_name ? p->thing_name : "<THING_NAME>");
    const char *group = p->thing_group_name ? p->thing_group_name : first_group(fleet);
    kv(b, "        ", "ThingGroupName", group);
}

char *greengrass_config_yaml(const json_t *fleet, const struct greengrass_paths *paths)
{
    static const struct greengrass_paths defaults = {0};
    const struct greengrass_paths *p = paths ? paths : &defaults;
    if (!str_at(fleet, "resources", "endpoints", "dataAts") || !str_at(fleet, "resources", "template", "name"))
        return 0;
    struct buf b;
    buf_init(&b, GG_YAML_MAX);
    buf_puts(&b, "---\nservices:\n  aws.greengrass.Nucleus:\n");
    kv(&b, "    ", "version", p->nucleus_version ? p->nucleus_version : GREENGRASS_NUCLEUS_VERSION);
    plugin(&b, fleet, p);
    return buf_steal(&b);
}
