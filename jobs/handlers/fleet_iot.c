/*
 * fleet_iot.c - AWS IoT resources of a fleet: look, compare, create or
 * update, and delete for teardown.
 *
 * IoT keeps at most five versions of a policy and of a provisioning
 * template; a new version is made only after the oldest non-default one
 * is deleted when five exist (VersionsLimitExceeded otherwise). Template
 * drift is read from DescribeProvisioningTemplate: body (compared as JSON),
 * provisioning role, enabled flag, pre-provisioning hook and description.
 */
#include "fleet_iot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/iot.h"
#include "fleet_run.h"
#include "jobs/ratelimit.h"
#include "service/core/err.h"
#include "service/domain/fleet_names.h"
#include "service/domain/policies.h"
#include "service/domain/template_check.h"

#define IOT_MAX_VERSIONS 5
/* Things counted in a group before teardown decides to keep it: enough to
 * say how many devices it holds without paging through a huge fleet. */
#define GROUP_THINGS_COUNTED 1000

static int gone_ok(struct fleet_run *r, int rc)
{
    return rc == 0 || (rc == FW_ENOTFOUND && r->err.cls == AWS_ERRC_NOTFOUND);
}

/* The records of the role behind the role alias and behind the template:
 * when this job just changed them, AWS IoT may refuse the role for a while. */
static const char *const s_tes_keys[] = {"tokenExchangeRole", "tokenExchangeRoleAttachment", 0};
static const char *const s_prov_keys[] = {"provisioningRole", "provisioningRoleAttachment", 0};

/* ---- role alias ---- */

static void role_arn_of(const struct fleet_run *r, const char *key, const char *part, char *out,
                        size_t n)
{
    const char *arn = fleet_run_res_str(r, key, "arn");
    if (arn)
        snprintf(out, n, "%s", arn);
    else
        snprintf(out, n, "arn:%s:iam::%s:role/%s", policies_partition(r->region), r->account,
                 fleet_run_spec_str(r, part, "name"));
}

static int create_alias(struct fleet_run *r, const char *name, const char *role_arn, int dur)
{
    int rc = fleet_run_mark_creating(r, "roleAlias", name);
    if (rc)
        return rc;
    struct iot_role_alias a = {0};
    if (iot_create_role_alias(r->aws, name, role_arn, dur, &a, &r->err))
        return fleet_run_fail_iam(r, "roleAlias", name, s_tes_keys);
    rc = fleet_run_record(r, "roleAlias",
                          json_pack("{s:s, s:s, s:s, s:i, s:s}", "name", name, "arn",
                                    a.role_alias_arn, "roleArn", role_arn,
                                    "credentialDurationSeconds", dur, "origin", "created"));
    iot_role_alias_cleanup(&a);
    return rc;
}

static int check_alias(struct fleet_run *r, const struct iot_role_alias *a, const char *role_arn,
                       int dur)
{
    const char *name = a->role_alias, *origin = fleet_run_found_origin(r, "roleAlias");
    char diff[700] = "";
    if (!a->role_arn || strcmp(a->role_arn, role_arn))
        snprintf(diff, sizeof diff, "roleArn: %s (AWS) != %s (wanted)",
                 a->role_arn ? a->role_arn : "none", role_arn);
    else if (a->credential_duration_s != dur)
        snprintf(diff, sizeof diff, "credentialDurationSeconds: %d (AWS) != %d (wanted)",
                 a->credential_duration_s, dur);
    if (!diff[0]) {
        fleet_run_matches(r, "roleAlias", name);
    } else {
        int d = fleet_run_differs(r, "roleAlias", name, diff);
        if (d <= 0)
            return d;
        struct iot_role_alias u = {0};
        if (iot_update_role_alias(r->aws, name, role_arn, dur, &u, &r->err))
            return fleet_run_fail_iam(r, "roleAlias", name, s_tes_keys);
        iot_role_alias_cleanup(&u);
        if (strcmp(origin, "created"))
            origin = "adopted";
    }
    return fleet_run_record(r, "roleAlias",
                            json_pack("{s:s, s:s, s:s, s:i, s:s}", "name", name, "arn",
                                      a->role_alias_arn, "roleArn", role_arn,
                                      "credentialDurationSeconds", dur, "origin", origin));
}

