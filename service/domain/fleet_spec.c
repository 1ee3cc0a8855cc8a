/*
 * fleet_spec.c - validates a fleet request against AWS's own name rules
 * and lengths and fills the defaults of the Greengrass guide.
 *
 * Every field is checked and every problem reported (not just the first),
 * each under its JSON path, so a portal can mark all bad fields at once.
 * Derived names (template "<fleet>-template", claim policy
 * "<fleet>-claim-policy") are checked like given ones: a 30-character fleet
 * name gives a 39-character template name, which AWS refuses, so the
 * request is refused with a message saying to name the template.
 */
#include "service/domain/fleet_spec.h"

#include <stdio.h>
#include <string.h>

#include "service/domain/fleet_names.h"
#include "service/core/err.h"
#include "service/core/json_keys.h"
#include "service/domain/template_check.h"
#include "service/domain/watch_rules.h"

struct spec_ctx {
    const json_t *req;
    json_t *errors;
    const struct fleet_spec_defaults *d;
    int precreated; /* iamRoles "precreated": the roles exist; no boundary */
};

typedef int(name_check_fn)(const char *s);

static void fail(struct spec_ctx *c, const char *field, const char *msg)
{
    json_array_append_new(c->errors, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

/* The member req[key] when it is an object, else NULL (absent, or
 * reported when it has the wrong type). */
static const json_t *sub(struct spec_ctx *c, const char *key, const char *const *allowed)
{
    const json_t *v = json_object_get(c->req, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v)) {
        fail(c, key, "must be an object");
        return 0;
    }
    json_unknown_fields(v, allowed, key, c->errors);
    return v;
}

/* obj[key] as a string checked by fn, or dflt; NULL after reporting. */
static const char *name_of(struct spec_ctx *c, const json_t *obj, const char *key,
                           const char *field, const char *dflt, name_check_fn *fn, const char *rule)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = v && !json_is_null(v) ? json_string_value(v) : dflt;
    char msg[300];
    if (v && !json_is_null(v) && !json_is_string(v)) {
        fail(c, field, "must be a string");
        return 0;
    }
    if (!fn(s) && v)
        snprintf(msg, sizeof msg, "must be %s", rule);
    else if (!fn(s))
        snprintf(msg, sizeof msg,
                 "the derived name \"%.60s\" is invalid (must be %s); give one explicitly",
                 s ? s : "", rule);
    if (!fn(s)) {
        fail(c, field, msg);
        return 0;
    }
    return s;
}

static int bool_of(struct spec_ctx *c, const json_t *obj, const char *key, const char *field,
                   int dflt)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return dflt;
    if (!json_is_boolean(v)) {
        fail(c, field, "must be true or false");
        return dflt;
    }
    return json_is_true(v);
}

/* A list of names checked by fn (absent: dflt_name alone, or empty). */
static json_t *list_of(struct spec_ctx *c, const char *key, name_check_fn *fn, const char *rule,
                       const char *dflt_name, size_t max)
{
    const json_t *v = json_object_get(c->req, key);
    json_t *out = json_array();
    if (!v || json_is_null(v)) {
        if (dflt_name)
            json_array_append_new(out, json_string(dflt_name));
        return out;
    }
    if (!json_is_array(v) || json_array_size(v) > max) {
        char m[100];
        snprintf(m, sizeof m, "must be an array of at most %zu names", max);
        fail(c, key, m);
        return out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        char f[100], m[200];
        snprintf(f, sizeof f, "%s[%zu]", key, i);
        snprintf(m, sizeof m, "must be %s", rule);
        if (!fn(json_string_value(e)))
            fail(c, f, m);
        else
            json_array_append_new(out, json_incref(e));
    }
    return out;
}

static int boundary_ok(const char *s)
{
    return fleet_names_iam_policy(s) || fleet_names_iam_policy_arn(s);
}

