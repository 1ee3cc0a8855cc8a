/*
 * fleet_iam.c - IAM resources of a fleet: look, compare, create or update.
 *
 * IAM answers policy documents URL-encoded; aws/iam.c decodes them and
 * policies_equal compares meaning, not bytes. An IAM managed policy keeps
 * at most five versions, so before CreatePolicyVersion the oldest
 * non-default version is deleted when five exist.
 *
 * A role this service creates carries the fleet's permissions boundary
 * (spec.<role>.permissionsBoundary): the service's own IAM policy allows
 * CreateRole only with it (deploy/iam), so a stolen service credential
 * cannot make a role that is more than the boundary allows. A role found
 * without it differs (adopt or reconcile puts it on). With iamRoles
 * "precreated" an administrator owns the roles and their policies: the
 * roles are only read (they must exist and trust the right service), the
 * policy and attachment steps are recorded as unmanaged, and nothing here
 * calls an IAM write action.
 *
 * A role alias's credentialDurationSeconds may not exceed its role's
 * MaxSessionDuration (IAM's default 3600; CreateRoleAlias refuses it): the
 * token exchange role is made with max(3600, duration), and a found one
 * with less is a difference (raised with UpdateRole under adopt or
 * reconcile; a precreated one is reported for its administrator). Roles
 * and attachments this run creates or changes are recorded with
 * changedAt/changedBy: AWS IoT sees such changes only after a while
 * (fleet_settle.h).
 */
#include "fleet_iam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/iam.h"
#include "fleet_run.h"
#include "service/core/err.h"
#include "service/domain/policies.h"

#define IAM_MAX_VERSIONS 5

static char *dump(const json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT);
}

/* A role step: the record key, the spec part naming it, its trust policy. */
struct role_step {
    const char *key;
    const char *part;
    char boundary[512]; /* the permissions boundary's ARN; "" = none */
    int max_session_s;  /* the least MaxSessionDuration the fleet needs; 0 = any */
};

static json_t *role_record(struct fleet_run *r, const char *name, const char *arn,
                           const char *origin, int changed)
{
    json_t *rec = json_pack("{s:s, s:s, s:s}", "name", name, "arn", arn, "origin", origin);
    if (changed)
        fleet_run_changed(r, rec);
    return rec;
}

/* 1 when the found role's MaxSessionDuration is below what the alias needs (why in diff). */
static int session_too_short(const struct role_step *s, const struct iam_role *role, char *diff,
                             size_t n)
{
    int have = role->max_session_duration_s > 0 ? role->max_session_duration_s : 3600;
    if (have >= s->max_session_s)
        return 0;
    snprintf(diff, n,
             "MaxSessionDuration: %d (AWS) < %d (wanted): a role alias's credentialDurationSeconds "
             "may not exceed its "
             "role's MaxSessionDuration",
             have, s->max_session_s);
    return 1;
}

/* spec.<part>.permissionsBoundary as an ARN (a name is a policy of the
 * fleet's account) into s->boundary. */
static void boundary_arn(struct fleet_run *r, struct role_step *s)
{
    const char *b = fleet_run_spec_str(r, s->part, "permissionsBoundary");
    s->boundary[0] = '\0';
    if (b && !strncmp(b, "arn:", 4))
        snprintf(s->boundary, sizeof s->boundary, "%s", b);
    else if (b)
        policies_iam_policy_arn(r->region, r->account, b, s->boundary, sizeof s->boundary);
}

static int create_role(struct fleet_run *r, const struct role_step *s, const char *name,
                       const char *trust)
{
    const char *key = s->key;
    int rc = fleet_run_mark_creating(r, key, name);
    if (rc)
        return rc;
    struct iam_create_role_input in = {0};
    in.role_name = name;
    in.assume_role_policy_document = trust;
    in.description = "Created by fleetwarden (AWS IoT Greengrass fleet provisioning)";
    in.permissions_boundary = s->boundary[0] ? s->boundary : 0;
    in.max_session_duration_s = s->max_session_s > 3600 ? s->max_session_s : 0;
    struct iam_role role = {0};
    rc = iam_create_role(r->aws, &in, &role, &r->err);
    if (rc)
        return fleet_run_fail(r, key, name);
    rc = fleet_run_record(r, key, role_record(r, name, role.arn, "created", 1));
    iam_role_cleanup(&role);
    return rc;
}

/* 1 when the found role lacks the boundary it should carry (why in diff). */
static int boundary_differs(const struct role_step *s, const struct iam_role *role, char *diff,
                            size_t n)
{
    const char *have = role->permissions_boundary_arn;
    if (!s->boundary[0] || (have && !strcmp(have, s->boundary)))
        return 0;
    snprintf(diff, n, "permissions boundary is %s, not %s", have ? have : "none", s->boundary);
    return 1;
}

