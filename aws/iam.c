/*
 * iam.c - IAM roles, managed policies and their versions, attachments.
 *
 * Fleet setup creates the token exchange role and its access policy, and
 * the provisioning role, and attaches policies to them; reconcile and
 * teardown read, update and delete the same. Each function builds one
 * query-protocol call and reads <OpResult>. IAM answers policy documents
 * URL-encoded; we decode them so callers compare plain JSON. Lists follow
 * IsTruncated/Marker to the end.
 */
#include "aws/iam.h"

#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/xml.h"
#include "service/core/mem.h"
#include "service/core/pct.h"

#define IAM_VERSION "2010-05-08"

/* A decoded copy of an RFC 3986 percent-encoded string; NULL stays NULL. */
static char *url_decode(const char *s)
{
    return s ? pct_decode(s, strlen(s), 0) : 0;
}

/* Runs call and hands the <OpResult> to read (may be NULL for no output). */
typedef void(iam_read_fn)(const struct xml_node *result, void *out);

static int run(struct aws_client *c, struct aws_call *call, iam_read_fn *read, void *out,
               struct aws_api_error *err)
{
    struct aws_reply r;
    int rc = aws_client_call(c, call, &r, err);
    if (!rc && read)
        read(r.result, out);
    aws_reply_cleanup(&r);
    aws_call_cleanup(call);
    return rc;
}

/* ------------------------------------------------------------ roles */

static void read_role(const struct xml_node *role, struct iam_role *out)
{
    out->role_name = xml_strdup(role, "RoleName");
    out->role_id = xml_strdup(role, "RoleId");
    out->arn = xml_strdup(role, "Arn");
    out->path = xml_strdup(role, "Path");
    out->description = xml_strdup(role, "Description");
    out->assume_role_policy_document = url_decode(xml_text(role, "AssumeRolePolicyDocument"));
    out->create_date = xml_time(role, "CreateDate");
    out->max_session_duration_s = (int)xml_int(role, "MaxSessionDuration", 0);
    out->permissions_boundary_arn = xml_strdup(role, "PermissionsBoundary/PermissionsBoundaryArn");
}

static void read_role_result(const struct xml_node *result, void *out)
{
    read_role(xml_child(result, "Role"), out);
}

int iam_create_role(struct aws_client *c, const struct iam_create_role_input *in,
                    struct iam_role *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "CreateRole", IAM_VERSION);
    aws_call_param(&call, "AssumeRolePolicyDocument", in->assume_role_policy_document);
    aws_call_param(&call, "Description", in->description);
    if (in->max_session_duration_s > 0)
        aws_call_param_int(&call, "MaxSessionDuration", in->max_session_duration_s);
    aws_call_param(&call, "Path", in->path);
    aws_call_param(&call, "PermissionsBoundary", in->permissions_boundary);
    aws_call_param(&call, "RoleName", in->role_name);
    return run(c, &call, read_role_result, out, err);
}

int iam_get_role(struct aws_client *c, const char *role_name, struct iam_role *out,
                 struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "GetRole", IAM_VERSION);
    aws_call_param(&call, "RoleName", role_name);
    return run(c, &call, read_role_result, out, err);
}

/* After DeleteConflict on a role, names the managed policies still
 * attached (its own error struct: the caller's stays the conflict). */
static void explain_role_conflict(struct aws_client *c, const char *role_name,
                                  struct aws_api_error *err)
{
    struct iam_attached_policy_list l;
    if (iam_list_attached_role_policies(c, role_name, &l, NULL) == 0 && l.n)
        awserr_append(err, "still attached: %zu managed polic%s, first %s", l.n,
                      l.n == 1 ? "y" : "ies", l.items[0].policy_arn ? l.items[0].policy_arn : "?");
    iam_attached_policy_list_cleanup(&l);
}

int iam_delete_role(struct aws_client *c, const char *role_name, struct aws_api_error *err)
{
    struct aws_api_error local;
    if (!err)
        err = &local;
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "DeleteRole", IAM_VERSION);
    aws_call_param(&call, "RoleName", role_name);
    int rc = run(c, &call, 0, 0, err);
    if (rc && strcmp(err->code, "DeleteConflict") == 0)
        explain_role_conflict(c, role_name, err);
    return rc;
}

int iam_put_role_permissions_boundary(struct aws_client *c, const char *role_name,
                                      const char *policy_arn, struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "PutRolePermissionsBoundary", IAM_VERSION);
    aws_call_param(&call, "PermissionsBoundary", policy_arn);
    aws_call_param(&call, "RoleName", role_name);
    return run(c, &call, 0, 0, err);
}

int iam_update_assume_role_policy(struct aws_client *c, const char *role_name,
                                  const char *policy_document, struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "UpdateAssumeRolePolicy", IAM_VERSION);
    aws_call_param(&call, "PolicyDocument", policy_document);
    aws_call_param(&call, "RoleName", role_name);
    return run(c, &call, 0, 0, err);
}