/* o.permissionsBoundary: a policy name or ARN, null = none; absent = dflt
 * ("" = none). Always null for pre-created roles (nothing is created). */
static json_t *boundary_of(struct spec_ctx *c, const json_t *o, const char *field, const char *dflt)
{
    const json_t *v = json_object_get(o, "permissionsBoundary");
    if (c->precreated) {
        if (v && !json_is_null(v))
            fail(c, field,
                 "pre-created roles (iamRoles: precreated) are not created here: no boundary "
                 "applies");
        return json_null();
    }
    if (json_is_null(v) || (!v && (!dflt || !*dflt)))
        return json_null();
    const char *b = v ? json_string_value(v) : dflt;
    if (!boundary_ok(b)) {
        fail(c, field,
             "must be an IAM policy name or ARN (the permissions boundary the role gets), or null");
        return json_null();
    }
    return json_string(b);
}

static json_t *role_part(struct spec_ctx *c)
{
    static const char *const allowed[] = {"name", "policyName", "permissionsBoundary", 0};
    const json_t *o = sub(c, "tokenExchangeRole", allowed);
    const char *n = name_of(c, o, "name", "tokenExchangeRole.name", FLEET_DEFAULT_ROLE,
                            fleet_names_iam_role, "1-64 characters of letters, digits and +=,.@_-");
    const char *p =
        name_of(c, o, "policyName", "tokenExchangeRole.policyName", FLEET_DEFAULT_ROLE_POLICY,
                fleet_names_iam_policy, "1-128 characters of letters, digits and +=,.@_-");
    return json_pack(
        "{s:s?, s:s?, s:o}", "name", n, "policyName", p, "permissionsBoundary",
        boundary_of(c, o, "tokenExchangeRole.permissionsBoundary", c->d->tes_boundary));
}

static json_t *alias_part(struct spec_ctx *c)
{
    static const char *const allowed[] = {"name", "credentialDurationSeconds", 0};
    const json_t *o = sub(c, "roleAlias", allowed);
    const char *n =
        name_of(c, o, "name", "roleAlias.name", FLEET_DEFAULT_ROLE_ALIAS, fleet_names_role_alias,
                "1-128 characters of letters, digits and =,@_-");
    const json_t *d = json_object_get(o, "credentialDurationSeconds");
    json_int_t dur = FLEET_DEFAULT_DURATION_S;
    if (d && !json_is_null(d)) {
        if (!json_is_integer(d) || json_integer_value(d) < 900 || json_integer_value(d) > 43200)
            fail(c, "roleAlias.credentialDurationSeconds",
                 "must be an integer from 900 to 43200 (seconds)");
        else
            dur = json_integer_value(d);
    }
    return json_pack("{s:s?, s:I}", "name", n, "credentialDurationSeconds", dur);
}

static json_t *thing_policy_part(struct spec_ctx *c)
{
    static const char *const allowed[] = {"mode", "name", 0};
    const json_t *o = sub(c, "thingPolicy", allowed);
    const json_t *m = json_object_get(o, "mode");
    const char *mode = m && !json_is_null(m) ? json_string_value(m) : "shared";
    if (!mode || (strcmp(mode, "shared") && strcmp(mode, "perDevice"))) {
        fail(c, "thingPolicy.mode", "must be \"shared\" or \"perDevice\"");
        mode = "shared";
    }
    if (!strcmp(mode, "perDevice")) {
        if (json_object_get(o, "name"))
            fail(c, "thingPolicy.name",
                 "a perDevice policy lives inside the template and has no name");
        return json_pack("{s:s, s:n}", "mode", mode, "name");
    }
    const char *n =
        name_of(c, o, "name", "thingPolicy.name", FLEET_DEFAULT_THING_POLICY,
                fleet_names_iot_policy, "1-128 characters of letters, digits and +=,.@_-");
    return json_pack("{s:s, s:s?}", "mode", mode, "name", n);
}