/* Makes the found role what the fleet needs (trust policy, boundary, MaxSessionDuration). */
static int update_role(struct fleet_run *r, const struct role_step *s, const struct iam_role *role,
                       const char *trust, int trust_differs, int bound_differs, int session_differs)
{
    /* The boundary first: the service's policy lets it change only roles that carry one. */
    if (bound_differs &&
        iam_put_role_permissions_boundary(r->aws, role->role_name, s->boundary, &r->err))
        return fleet_run_fail(r, s->key, role->role_name);
    if (trust_differs && iam_update_assume_role_policy(r->aws, role->role_name, trust, &r->err))
        return fleet_run_fail(r, s->key, role->role_name);
    if (session_differs &&
        iam_update_role_max_session(r->aws, role->role_name, s->max_session_s, &r->err))
        return fleet_run_fail(r, s->key, role->role_name);
    return 0;
}

/* Compares the found role's trust policy, boundary and MaxSessionDuration; updates them when
 * allowed. */
static int check_role(struct fleet_run *r, const struct role_step *s, const struct iam_role *role,
                      const json_t *want, const char *trust)
{
    char diff[512] = "", bdiff[700], sdiff[300];
    const char *origin = fleet_run_found_origin(r, s->key);
    int td = !policies_equal(role->assume_role_policy_document, want, diff, sizeof diff);
    int bd = boundary_differs(s, role, bdiff, sizeof bdiff);
    int sd = session_too_short(s, role, sdiff, sizeof sdiff);
    if (!td && !bd && !sd) {
        fleet_run_matches(r, s->key, role->role_name);
    } else {
        char all[1600];
        snprintf(all, sizeof all, "%s%s%s%s%s", td ? diff : "", td && bd ? "; " : "",
                 bd ? bdiff : "", (td || bd) && sd ? "; " : "", sd ? sdiff : "");
        int d = fleet_run_differs(r, s->key, role->role_name, all);
        if (d <= 0)
            return d;
        if ((d = update_role(r, s, role, trust, td, bd, sd)) != 0)
            return d;
        if (strcmp(origin, "created"))
            origin = "adopted";
    }
    return fleet_run_record(r, s->key,
                            role_record(r, role->role_name, role->arn, origin, td || bd || sd));
}

/* iamRoles "precreated": the role must exist and trust the right service;
 * it is read, never created or changed. */
static int check_precreated(struct fleet_run *r, const struct role_step *s, int rc,
                            const struct iam_role *role, const json_t *want)
{
    const char *key = s->key;
    char diff[512], why[700];
    const char *name = fleet_run_spec_str(r, key, "name");
    if (rc == FW_ENOTFOUND)
        return fleet_run_blocked(r, key, name,
                                 "iamRoles is precreated: an administrator must create this role "
                                 "(deploy/iam/README.md)");
    if (rc)
        return fleet_run_fail(r, key, name);
    if (!policies_equal(role->assume_role_policy_document, want, diff, sizeof diff)) {
        snprintf(why, sizeof why,
                 "iamRoles is precreated: its trust policy must be the guide's (%s)", diff);
        return fleet_run_blocked(r, key, role->role_name, why);
    }
    if (session_too_short(s, role, diff, sizeof diff)) {
        snprintf(why, sizeof why, "iamRoles is precreated: its administrator must raise it (%s)",
                 diff);
        return fleet_run_blocked(r, key, role->role_name, why);
    }
    fleet_run_matches(r, key, role->role_name);
    return fleet_run_record(r, key,
                            json_pack("{s:s, s:s, s:s}", "name", role->role_name, "arn", role->arn,
                                      "origin", "precreated"));
}

static int ensure_role(struct fleet_run *r, struct role_step *s, json_t *want)
{
    const char *name = fleet_run_spec_str(r, s->part, "name");
    char *trust = dump(want);
    struct iam_role role = {0};
    boundary_arn(r, s);
    int rc = iam_get_role(r->aws, name, &role, &r->err);
    if (fleet_run_precreated(r))
        rc = check_precreated(r, s, rc, &role, want);
    else if (rc == FW_ENOTFOUND)
        rc = fleet_run_missing(r, s->key, name) ? create_role(r, s, name, trust) : 0;
    else if (rc)
        rc = fleet_run_fail(r, s->key, name);
    else
        rc = check_role(r, s, &role, want, trust);
    iam_role_cleanup(&role);
    free(trust);
    json_decref(want);
    return rc;
}

