/*
 * fleet_spec.h - POST /v1/fleets and PATCH bodies checked and turned into a
 * fleet's normalised spec, every default and derived name filled. Pure
 * (no Redis, no AWS): the route calls it before anything is queued, the
 * handlers read the spec from the fleet record.
 *
 * The spec (all members present):
 *   {"name", "region", "thingGroups": [..], "createThingGroups": bool,
 *    "artifactBuckets": [..],
 *    "tokenExchangeRole": {"name", "policyName"},
 *    "roleAlias": {"name", "credentialDurationSeconds"},
 *    "thingPolicy": {"mode": "shared"|"perDevice", "name" (null in perDevice)},
 *    "provisioningRole": {"name"},
 *    "template": {"name", "description", "body" (object or null),
 *                 "preProvisioningHook" (ARN or null), "enabled"},
 *    "claimPolicy": {"name", "allowCsr"},
 *    "assumeRole": {"roleArn", "externalId"} or null, "adopt": bool}
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

/*
 * Checks req (a JSON object, borrowed) and builds *spec and *settings (new
 * references) on success. default_region: NULL = "us-east-1". Every
 * problem is appended to errors (a JSON array, borrowed) as {"field"
 * (a JSON path such as "template.name"), "message"}. Returns 0 when
 * errors stayed empty, FW_EINVAL otherwise (*spec, *settings NULL).
 */
int fleet_spec_parse(const json_t *req, const char *default_region, json_t **spec, json_t **settings, json_t *errors);

/* Checks a PATCH body ({"rotation", "watch"}, objects; nothing else) and
 * merges it into a copy of settings (new reference in *out). A webhook
 * "secret": "***" (what GET shows) keeps the secret stored in settings, in
 * its stored form; the caller seals what is plaintext (watch_secret.h).
 * 0 or FW_EINVAL with errors appended. */
int fleet_spec_patch_settings(const json_t *req, const json_t *settings, json_t **out, json_t *errors);

#endif