int fleet_iot_role_alias(struct fleet_run *r)
{
    const char *name = fleet_run_spec_str(r, "roleAlias", "name");
    int dur = (int)json_integer_value(
        json_object_get(json_object_get(r->spec, "roleAlias"), "credentialDurationSeconds"));
    char role_arn[600];
    role_arn_of(r, "tokenExchangeRole", "tokenExchangeRole", role_arn, sizeof role_arn);
    struct iot_role_alias a = {0};
    int rc = iot_describe_role_alias(r->aws, name, &a, &r->err);
    if (rc == FW_ENOTFOUND)
        rc = fleet_run_missing(r, "roleAlias", name) ? create_alias(r, name, role_arn, dur) : 0;
    else if (rc)
        rc = fleet_run_fail(r, "roleAlias", name);
    else
        rc = check_alias(r, &a, role_arn, dur);
    iot_role_alias_cleanup(&a);
    return rc;
}

/* ---- IoT policies ---- */

int fleet_iot_policy_new_version(struct fleet_run *r, const char *name, const char *doc)
{
    struct iot_policy_version_list l = {0};
    if (iot_list_policy_versions(r->aws, name, &l, &r->err))
        return -1;
    const struct iot_policy_version *oldest = 0;
    for (size_t i = 0; i < l.n; i++)
        if (!l.items[i].is_default_version &&
            (!oldest || strtol(l.items[i].version_id, 0, 10) < strtol(oldest->version_id, 0, 10)))
            oldest = &l.items[i];
    int rc = 0;
    if (l.n >= IOT_MAX_VERSIONS && oldest)
        rc = iot_delete_policy_version(r->aws, name, oldest->version_id, &r->err);
    iot_policy_version_list_cleanup(&l);
    struct iot_policy_version v = {0};
    if (!rc)
        rc = iot_create_policy_version(r->aws, name, doc, 1, &v, &r->err);
    iot_policy_version_cleanup(&v);
    return rc;
}

static int create_iot_policy(struct fleet_run *r, const char *key, const char *name,
                             const char *doc)
{
    int rc = fleet_run_mark_creating(r, key, name);
    if (rc)
        return rc;
    struct iot_policy p = {0};
    if (iot_create_policy(r->aws, name, doc, &p, &r->err))
        return fleet_run_fail(r, key, name);
    rc = fleet_run_record(
        r, key,
        json_pack("{s:s, s:s, s:s}", "name", name, "arn", p.policy_arn, "origin", "created"));
    iot_policy_cleanup(&p);
    return rc;
}

static int check_iot_policy(struct fleet_run *r, const char *key, const struct iot_policy *p,
                            const json_t *want, const char *doc)
{
    char diff[512];
    const char *origin = fleet_run_found_origin(r, key);
    if (policies_equal(p->policy_document, want, diff, sizeof diff)) {
        fleet_run_matches(r, key, p->policy_name);
    } else {
        int d = fleet_run_differs(r, key, p->policy_name, diff);
        if (d <= 0)
            return d;
        if (fleet_iot_policy_new_version(r, p->policy_name, doc))
            return fleet_run_fail(r, key, p->policy_name);
        if (strcmp(origin, "created"))
            origin = "adopted";
    }
    return fleet_run_record(r, key,
                            json_pack("{s:s, s:s, s:s}", "name", p->policy_name, "arn",
                                      p->policy_arn, "origin", origin));
}

