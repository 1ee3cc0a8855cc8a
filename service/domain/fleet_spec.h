/*
 * fleet_spec.h - POST /v1/fleets and PATCH bodies checked and turned into a
 * fleet's normalised spec, every default and derived name filled. Pure
 * (no Redis, no AWS): the route calls it before anything is queued, the
 * handlers read the spec from the fleet record.
 *
 * The spec (all members present):
 *   {"name", "region", "thingGroups": [..], "createThingGroups": bool,
 *    "artifactBuckets": [..],
 *    "tokenExchangeRole": {"name", "policyName", "permissionsBoundary" (policy name or ARN, or
 * null)}, "roleAlias": {"name", "credentialDurationSeconds"}, "thingPolicy": {"mode":
 * "shared"|"perDevice", "name" (null in perDevice)}, "provisioningRole": {"name",
 * "permissionsBoundary"}, "template": {"name", "description", "body" (object or null),
 *                 "preProvisioningHook" (ARN or null), "enabled"},
 *    "claimPolicy": {"name", "allowCsr"},
 *    "assumeRole": {"roleArn", "externalId"} or null, "adopt": bool,
 *    "iamRoles": "managed" | "precreated"}
 * and settings {"rotation": {..}, "watch": {..}} apart: rotation is stored
 * as given (an object; the claims module reads its fields), watch is
 * checked by watch_settings_validate (watch_rules.h).
 */
#ifndef FW_JOBS_HANDLERS_FLEET_SPEC_H
#define FW_JOBS_HANDLERS_FLEET_SPEC_H

#include <jansson.h>

#define FLEET_DEFAULT_ROLE "GreengrassV2TokenExchangeRole"
#define FLEET_DEFAULT_ROLE_POLICY "GreengrassV2TokenExchangeRoleAccess"
#define FLEET_DEFAULT_ROLE_ALIAS "GreengrassCoreTokenExchangeRoleAlias"
#define FLEET_DEFAULT_THING_POLICY "GreengrassV2IoTThingPolicy"
#define FLEET_DEFAULT_PROVISIONING_ROLE "GreengrassFleetProvisioningRole"
#define FLEET_DEFAULT_DURATION_S 3600
/* The permissions boundaries the service's IAM policy makes every role it
 * creates carry (deploy/iam/fleetwarden-policy.json). */
#define FLEET_DEFAULT_TES_BOUNDARY "FleetwardenTokenExchangeBoundary"
#define FLEET_DEFAULT_PROV_BOUNDARY "FleetwardenProvisioningBoundary"

/* Defaults for what a request leaves out (from the settings). */
struct fleet_spec_defaults {
    const char *region;       /* NULL = "us-east-1" */
    int precreated;           /* 1: iamRoles "precreated" */
    const char *tes_boundary; /* policy name or ARN; NULL or "" = none */
    const char *prov_boundary;
};

/*
 * Checks req (a JSON object, borrowed) and builds *spec and *settings (new
 * references) on success. default_region: NULL = "us-east-1". Every
 * problem is appended to errors (a JSON array, borrowed) as {"field"
 * (a JSON path such as "template.name"), "message"}. Returns 0 when
 * errors stayed empty, FW_EINVAL otherwise (*spec, *settings NULL).
 */
int fleet_spec_parse(const json_t *req, const char *default_region, json_t **spec,
                     json_t **settings, json_t *errors);
/* The same with every default given (fleet_spec_parse uses the built-in
 * ones: managed roles, the FLEET_DEFAULT_*_BOUNDARY boundaries). */
int fleet_spec_parse_ex(const json_t *req, const struct fleet_spec_defaults *d, json_t **spec,
                        json_t **settings, json_t *errors);

/* Checks a PATCH body ({"rotation", "watch", "verify"}, objects; nothing
 * else; "verify" is checked by the route with verify_spec_settings) and
 * merges it into a copy of settings (new reference in *out). A webhook
 * "secret": "***" (what GET shows) keeps the secret stored in settings, in
 * its stored form; the caller seals what is plaintext (watch_secret.h).
 * 0 or FW_EINVAL with errors appended. */
int fleet_spec_patch_settings(const json_t *req, const json_t *settings, json_t **out,
                              json_t *errors);

#endif