int iam_update_role_max_session(struct aws_client *c, const char *role_name,
                                int max_session_duration_s, struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "UpdateRole", IAM_VERSION);
    aws_call_param_int(&call, "MaxSessionDuration", max_session_duration_s);
    aws_call_param(&call, "RoleName", role_name);
    return run(c, &call, 0, 0, err);
}

void iam_role_cleanup(struct iam_role *x)
{
    if (!x)
        return;
    free(x->role_name);
    free(x->role_id);
    free(x->arn);
    free(x->path);
    free(x->assume_role_policy_document);
    free(x->description);
    free(x->permissions_boundary_arn);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------ policies */

static void read_policy_result(const struct xml_node *result, void *outp)
{
    struct iam_policy *out = outp;
    const struct xml_node *p = xml_child(result, "Policy");
    out->policy_name = xml_strdup(p, "PolicyName");
    out->policy_id = xml_strdup(p, "PolicyId");
    out->arn = xml_strdup(p, "Arn");
    out->path = xml_strdup(p, "Path");
    out->default_version_id = xml_strdup(p, "DefaultVersionId");
    out->attachment_count = (int)xml_int(p, "AttachmentCount", 0);
    out->create_date = xml_time(p, "CreateDate");
}

int iam_create_policy(struct aws_client *c, const struct iam_create_policy_input *in,
                      struct iam_policy *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "CreatePolicy", IAM_VERSION);
    aws_call_param(&call, "Description", in->description);
    aws_call_param(&call, "Path", in->path);
    aws_call_param(&call, "PolicyDocument", in->policy_document);
    aws_call_param(&call, "PolicyName", in->policy_name);
    return run(c, &call, read_policy_result, out, err);
}

int iam_get_policy(struct aws_client *c, const char *policy_arn, struct iam_policy *out,
                   struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "GetPolicy", IAM_VERSION);
    aws_call_param(&call, "PolicyArn", policy_arn);
    return run(c, &call, read_policy_result, out, err);
}

/* After DeleteConflict on a policy, says how many entities still hold it
 * and how many non-default versions remain. */
static void explain_policy_conflict(struct aws_client *c, const char *policy_arn,
                                    struct aws_api_error *err)
{
    struct iam_policy pol;
    struct iam_policy_version_list versions;
    int attached = iam_get_policy(c, policy_arn, &pol, NULL) == 0 ? pol.attachment_count : -1;
    size_t non_default = 0;
    if (iam_list_policy_versions(c, policy_arn, &versions, NULL) == 0)
        for (size_t i = 0; i < versions.n; i++)
            non_default += !versions.items[i].is_default_version;
    if (attached >= 0)
        awserr_append(
            err, "still attached to %d role(s), user(s) or group(s); %zu non-default version(s)",
            attached, non_default);
    iam_policy_cleanup(&pol);
    iam_policy_version_list_cleanup(&versions);
}

int iam_delete_policy(struct aws_client *c, const char *policy_arn, struct aws_api_error *err)
{
    struct aws_api_error local;
    if (!err)
        err = &local;
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "DeletePolicy", IAM_VERSION);
    aws_call_param(&call, "PolicyArn", policy_arn);
    int rc = run(c, &call, 0, 0, err);
    if (rc && strcmp(err->code, "DeleteConflict") == 0)
        explain_policy_conflict(c, policy_arn, err);
    return rc;
}

void iam_policy_cleanup(struct iam_policy *x)
{
    if (!x)
        return;
    free(x->policy_name);
    free(x->policy_id);
    free(x->arn);
    free(x->path);
    free(x->default_version_id);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------ versions */

static void read_version(const struct xml_node *v, struct iam_policy_version *out)
{
    out->version_id = xml_strdup(v, "VersionId");
    out->document = url_decode(xml_text(v, "Document"));
    out->is_default_version = xml_bool(v, "IsDefaultVersion");
    out->create_date = xml_time(v, "CreateDate");
}

static void read_version_result(const struct xml_node *result, void *out)
{
    read_version(xml_child(result, "PolicyVersion"), out);
}

int iam_get_policy_version(struct aws_client *c, const char *policy_arn, const char *version_id,
                           struct iam_policy_version *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "GetPolicyVersion", IAM_VERSION);
    aws_call_param(&call, "PolicyArn", policy_arn);
    aws_call_param(&call, "VersionId", version_id);
    return run(c, &call, read_version_result, out, err);
}

int iam_create_policy_version(struct aws_client *c, const char *policy_arn,
                              const char *policy_document, int set_as_default,
                              struct iam_policy_version *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "CreatePolicyVersion", IAM_VERSION);
    aws_call_param(&call, "PolicyArn", policy_arn);
    aws_call_param(&call, "PolicyDocument", policy_document);
    aws_call_param(&call, "SetAsDefault", set_as_default ? "true" : "false");
    return run(c, &call, read_version_result, out, err);
}