static int ensure_iot_policy(struct fleet_run *r, const char *key, const char *name, json_t *want)
{
    char *doc = json_dumps(want, JSON_COMPACT);
    struct iot_policy p = {0};
    int rc = iot_get_policy(r->aws, name, &p, &r->err);
    if (rc == FW_ENOTFOUND)
        rc = fleet_run_missing(r, key, name) ? create_iot_policy(r, key, name, doc) : 0;
    else if (rc)
        rc = fleet_run_fail(r, key, name);
    else
        rc = check_iot_policy(r, key, &p, want, doc);
    iot_policy_cleanup(&p);
    free(doc);
    json_decref(want);
    return rc;
}

int fleet_iot_thing_policy(struct fleet_run *r)
{
    const char *mode = fleet_run_spec_str(r, "thingPolicy", "mode");
    if (mode && !strcmp(mode, "perDevice")) {
        fleet_run_matches(r, "thingPolicy", "(per device, inside the template)");
        return fleet_run_record(
            r, "thingPolicy",
            json_pack("{s:s, s:n, s:s}", "mode", "perDevice", "name", "origin", "template"));
    }
    return ensure_iot_policy(
        r, "thingPolicy", fleet_run_spec_str(r, "thingPolicy", "name"),
        policies_thing_policy(r->region, r->account, fleet_run_spec_str(r, "roleAlias", "name")));
}

int fleet_iot_claim_policy(struct fleet_run *r)
{
    const json_t *cp = json_object_get(r->spec, "claimPolicy");
    int csr = json_is_true(json_object_get(cp, "allowCsr"));
    return ensure_iot_policy(r, "claimPolicy", fleet_run_spec_str(r, "claimPolicy", "name"),
                             policies_claim_policy(r->region, r->account,
                                                   fleet_run_spec_str(r, "template", "name"), csr));
}

/* ---- thing groups ---- */

/* One group: its record {name, arn, origin}, or NULL after failing/plan. */
static json_t *ensure_group(struct fleet_run *r, const char *name, int create, int *rc)
{
    struct iot_thing_group g = {0};
    json_t *out = 0;
    *rc = iot_describe_thing_group(r->aws, name, &g, &r->err);
    if (!*rc) {
        fleet_run_matches(r, "thingGroups", name);
        out = json_pack("{s:s, s:s, s:s}", "name", name, "arn", g.thing_group_arn, "origin",
                        "existing");
    } else if (*rc == FW_ENOTFOUND && !create) {
        *rc = fleet_run_blocked(
            r, "thingGroups", name,
            "the thing group does not exist; create it or set createThingGroups: true");
    } else if (*rc == FW_ENOTFOUND) {
        *rc = 0;
        if (fleet_run_missing(r, "thingGroups", name)) {
            iot_thing_group_cleanup(&g);
            if (iot_create_thing_group(r->aws, name, 0, "fleetwarden fleet group", &g, &r->err))
                *rc = fleet_run_fail(r, "thingGroups", name);
            else
                out = json_pack("{s:s, s:s, s:s}", "name", name, "arn", g.thing_group_arn, "origin",
                                "created");
        }
    } else {
        *rc = fleet_run_fail(r, "thingGroups", name);
    }
    iot_thing_group_cleanup(&g);
    return out;
}

/* Keeps "created" for groups an earlier attempt of this fleet made. */
static void keep_created(const struct fleet_run *r, json_t *rec)
{
    const json_t *old = json_object_get(json_object_get(r->resources, "thingGroups"), "items");
    size_t i;
    json_t *o;
    json_array_foreach(old, i, o)
    {
        const char *origin = json_string_value(json_object_get(o, "origin"));
        if (json_equal(json_object_get(o, "name"), json_object_get(rec, "name")) && origin &&
            !strcmp(origin, "created"))
            json_object_set_new(rec, "origin", json_string("created"));
    }
}

int fleet_iot_thing_groups(struct fleet_run *r)
{
    const json_t *groups = json_object_get(r->spec, "thingGroups");
    int create = json_is_true(json_object_get(r->spec, "createThingGroups"));
    json_t *items = json_array();
    size_t i;
    json_t *g;
    int rc = 0;
    json_array_foreach(groups, i, g)
    {
        json_t *rec = ensure_group(r, json_string_value(g), create, &rc);
        if (rc)
            break;
        if (rec) {
            keep_created(r, rec);
            json_array_append_new(items, rec);
        }
    }
    if (rc) {
        json_decref(items);
        return rc;
    }
    return fleet_run_record(r, "thingGroups", json_pack("{s:o}", "items", items));
}