static json_t *prov_role_part(struct spec_ctx *c)
{
    static const char *const allowed[] = {"name", "permissionsBoundary", 0};
    const json_t *o = sub(c, "provisioningRole", allowed);
    const char *n = name_of(c, o, "name", "provisioningRole.name", FLEET_DEFAULT_PROVISIONING_ROLE,
                            fleet_names_iam_role, "1-64 characters of letters, digits and +=,.@_-");
    return json_pack(
        "{s:s?, s:o}", "name", n, "permissionsBoundary",
        boundary_of(c, o, "provisioningRole.permissionsBoundary", c->d->prov_boundary));
}

/* iamRoles: "managed" (the service creates and updates the roles) or
 * "precreated" (an administrator made them; the service only reads them). */
static const char *iam_roles_of(struct spec_ctx *c)
{
    const json_t *v = json_object_get(c->req, "iamRoles");
    const char *m = v && !json_is_null(v) ? json_string_value(v)
                                          : (c->d->precreated ? "precreated" : "managed");
    if (!m || (strcmp(m, "managed") && strcmp(m, "precreated"))) {
        fail(c, "iamRoles", "must be \"managed\" or \"precreated\"");
        m = "managed";
    }
    c->precreated = !strcmp(m, "precreated");
    return m;
}

static const char *description_of(struct spec_ctx *c, const json_t *o)
{
    const json_t *d = json_object_get(o, "description");
    if (!d || json_is_null(d))
        return 0;
    char why[200];
    if (!json_is_string(d)) {
        fail(c, "template.description", "must be a string of at most 500 characters");
        return 0;
    }
    if (template_description_check(json_string_value(d), json_string_length(d), why, sizeof why)) {
        fail(c, "template.description", why);
        return 0;
    }
    return json_string_value(d);
}

static const char *hook_of(struct spec_ctx *c, const json_t *o)
{
    const json_t *h = json_object_get(o, "preProvisioningHook");
    if (!h || json_is_null(h))
        return 0;
    if (!fleet_names_lambda_arn(json_string_value(h))) {
        fail(c, "template.preProvisioningHook",
             "must be a Lambda function ARN "
             "(arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])");
        return 0;
    }
    return json_string_value(h);
}

/* AWS IoT invokes a pre-provisioning hook only in the template's account
 * and region; elsewhere every RegisterThing fails with ACCESS_DENIED while
 * the fleet looks ready. The region is known here, the account when the
 * fleet assumes a role (its ARN names it); otherwise fleet.setup checks it
 * against GetCallerIdentity before making the template. */
static void hook_place(struct spec_ctx *c, const json_t *spec)
{
    const char *hook = json_string_value(
        json_object_get(json_object_get(spec, "template"), "preProvisioningHook"));
    const char *region = json_string_value(json_object_get(spec, "region"));
    char acct[13] = "", m[300];
    fleet_names_arn_account(
        json_string_value(json_object_get(json_object_get(spec, "assumeRole"), "roleArn")), acct);
    if (!hook || !region || fleet_names_lambda_in(hook, region, acct))
        return;
    snprintf(m, sizeof m,
             "must be a Lambda function in the fleet's region (%s)%s%s: AWS IoT invokes hooks only "
             "in the template's "
             "own account and region",
             region, acct[0] ? " and account " : "", acct);
    fail(c, "template.preProvisioningHook", m);
}

/* A body override: an object (or JSON text) that passes template_check. */
static json_t *body_of(struct spec_ctx *c, const json_t *o)
{
    const json_t *b = json_object_get(o, "body");
    if (!b || json_is_null(b))
        return json_null();
    json_t *body =
        json_is_string(b) ? json_loads(json_string_value(b), 0, 0) : json_incref((json_t *)b);
    json_t *res = body ? template_check_json(body)
                       : template_check(json_string_value(b), json_string_length(b));
    if (!json_is_object(b) && !json_is_string(b))
        fail(c, "template.body", "must be an object (the template body) or its JSON text");
    template_check_fields(res, "template.body", c->errors);
    json_decref(res);
    return body ? body : json_null();
}