int iam_delete_policy_version(struct aws_client *c, const char *policy_arn, const char *version_id,
                              struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "DeletePolicyVersion", IAM_VERSION);
    aws_call_param(&call, "PolicyArn", policy_arn);
    aws_call_param(&call, "VersionId", version_id);
    return run(c, &call, 0, 0, err);
}

/* One page of a list: appends its members and returns the next marker
 * (caller frees) or NULL at the end. */
typedef void(iam_add_fn)(const struct xml_node *member, void *out);

struct page {
    const char *list_name; /* "Versions", "AttachedPolicies" */
    iam_add_fn *add;       /* appends one <member> to out */
    void *out;
    char *next_marker;
};

static void read_page(const struct xml_node *result, void *pp)
{
    struct page *pg = pp;
    const struct xml_node *list = xml_child(result, pg->list_name);
    for (const struct xml_node *m = xml_child(list, "member"); m; m = xml_next(m))
        pg->add(m, pg->out);
    pg->next_marker = xml_bool(result, "IsTruncated") ? xml_strdup(result, "Marker") : 0;
}

static void add_version(const struct xml_node *m, void *outp)
{
    struct iam_policy_version_list *out = outp;
    out->items = xrealloc(out->items, (out->n + 1) * sizeof *out->items);
    memset(&out->items[out->n], 0, sizeof out->items[0]);
    read_version(m, &out->items[out->n++]);
}

static void add_attached(const struct xml_node *m, void *outp)
{
    struct iam_attached_policy_list *out = outp;
    out->items = xrealloc(out->items, (out->n + 1) * sizeof *out->items);
    out->items[out->n].policy_name = xml_strdup(m, "PolicyName");
    out->items[out->n].policy_arn = xml_strdup(m, "PolicyArn");
    out->n++;
}

/* Pages `action` (keyed by key_name=key) to the end. */
static int list_all(struct aws_client *c, const char *action, const char *key_name, const char *key,
                    struct page *pg, struct aws_api_error *err)
{
    char *marker = 0;
    int rc = 0;
    do {
        struct aws_call call;
        aws_call_init_query(&call, AWS_SVC_IAM, action, IAM_VERSION);
        aws_call_param(&call, "Marker", marker);
        aws_call_param(&call, key_name, key);
        pg->next_marker = 0;
        rc = run(c, &call, read_page, pg, err);
        free(marker);
        marker = rc ? 0 : pg->next_marker;
        if (rc)
            free(pg->next_marker);
    } while (!rc && marker);
    return rc;
}

int iam_list_policy_versions(struct aws_client *c, const char *policy_arn,
                             struct iam_policy_version_list *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct page pg = {"Versions", add_version, out, 0};
    int rc = list_all(c, "ListPolicyVersions", "PolicyArn", policy_arn, &pg, err);
    if (rc)
        iam_policy_version_list_cleanup(out);
    return rc;
}

int iam_attach_role_policy(struct aws_client *c, const char *role_name, const char *policy_arn,
                           struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "AttachRolePolicy", IAM_VERSION);
    aws_call_param(&call, "PolicyArn", policy_arn);
    aws_call_param(&call, "RoleName", role_name);
    return run(c, &call, 0, 0, err);
}

int iam_detach_role_policy(struct aws_client *c, const char *role_name, const char *policy_arn,
                           struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_IAM, "DetachRolePolicy", IAM_VERSION);
    aws_call_param(&call, "PolicyArn", policy_arn);
    aws_call_param(&call, "RoleName", role_name);
    return run(c, &call, 0, 0, err);
}

int iam_list_attached_role_policies(struct aws_client *c, const char *role_name,
                                    struct iam_attached_policy_list *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct page pg = {"AttachedPolicies", add_attached, out, 0};
    int rc = list_all(c, "ListAttachedRolePolicies", "RoleName", role_name, &pg, err);
    if (rc)
        iam_attached_policy_list_cleanup(out);
    return rc;
}

void iam_policy_version_cleanup(struct iam_policy_version *x)
{
    if (!x)
        return;
    free(x->version_id);
    free(x->document);
    memset(x, 0, sizeof *x);
}

void iam_policy_version_list_cleanup(struct iam_policy_version_list *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        iam_policy_version_cleanup(&x->items[i]);
    free(x->items);
    memset(x, 0, sizeof *x);
}

void iam_attached_policy_list_cleanup(struct iam_attached_policy_list *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++) {
        free(x->items[i].policy_name);
        free(x->items[i].policy_arn);
    }
    free(x->items);
    memset(x, 0, sizeof *x);
}