int fleet_iam_tes_role(struct fleet_run *r)
{
    const json_t *ra = json_object_get(r->spec, "roleAlias");
    int dur = (int)json_integer_value(json_object_get(ra, "credentialDurationSeconds"));
    struct role_step s = {"tokenExchangeRole", "tokenExchangeRole", "", dur > 3600 ? dur : 3600};
    return ensure_role(r, &s, policies_tes_trust());
}

int fleet_iam_prov_role(struct fleet_run *r)
{
    struct role_step s = {"provisioningRole", "provisioningRole", "", 0};
    return ensure_role(r, &s, policies_provisioning_trust());
}

/* Deletes the oldest non-default version when IAM's five are used. */
static int prune_versions(struct fleet_run *r, const char *arn)
{
    struct iam_policy_version_list l = {0};
    if (iam_list_policy_versions(r->aws, arn, &l, &r->err))
        return -1;
    const struct iam_policy_version *oldest = 0;
    for (size_t i = 0; i < l.n; i++)
        if (!l.items[i].is_default_version &&
            (!oldest || l.items[i].create_date < oldest->create_date))
            oldest = &l.items[i];
    int rc = 0;
    if (l.n >= IAM_MAX_VERSIONS && oldest)
        rc = iam_delete_policy_version(r->aws, arn, oldest->version_id, &r->err) ? -1 : 0;
    iam_policy_version_list_cleanup(&l);
    return rc;
}

static int update_policy(struct fleet_run *r, const char *key, const char *name, const char *arn,
                         const char *doc)
{
    struct iam_policy_version v = {0};
    if (prune_versions(r, arn) || iam_create_policy_version(r->aws, arn, doc, 1, &v, &r->err))
        return fleet_run_fail(r, key, name);
    iam_policy_version_cleanup(&v);
    return 0;
}

static int check_policy(struct fleet_run *r, const char *key, const char *name,
                        const struct iam_policy *p, const json_t *want, const char *doc)
{
    struct iam_policy_version v = {0};
    if (iam_get_policy_version(r->aws, p->arn, p->default_version_id, &v, &r->err))
        return fleet_run_fail(r, key, name);
    char diff[512];
    const char *origin = fleet_run_found_origin(r, key);
    int rc = 0;
    if (policies_equal(v.document, want, diff, sizeof diff)) {
        fleet_run_matches(r, key, name);
    } else {
        int d = fleet_run_differs(r, key, name, diff);
        rc = d > 0 ? update_policy(r, key, name, p->arn, doc) : d;
        if (d <= 0) { /* left as it is (plan, another's resource) or a conflict */
            iam_policy_version_cleanup(&v);
            return rc;
        }
        if (!rc && strcmp(origin, "created"))
            origin = "adopted";
    }
    iam_policy_version_cleanup(&v);
    if (rc)
        return rc;
    return fleet_run_record(
        r, key, json_pack("{s:s, s:s, s:s}", "name", name, "arn", p->arn, "origin", origin));
}

static int create_policy(struct fleet_run *r, const char *key, const char *name, const char *doc)
{
    int rc = fleet_run_mark_creating(r, key, name);
    if (rc)
        return rc;
    struct iam_create_policy_input in = {0};
    in.policy_name = name;
    in.policy_document = doc;
    in.description = "Greengrass token exchange role access (fleetwarden)";
    struct iam_policy p = {0};
    if (iam_create_policy(r->aws, &in, &p, &r->err))
        return fleet_run_fail(r, key, name);
    rc = fleet_run_record(
        r, key, json_pack("{s:s, s:s, s:s}", "name", name, "arn", p.arn, "origin", "created"));
    iam_policy_cleanup(&p);
    return rc;
}

int fleet_iam_tes_policy(struct fleet_run *r)
{
    const char *key = "tokenExchangePolicy",
               *name = fleet_run_spec_str(r, "tokenExchangeRole", "policyName");
    if (fleet_run_precreated(r))
        return fleet_run_unmanaged(
            r, key, name, "iamRoles is precreated: the role's policies are the administrator's");
    char arn[512];
    policies_iam_policy_arn(r->region, r->account, name, arn, sizeof arn);
    json_t *want = policies_tes_access(r->region, json_object_get(r->spec, "artifactBuckets"));
    char *doc = dump(want);
    struct iam_policy p = {0};
    int rc = iam_get_policy(r->aws, arn, &p, &r->err);
    if (rc == FW_ENOTFOUND)
        rc = fleet_run_missing(r, key, name) ? create_policy(r, key, name, doc) : 0;
    else if (rc)
        rc = fleet_run_fail(r, key, name);
    else
        rc = check_policy(r, key, name, &p, want, doc);
    iam_policy_cleanup(&p);
    free(doc);
    json_decref(want);
    return rc;
}