/* template.thingName {"from", "prefix"}: where a device's thing name comes
 * from. A thing name is 1-128 of [a-zA-Z0-9:_-]; a certificate id is 64
 * hex digits, so a prefix is at most 64 of the same characters. */
static json_t *thing_name_of(struct spec_ctx *c, const json_t *t)
{
    static const char *const allowed[] = {"from", "prefix", 0};
    const json_t *o = json_object_get(t, "thingName");
    if (!o || json_is_null(o))
        return json_pack("{s:s}", "from", "parameter");
    if (!json_is_object(o)) {
        fail(c, "template.thingName", "must be an object {\"from\", \"prefix\"}");
        return json_null();
    }
    json_unknown_fields(o, allowed, "template.thingName", c->errors);
    const json_t *f = json_object_get(o, "from");
    const char *from = f ? json_string_value(f) : "parameter";
    if (!from || (strcmp(from, "parameter") && strcmp(from, "serialNumber") &&
                  strcmp(from, "certificateId"))) {
        fail(c, "template.thingName.from", "must be parameter, serialNumber or certificateId");
        from = "parameter";
    }
    const json_t *p = json_object_get(o, "prefix");
    const char *prefix = json_string_value(p);
    if (p && !strcmp(from, "parameter"))
        fail(c, "template.thingName.prefix", "applies to from serialNumber or certificateId");
    else if (p && (!prefix || (*prefix && !fleet_names_charset(prefix, 64, THING_NAME_CHARS))))
        fail(c, "template.thingName.prefix",
             "must be at most 64 characters of letters, digits and :_-");
    return json_pack("{s:s, s:s?}", "from", from, "prefix", p && prefix ? prefix : 0);
}

static json_t *template_part(struct spec_ctx *c, const char *fleet)
{
    static const char *const allowed[] = {"name",    "description", "body", "preProvisioningHook",
                                          "enabled", "thingName",   0};
    const json_t *o = sub(c, "template", allowed);
    char dflt[128];
    snprintf(dflt, sizeof dflt, "%s-template", fleet ? fleet : "");
    const char *n = name_of(c, o, "name", "template.name", dflt, fleet_names_template,
                            "1-36 characters of letters, digits, '_' and '-'");
    int enabled = bool_of(c, o, "enabled", "template.enabled", 1);
    return json_pack("{s:s?, s:s?, s:o, s:s?, s:b, s:o}", "name", n, "description",
                     description_of(c, o), "body", body_of(c, o), "preProvisioningHook",
                     hook_of(c, o), "enabled", enabled, "thingName", thing_name_of(c, o));
}

static json_t *claim_part(struct spec_ctx *c, const char *fleet)
{
    static const char *const allowed[] = {"name", 0};
    const json_t *o = sub(c, "claimPolicy", allowed);
    char dflt[128];
    snprintf(dflt, sizeof dflt, "%s-claim-policy", fleet ? fleet : "");
    const char *n = name_of(c, o, "name", "claimPolicy.name", dflt, fleet_names_iot_policy,
                            "1-128 characters of letters, digits and +=,.@_-");
    int csr = bool_of(c, c->req, "claimPolicyAllowCsr", "claimPolicyAllowCsr", 0);
    return json_pack("{s:s?, s:b}", "name", n, "allowCsr", csr);
}