/* ---- provisioning template ---- */

json_t *fleet_iot_template_body(const struct fleet_run *r)
{
    const json_t *t = json_object_get(r->spec, "template");
    const json_t *body = json_object_get(t, "body");
    if (json_is_object(body))
        return json_deep_copy(body);
    const json_t *tn = json_object_get(t, "thingName");
    struct policies_thing_name name = {json_string_value(json_object_get(tn, "from")),
                                       json_string_value(json_object_get(tn, "prefix"))};
    const char *mode = fleet_run_spec_str(r, "thingPolicy", "mode");
    if (mode && !strcmp(mode, "perDevice")) {
        json_t *doc = policies_thing_policy(r->region, r->account,
                                            fleet_run_spec_str(r, "roleAlias", "name"));
        json_t *b = policies_template_body(0, doc, &name);
        json_decref(doc);
        return b;
    }
    return policies_template_body(fleet_run_spec_str(r, "thingPolicy", "name"), 0, &name);
}

int fleet_iot_template_new_version(struct fleet_run *r, const char *name, const char *body,
                                   int set_default)
{
    struct iot_template_version_list l = {0};
    if (iot_list_provisioning_template_versions(r->aws, name, &l, &r->err))
        return -1;
    const struct iot_template_version *oldest = 0;
    for (size_t i = 0; i < l.n; i++)
        if (!l.items[i].is_default_version &&
            (!oldest || l.items[i].version_id < oldest->version_id))
            oldest = &l.items[i];
    int rc = 0;
    if (l.n >= IOT_MAX_VERSIONS && oldest)
        rc = iot_delete_provisioning_template_version(r->aws, name, oldest->version_id, &r->err);
    iot_template_version_list_cleanup(&l);
    struct iot_template_version v = {0};
    return rc ? rc
              : iot_create_provisioning_template_version(r->aws, name, body, set_default, &v,
                                                         &r->err);
}

struct tpl_want {
    const char *name;
    json_t *body;
    char *text;
    char role_arn[600];
    const char *hook;
    const char *description;
    int enabled;
};

static int create_template(struct fleet_run *r, const struct tpl_want *w)
{
    int rc = fleet_run_mark_creating(r, "template", w->name);
    if (rc)
        return rc;
    struct iot_create_template_input in = {0};
    in.template_name = w->name;
    in.template_body = w->text;
    in.provisioning_role_arn = w->role_arn;
    in.description = w->description;
    in.enabled = w->enabled;
    in.type = "FLEET_PROVISIONING";
    in.hook_target_arn = w->hook;
    struct iot_template t = {0};
    if (iot_create_provisioning_template(r->aws, &in, &t, &r->err))
        return fleet_run_fail_iam(r, "template", w->name, s_prov_keys);
    rc = fleet_run_record(
        r, "template",
        json_pack("{s:s, s:s, s:s}", "name", w->name, "arn", t.template_arn, "origin", "created"));
    iot_template_cleanup(&t);
    return rc;
}

static int str_same(const char *a, const char *b)
{
    return (!a || !*a) ? (!b || !*b) : (b && !strcmp(a, b));
}