/* 1 when arn is attached to role, 0 when not, -1 on error (r->err). */
static int attached(struct fleet_run *r, const char *role, const char *arn)
{
    struct iam_attached_policy_list l = {0};
    if (iam_list_attached_role_policies(r->aws, role, &l, &r->err))
        return -1;
    int found = 0;
    for (size_t i = 0; i < l.n; i++)
        found |= l.items[i].policy_arn && !strcmp(l.items[i].policy_arn, arn);
    iam_attached_policy_list_cleanup(&l);
    return found;
}

static int ensure_attached(struct fleet_run *r, const char *key, const char *role, const char *arn)
{
    if (fleet_run_precreated(r))
        return fleet_run_unmanaged(
            r, key, role, "iamRoles is precreated: the role's policies are the administrator's");
    int a = role ? attached(r, role, arn) : 0;
    if (a < 0 && r->err.cls == AWS_ERRC_NOTFOUND && r->mode == FLEET_MODE_PLAN)
        a = 0; /* plan: the role itself does not exist yet */
    else if (a < 0)
        return fleet_run_fail(r, key, role);
    char what[700];
    snprintf(what, sizeof what, "%s on %s", arn, role ? role : "?");
    const char *origin = fleet_run_found_origin(r, key);
    if (a) {
        fleet_run_matches(r, key, what);
    } else {
        if (!fleet_run_missing(r, key, what))
            return 0;
        if (iam_attach_role_policy(r->aws, role, arn, &r->err))
            return fleet_run_fail(r, key, what);
        origin = "created";
    }
    json_t *rec = json_pack("{s:s, s:s, s:s}", "role", role, "policyArn", arn, "origin", origin);
    if (!a)
        fleet_run_changed(r, rec);
    return fleet_run_record(r, key, rec);
}

int fleet_iam_tes_attach(struct fleet_run *r)
{
    const char *arn = fleet_run_res_str(r, "tokenExchangePolicy", "arn");
    char a[512];
    if (!arn) {
        policies_iam_policy_arn(r->region, r->account,
                                fleet_run_spec_str(r, "tokenExchangeRole", "policyName"), a,
                                sizeof a);
        arn = a;
    }
    return ensure_attached(r, "tokenExchangeRoleAttachment",
                           fleet_run_spec_str(r, "tokenExchangeRole", "name"), arn);
}

int fleet_iam_prov_attach(struct fleet_run *r)
{
    char arn[200];
    policies_registration_policy_arn(r->region, arn, sizeof arn);
    return ensure_attached(r, "provisioningRoleAttachment",
                           fleet_run_spec_str(r, "provisioningRole", "name"), arn);
}

static int gone_ok(struct fleet_run *r, int rc)
{
    return rc == 0 || (rc == FW_ENOTFOUND && r->err.cls == AWS_ERRC_NOTFOUND);
}

int fleet_iam_detach(struct fleet_run *r, const char *role, const char *arn)
{
    int rc = iam_detach_role_policy(r->aws, role, arn, &r->err);
    return gone_ok(r, rc) ? 0 : rc;
}

int fleet_iam_delete_role(struct fleet_run *r, const char *role)
{
    struct iam_attached_policy_list l = {0};
    int rc = iam_list_attached_role_policies(r->aws, role, &l, &r->err);
    for (size_t i = 0; !rc && i < l.n; i++)
        rc = fleet_iam_detach(r, role, l.items[i].policy_arn);
    iam_attached_policy_list_cleanup(&l);
    if (rc)
        return gone_ok(r, rc) ? 0 : rc;
    rc = iam_delete_role(r->aws, role, &r->err);
    return gone_ok(r, rc) ? 0 : rc;
}

int fleet_iam_delete_policy(struct fleet_run *r, const char *arn)
{
    struct iam_policy_version_list l = {0};
    int rc = iam_list_policy_versions(r->aws, arn, &l, &r->err);
    for (size_t i = 0; !rc && i < l.n; i++)
        if (!l.items[i].is_default_version)
            rc = iam_delete_policy_version(r->aws, arn, l.items[i].version_id, &r->err);
    iam_policy_version_list_cleanup(&l);
    if (rc)
        return gone_ok(r, rc) ? 0 : rc;
    rc = iam_delete_policy(r->aws, arn, &r->err);
    return gone_ok(r, rc) ? 0 : rc;
}