static json_t *assume_part(struct spec_ctx *c)
{
    static const char *const allowed[] = {"roleArn", "externalId", 0};
    const json_t *v = json_object_get(c->req, "assumeRole");
    if (!v || json_is_null(v))
        return json_null();
    const json_t *o = sub(c, "assumeRole", allowed);
    const char *arn = json_string_value(json_object_get(o, "roleArn"));
    const json_t *ext = json_object_get(o, "externalId");
    if (!fleet_names_role_arn(arn))
        fail(c, "assumeRole.roleArn", "required: an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
    if (ext && !json_is_null(ext) && !fleet_names_external_id(json_string_value(ext)))
        fail(c, "assumeRole.externalId",
             "must be 2-1224 characters of letters, digits and +=,.@:/_-");
    return json_pack("{s:s?, s:s?}", "roleArn", arn, "externalId", json_string_value(ext));
}

static json_t *setting(struct spec_ctx *c, const json_t *req, const char *key)
{
    const json_t *v = json_object_get(req, key);
    if (!v || json_is_null(v))
        return json_object();
    if (!json_is_object(v)) {
        fail(c, key, "must be an object");
        return json_object();
    }
    return json_deep_copy(v);
}

static const char *region_of(struct spec_ctx *c, const char *dflt)
{
    const json_t *v = json_object_get(c->req, "region");
    const char *r = v && !json_is_null(v) ? json_string_value(v) : dflt;
    if (!fleet_names_region(r)) {
        fail(c, "region", "must be an AWS region such as us-east-1");
        return "us-east-1";
    }
    return r;
}

/* settings.greengrass {"nucleusVersion"}: what the device config names. */
static void greengrass_settings(struct spec_ctx *c, const json_t *g)
{
    static const char *const allowed[] = {"nucleusVersion", 0};
    if (!json_is_object(g))
        return;
    json_unknown_fields(g, allowed, "greengrass", c->errors);
    const json_t *v = json_object_get(g, "nucleusVersion");
    if (v && !fleet_names_version(json_string_value(v)))
        fail(c, "greengrass.nucleusVersion",
             "must be a version such as " GREENGRASS_NUCLEUS_DEFAULT);
}

/* settings.rotation {periodDays, graceSeconds, retentionSeconds} (docs/CLAIMS.md): each may be
 * left out or null (automatic rotation off; the defaults 3600 s and 7 days). A value of another
 * kind was stored and then read as "none": rotation silently never happened. */
static void rotation_settings(struct spec_ctx *c, const json_t *r)
{
    static const char *const allowed[] = {"periodDays", "graceSeconds", "retentionSeconds", 0};
    if (!json_is_object(r))
        return;
    json_unknown_fields(r, allowed, "rotation", c->errors);
    const json_t *v = json_object_get(r, "periodDays");
    if (v && !json_is_null(v) &&
        (!json_is_number(v) || !(json_number_value(v) > 0) || json_number_value(v) > 3650))
        fail(c, "rotation.periodDays",
             "must be a number of days above 0, at most 3650 (fractions allowed), or null");
    v = json_object_get(r, "graceSeconds");
    if (v && !json_is_null(v) &&
        (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 2592000))
        fail(c, "rotation.graceSeconds",
             "must be an integer from 0 to 2592000 (30 days), or null (3600)");
    v = json_object_get(r, "retentionSeconds");
    if (v && !json_is_null(v) &&
        (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 31536000))
        fail(c, "rotation.retentionSeconds",
             "must be an integer from 0 to 31536000 (365 days), or null (7 days)");
}

static const char *const s_top[] = {"name",
                                    "region",
                                    "thingGroups",
                                    "createThingGroups",
                                    "artifactBuckets",
                                    "tokenExchangeRole",
                                    "roleAlias",
                                    "thingPolicy",
                                    "provisioningRole",
                                    "template",
                                    "claimPolicy",
                                    "claimPolicyAllowCsr",
                                    "rotation",
                                    "watch",
                                    "greengrass",
                                    "assumeRole",
                                    "adopt",
                                    "iamRoles",
                                    0};

int fleet_spec_parse(const json_t *req, const char *default_region, json_t **spec,
                     json_t **settings, json_t *errors)
{
    struct fleet_spec_defaults d = {default_region, 0, FLEET_DEFAULT_TES_BOUNDARY,
                                    FLEET_DEFAULT_PROV_BOUNDARY};
    return fleet_spec_parse_ex(req, &d, spec, settings, errors);
}

int fleet_spec_parse_ex(const json_t *req, const struct fleet_spec_defaults *d, json_t **spec,
                        json_t **settings, json_t *errors)
{
    struct spec_ctx c = {req, errors, d, 0};
    const char *default_region = d->region;
    *spec = *settings = 0;
    size_t before = json_array_size(errors);
    json_unknown_fields(req, s_top, "", c.errors);
    const char *name = json_string_value(json_object_get(req, "name"));
    if (!fleet_names_fleet(name)) {
        fail(&c, "name", "required: 1-64 characters of letters, digits, '_' and '-'");
        name = 0;
    }
    const json_t *groups = json_object_get(req, "thingGroups");
    const char *iam_roles = iam_roles_of(&c);
    json_t *s = json_pack(
        "{s:s?, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "name", name,
        "region", region_of(&c, default_region ? default_region : "us-east-1"), "thingGroups",
        list_of(&c, "thingGroups", fleet_names_thing_group,
                "1-128 characters of letters, digits and :_-", name, 20),
        "createThingGroups", bool_of(&c, req, "createThingGroups", "createThingGroups", !groups),
        "artifactBuckets",
        list_of(&c, "artifactBuckets", fleet_names_bucket, "an S3 bucket name", 0, 50),
        "tokenExchangeRole", role_part(&c), "roleAlias", alias_part(&c), "thingPolicy",
        thing_policy_part(&c), "provisioningRole", prov_role_part(&c), "template",
        template_part(&c, name), "claimPolicy", claim_part(&c, name), "assumeRole", assume_part(&c),
        "adopt", bool_of(&c, req, "adopt", "adopt", 0));
    json_object_set_new(s, "iamRoles", json_string(iam_roles));
    json_t *st = json_pack("{s:o, s:o}", "rotation", setting(&c, req, "rotation"), "watch",
                           setting(&c, req, "watch"));
    if (json_object_get(req, "greengrass") && st)
        json_object_set_new(st, "greengrass", setting(&c, req, "greengrass"));
    watch_settings_validate(json_object_get(st, "watch"), errors);
    rotation_settings(&c, json_object_get(st, "rotation"));
    greengrass_settings(&c, json_object_get(st, "greengrass"));
    hook_place(&c, s);
    if (json_array_size(errors) > before || !s || !st) {
        json_decref(s);
        json_decref(st);
        return FW_EINVAL;
    }
    *spec = s;
    *settings = st;
    return 0;
}

int fleet_spec_patch_settings(const json_t *req, const json_t *settings, json_t **out,
                              json_t *errors)
{
    static const char *const allowed[] = {"rotation", "watch", "greengrass", "verify", 0};
    struct spec_ctx c = {req, errors, 0, 0};
    size_t before = json_array_size(errors);
    *out = 0;
    json_unknown_fields(req, allowed, "", c.errors);
    json_t *s = json_is_object(settings) ? json_deep_copy(settings) : json_object();
    for (int i = 0; allowed[i]; i++) {
        const json_t *v = json_object_get(req, allowed[i]);
        if (v && !json_is_object(v))
            fail(&c, allowed[i], "must be an object");
        else if (v)
            json_object_set_new(s, allowed[i], json_deep_copy(v));
    }
    greengrass_settings(&c, json_object_get(req, "greengrass"));
    rotation_settings(&c, json_object_get(req, "rotation"));
    const json_t *w = json_object_get(req, "watch");
    const json_t *stored = json_object_get(settings, "watch");
    if (json_is_object(w))
        watch_settings_validate_patch(w, watch_webhook_has_secret(stored), errors);
    if (json_array_size(errors) == before && json_is_object(w))
        watch_webhook_keep_secret(json_object_get(s, "watch"), stored);
    if (json_array_size(errors) > before) {
        json_decref(s);
        return FW_EINVAL;
    }
    *out = s;
    return 0;
}