/* The first difference of the settings (not the body) into diff; 1 if any. */
static int template_fields_differ(const struct iot_template *t, const struct tpl_want *w,
                                  char *diff, size_t n)
{
    if (!str_same(t->provisioning_role_arn, w->role_arn))
        snprintf(diff, n, "provisioningRoleArn: %s (AWS) != %s (wanted)", t->provisioning_role_arn,
                 w->role_arn);
    else if (t->enabled != w->enabled)
        snprintf(diff, n, "enabled: %s (AWS) != %s (wanted)", t->enabled ? "true" : "false",
                 w->enabled ? "true" : "false");
    else if (!str_same(t->hook_target_arn, w->hook))
        snprintf(diff, n, "preProvisioningHook: %s (AWS) != %s (wanted)",
                 t->hook_target_arn ? t->hook_target_arn : "none", w->hook ? w->hook : "none");
    else if (w->description && !str_same(t->description, w->description))
        snprintf(diff, n, "description differs");
    else
        return 0;
    return 1;
}

static int update_template(struct fleet_run *r, const struct iot_template *t,
                           const struct tpl_want *w, int fields, int body)
{
    struct iot_update_template_input u = {0};
    u.template_name = w->name;
    u.enabled = w->enabled;
    u.provisioning_role_arn = w->role_arn;
    u.description = w->description;
    u.hook_target_arn = w->hook;
    u.remove_hook = !w->hook && t->hook_target_arn && *t->hook_target_arn;
    if (fields && iot_update_provisioning_template(r->aws, &u, &r->err))
        return fleet_run_fail_iam(r, "template", w->name, s_prov_keys);
    if (body && fleet_iot_template_new_version(r, w->name, w->text, 1))
        return fleet_run_fail(r, "template", w->name);
    return 0;
}

static int check_template(struct fleet_run *r, const struct iot_template *t,
                          const struct tpl_want *w)
{
    char diff[700] = "";
    int fields = template_fields_differ(t, w, diff, sizeof diff);
    int body = !policies_equal(t->template_body, w->body, fields ? 0 : diff, sizeof diff);
    if (body && fields)
        strncat(diff, "; and the body differs", sizeof diff - strlen(diff) - 1);
    const char *origin = fleet_run_found_origin(r, "template");
    if (!fields && !body) {
        fleet_run_matches(r, "template", w->name);
    } else {
        int d = fleet_run_differs(r, "template", w->name, diff);
        if (d <= 0)
            return d;
        if ((d = update_template(r, t, w, fields, body)) != 0)
            return d;
        if (strcmp(origin, "created"))
            origin = "adopted";
    }
    return fleet_run_record(
        r, "template",
        json_pack("{s:s, s:s, s:s}", "name", w->name, "arn", t->template_arn, "origin", origin));
}

static int want_template(struct fleet_run *r, struct tpl_want *w)
{
    const json_t *t = json_object_get(r->spec, "template");
    w->name = json_string_value(json_object_get(t, "name"));
    w->body = fleet_iot_template_body(r);
    w->text = json_dumps(w->body, JSON_COMPACT);
    role_arn_of(r, "provisioningRole", "provisioningRole", w->role_arn, sizeof w->role_arn);
    w->hook = json_string_value(json_object_get(t, "preProvisioningHook"));
    w->description = json_string_value(json_object_get(t, "description"));
    w->enabled = !json_is_false(json_object_get(t, "enabled"));
    if (w->hook && !fleet_names_lambda_in(w->hook, r->region, r->account))
        return fleet_run_blocked(
            r, "template", w->name,
            "template.preProvisioningHook must be a Lambda function of the fleet's account and "
            "region: AWS IoT invokes hooks only there (every RegisterThing would fail with "
            "ACCESS_DENIED)");
    if (w->text && strlen(w->text) <= TEMPLATE_BODY_MAX)
        return 0;
    return fleet_run_blocked(r, "template", w->name,
                             "the template body is over AWS's 10,240 characters");
}

int fleet_iot_template(struct fleet_run *r)
{
    struct tpl_want w = {0};
    struct iot_template t = {0};
    int rc = want_template(r, &w);
    if (rc)
        goto cleanup;
    rc = iot_describe_provisioning_template(r->aws, w.name, &t, &r->err);
    if (rc == FW_ENOTFOUND)
        rc = fleet_run_missing(r, "template", w.name) ? create_template(r, &w) : 0;
    else if (rc)
        rc = fleet_run_fail(r, "template", w.name);
    else
        rc = check_template(r, &t, &w);
cleanup:
    iot_template_cleanup(&t);
    json_decref(w.body);
    free(w.text);
    return rc;
}

/* ---- endpoints ---- */

int fleet_iot_endpoints(struct fleet_run *r)
{
    char *data = 0, *cred = 0;
    int rc = iot_describe_endpoint(r->aws, "iot:Data-ATS", &data, &r->err);
    if (!rc)
        rc = iot_describe_endpoint(r->aws, "iot:CredentialProvider", &cred, &r->err);
    if (rc) {
        rc = fleet_run_fail(r, "endpoints", 0);
    } else {
        fleet_run_matches(r, "endpoints", data);
        rc = fleet_run_record(r, "endpoints",
                              json_pack("{s:s, s:s}", "dataAts", data, "credentialProvider", cred));
    }
    free(data);
    free(cred);
    return rc;
}

/* ---- teardown ---- */

int fleet_iot_detach_targets(struct fleet_run *r, const char *name, size_t *detached)
{
    struct aws_strlist targets = {0};
    *detached = 0;
    int rc = iot_list_targets_for_policy(r->aws, name, &targets, &r->err);
    for (size_t i = 0; !rc && i < targets.n; i++)
        if ((rc = iot_detach_policy(r->aws, name, targets.items[i], &r->err)) == 0)
            (*detached)++;
    aws_strlist_cleanup(&targets);
    return gone_ok(r, rc) ? 0 : rc;
}

int fleet_iot_delete_policy(struct fleet_run *r, const char *name)
{
    struct iot_policy_version_list l = {0};
    int rc = iot_list_policy_versions(r->aws, name, &l, &r->err);
    for (size_t i = 0; !rc && i < l.n; i++)
        if (!l.items[i].is_default_version)
            rc = iot_delete_policy_version(r->aws, name, l.items[i].version_id, &r->err);
    iot_policy_version_list_cleanup(&l);
    if (!rc)
        rc = iot_delete_policy(r->aws, name, &r->err);
    return gone_ok(r, rc) ? 0 : rc;
}

int fleet_iot_delete_alias(struct fleet_run *r, const char *alias)
{
    int rc = iot_delete_role_alias(r->aws, alias, &r->err);
    return gone_ok(r, rc) ? 0 : rc;
}

int fleet_iot_delete_template(struct fleet_run *r, const char *name)
{
    int rc = iot_delete_provisioning_template(r->aws, name, &r->err);
    return gone_ok(r, rc) ? 0 : rc;
}

/* Counts the group's things (child groups' too) up to GROUP_THINGS_COUNTED
 * first: deleting a group takes its devices out of it, which changes their
 * deployments, and the devices are not ours to break. */
int fleet_iot_delete_group(struct fleet_run *r, const char *name)
{
    struct aws_strlist things = {0};
    int rc = ratelimit_acquire("iot-describe");
    rc = rc ? rc
            : iot_list_things_in_thing_group(r->aws, name, 1, GROUP_THINGS_COUNTED, &things,
                                             &r->err);
    size_t n = things.n;
    aws_strlist_cleanup(&things);
    if (rc)
        return gone_ok(r, rc) ? 0 : rc;
    if (n) {
        awserr_set(&r->err, 0, "ThingGroupNotEmpty",
                   "the thing group holds %s%zu thing(s) (provisioned devices); "
                   "remove them from it, then delete it",
                   n >= GROUP_THINGS_COUNTED ? "at least " : "", n);
        return FW_ECONFLICT;
    }
    if ((rc = ratelimit_acquire("iot-thing-group")) != 0)
        return rc;
    rc = iot_delete_thing_group(r->aws, name, 0, &r->err);
    if (rc == FW_EINVAL && !strcmp(r->err.code, "InvalidRequestException"))
        return FW_ECONFLICT; /* child groups, or a dynamic group: AWS's message says which */
    return gone_ok(r, rc) ? 0 : rc;
}
