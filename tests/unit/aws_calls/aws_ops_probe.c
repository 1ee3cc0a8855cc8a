/*
 * aws_ops_probe.c - runs one aws/ operation from the command line and prints
 * the outcome as one JSON object, for tests/integration/test_aws_*.py.
 *
 *   aws-ops-probe OP [key=value ...]      (value "@path" reads a file)
 *
 * The client is configured from the environment exactly as in the service
 * (AWS_ENDPOINT_URL, AWS_REGION, credentials chain, AWS_MAX_ATTEMPTS), so
 * the tests exercise the real code path against the emulator. Common keys:
 * repeat=N runs the operation N times on one client (connection reuse);
 * fresh=1 makes a new client (and HTTP handle) per repetition. Backoff
 * sleeps are recorded and shortened 100 times so retry tests stay fast
 * (real_sleep=1 sleeps them in full). timeout_ms, connect_timeout_ms and
 * max_body set the HTTP handle's options.
 * Output: {"ok","rc","attempts","connections","sleeps":[ms],"error":{...},
 * "out":{...}}; exit status 0 when the operation succeeded, 1 when it
 * failed, 2 on bad usage. Secrets are never printed: a private key is
 * reported by length and first line only.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/check.h"
#include "aws/client.h"
#include "aws/cloudwatch.h"
#include "aws/http.h"
#include "aws/iam.h"
#include "aws/iot.h"
#include "aws/sts.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define MAX_ARGS 32

struct probe {
    int real_sleep; /* real_sleep=1: sleep the full backoff */
    int argc;
    char *keys[MAX_ARGS];
    char *vals[MAX_ARGS];
    struct aws_client *c;
    json_t *sleeps;
};

typedef int(probe_op_fn)(struct probe *p, json_t *out, struct aws_api_error *err);

/* ------------------------------------------------------------ arguments */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char *data = xmalloc(1 << 20);
    size_t n = fread(data, 1, (1 << 20) - 1, f);
    data[n] = '\0';
    fclose(f);
    return data;
}

static const char *arg(struct probe *p, const char *key)
{
    for (int i = 0; i < p->argc; i++)
        if (strcmp(p->keys[i], key) == 0)
            return p->vals[i];
    return 0;
}

static int arg_int(struct probe *p, const char *key, int dflt)
{
    const char *v = arg(p, key);
    return v ? (int)strtol(v, NULL, 10) : dflt;
}

static int parse_args(struct probe *p, int argc, char **argv)
{
    for (int i = 0; i < argc && p->argc < MAX_ARGS; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return FW_EINVAL;
        p->keys[p->argc] = xstrndup(argv[i], (size_t)(eq - argv[i]));
        p->vals[p->argc] = eq[1] == '@' ? read_file(eq + 2) : xstrdup(eq + 1);
        if (!p->vals[p->argc])
            return FW_EINVAL;
        p->argc++;
    }
    return 0;
}

/* ------------------------------------------------------------ output helpers */

static void put_s(json_t *o, const char *k, const char *v)
{
    json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static void put_i(json_t *o, const char *k, long long v)
{
    json_object_set_new(o, k, json_integer(v));
}

static void put_b(json_t *o, const char *k, int v)
{
    json_object_set_new(o, k, json_boolean(v));
}

static void put_r(json_t *o, const char *k, double v)
{
    json_object_set_new(o, k, json_real(v));
}

/* ------------------------------------------------------------ STS */

static int op_sts_identity(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct sts_caller_identity x;
    int rc = sts_get_caller_identity(p->c, &x, err);
    put_s(out, "account", x.account);
    put_s(out, "arn", x.arn);
    put_s(out, "userId", x.user_id);
    sts_caller_identity_cleanup(&x);
    return rc;
}

static void put_sts_creds(json_t *out, const struct sts_credentials *x)
{
    put_s(out, "accessKeyId", x->access_key_id);
    put_b(out, "hasSecret", x->secret_access_key && *x->secret_access_key);
    put_b(out, "hasSessionToken", x->session_token && *x->session_token);
    put_r(out, "expiration", x->expiration);
    put_s(out, "assumedRoleArn", x->assumed_role_arn);
}

static int op_sts_assume(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct sts_assume_role_input in = {arg(p, "role_arn"), arg(p, "session"),
                                       arg_int(p, "duration", 0), arg(p, "external_id"), 0};
    struct sts_credentials x;
    int rc = sts_assume_role(p->c, &in, &x, err);
    put_sts_creds(out, &x);
    sts_credentials_cleanup(&x);
    return rc;
}

static int op_sts_webid(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct sts_web_identity_input in = {arg(p, "role_arn"), arg(p, "session"), arg(p, "token"),
                                        arg_int(p, "duration", 0)};
    struct sts_credentials x;
    int rc = sts_assume_role_with_web_identity(p->c, &in, &x, err);
    put_sts_creds(out, &x);
    sts_credentials_cleanup(&x);
    return rc;
}

/* ------------------------------------------------------------ IAM */

static void put_role(json_t *out, const struct iam_role *x)
{
    put_s(out, "roleName", x->role_name);
    put_s(out, "roleId", x->role_id);
    put_s(out, "arn", x->arn);
    put_s(out, "path", x->path);
    put_s(out, "assumeRolePolicyDocument", x->assume_role_policy_document);
    put_r(out, "createDate", x->create_date);
    put_s(out, "permissionsBoundaryArn", x->permissions_boundary_arn);
}

static int op_iam_create_role(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iam_create_role_input in = {
        arg(p, "name"),    arg(p, "doc"), arg(p, "path"), arg(p, "description"), 0,
        arg(p, "boundary")};
    struct iam_role x;
    int rc = iam_create_role(p->c, &in, &x, err);
    put_role(out, &x);
    iam_role_cleanup(&x);
    return rc;
}

static int op_iam_get_role(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iam_role x;
    int rc = iam_get_role(p->c, arg(p, "name"), &x, err);
    put_role(out, &x);
    iam_role_cleanup(&x);
    return rc;
}

static int op_iam_delete_role(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iam_delete_role(p->c, arg(p, "name"), err);
}

static int op_iam_update_trust(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iam_update_assume_role_policy(p->c, arg(p, "name"), arg(p, "doc"), err);
}

static int op_iam_update_role_max_session(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iam_update_role_max_session(p->c, arg(p, "name"), arg_int(p, "seconds", 3600), err);
}

static int op_iam_put_boundary(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iam_put_role_permissions_boundary(p->c, arg(p, "name"), arg(p, "boundary"), err);
}

static void put_iam_policy(json_t *out, const struct iam_policy *x)
{
    put_s(out, "policyName", x->policy_name);
    put_s(out, "policyId", x->policy_id);
    put_s(out, "arn", x->arn);
    put_s(out, "defaultVersionId", x->default_version_id);
    put_i(out, "attachmentCount", x->attachment_count);
}

static int op_iam_create_policy(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iam_create_policy_input in = {arg(p, "name"), arg(p, "doc"), arg(p, "path"),
                                         arg(p, "description")};
    struct iam_policy x;
    int rc = iam_create_policy(p->c, &in, &x, err);
    put_iam_policy(out, &x);
    iam_policy_cleanup(&x);
    return rc;
}

static int op_iam_get_policy(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iam_policy x;
    int rc = iam_get_policy(p->c, arg(p, "arn"), &x, err);
    put_iam_policy(out, &x);
    iam_policy_cleanup(&x);
    return rc;
}

static int op_iam_delete_policy(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iam_delete_policy(p->c, arg(p, "arn"), err);
}

static void put_iam_version(json_t *out, const struct iam_policy_version *x)
{
    put_s(out, "versionId", x->version_id);
    put_s(out, "document", x->document);
    put_b(out, "isDefaultVersion", x->is_default_version);
}

static int op_iam_get_version(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iam_policy_version x;
    int rc = iam_get_policy_version(p->c, arg(p, "arn"), arg(p, "version"), &x, err);
    put_iam_version(out, &x);
    iam_policy_version_cleanup(&x);
    return rc;
}

static int op_iam_create_version(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iam_policy_version x;
    int rc = iam_create_policy_version(p->c, arg(p, "arn"), arg(p, "doc"), arg_int(p, "default", 0),
                                       &x, err);
    put_iam_version(out, &x);
    iam_policy_version_cleanup(&x);
    return rc;
}

static int op_iam_delete_version(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iam_delete_policy_version(p->c, arg(p, "arn"), arg(p, "version"), err);
}

static int op_iam_list_versions(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iam_policy_version_list x;
    int rc = iam_list_policy_versions(p->c, arg(p, "arn"), &x, err);
    json_t *items = json_array();
    for (size_t i = 0; i < x.n; i++) {
        json_t *o = json_object();
        put_iam_version(o, &x.items[i]);
        json_array_append_new(items, o);
    }
    json_object_set_new(out, "versions", items);
    iam_policy_version_list_cleanup(&x);
    return rc;
}

static int op_iam_attach(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iam_attach_role_policy(p->c, arg(p, "name"), arg(p, "arn"), err);
}

static int op_iam_detach(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iam_detach_role_policy(p->c, arg(p, "name"), arg(p, "arn"), err);
}

static int op_iam_list_attached(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iam_attached_policy_list x;
    int rc = iam_list_attached_role_policies(p->c, arg(p, "name"), &x, err);
    json_t *items = json_array();
    for (size_t i = 0; i < x.n; i++)
        json_array_append_new(items, json_pack("{s:s,s:s}", "policyName",
                                               x.items[i].policy_name ? x.items[i].policy_name : "",
                                               "policyArn",
                                               x.items[i].policy_arn ? x.items[i].policy_arn : ""));
    json_object_set_new(out, "attachedPolicies", items);
    iam_attached_policy_list_cleanup(&x);
    return rc;
}

/* ------------------------------------------------------------ IoT */

static void put_alias(json_t *out, const struct iot_role_alias *x)
{
    put_s(out, "roleAlias", x->role_alias);
    put_s(out, "roleAliasArn", x->role_alias_arn);
    put_s(out, "roleArn", x->role_arn);
    put_i(out, "credentialDurationSeconds", x->credential_duration_s);
}

static int op_iot_create_alias(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_role_alias x;
    int rc = iot_create_role_alias(p->c, arg(p, "alias"), arg(p, "role_arn"),
                                   arg_int(p, "duration", 0), &x, err);
    put_alias(out, &x);
    iot_role_alias_cleanup(&x);
    return rc;
}

static int op_iot_update_alias(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_role_alias x;
    int rc = iot_update_role_alias(p->c, arg(p, "alias"), arg(p, "role_arn"),
                                   arg_int(p, "duration", 0), &x, err);
    put_alias(out, &x);
    iot_role_alias_cleanup(&x);
    return rc;
}

static int op_iot_describe_alias(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_role_alias x;
    int rc = iot_describe_role_alias(p->c, arg(p, "alias"), &x, err);
    put_alias(out, &x);
    iot_role_alias_cleanup(&x);
    return rc;
}

static int op_iot_delete_alias(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_delete_role_alias(p->c, arg(p, "alias"), err);
}

static void put_iot_policy(json_t *out, const struct iot_policy *x)
{
    put_s(out, "policyName", x->policy_name);
    put_s(out, "policyArn", x->policy_arn);
    put_s(out, "policyDocument", x->policy_document);
    put_s(out, "defaultVersionId", x->default_version_id);
}

static int op_iot_create_policy(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_policy x;
    int rc = iot_create_policy(p->c, arg(p, "name"), arg(p, "doc"), &x, err);
    put_iot_policy(out, &x);
    iot_policy_cleanup(&x);
    return rc;
}

static int op_iot_get_policy(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_policy x;
    int rc = iot_get_policy(p->c, arg(p, "name"), &x, err);
    put_iot_policy(out, &x);
    iot_policy_cleanup(&x);
    return rc;
}

static int op_iot_delete_policy(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_delete_policy(p->c, arg(p, "name"), err);
}

static int op_iot_create_version(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_policy_version x;
    int rc = iot_create_policy_version(p->c, arg(p, "name"), arg(p, "doc"),
                                       arg_int(p, "default", 0), &x, err);
    put_s(out, "versionId", x.version_id);
    put_b(out, "isDefaultVersion", x.is_default_version);
    iot_policy_version_cleanup(&x);
    return rc;
}

static int op_iot_delete_version(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_delete_policy_version(p->c, arg(p, "name"), arg(p, "version"), err);
}

static int op_iot_list_versions(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_policy_version_list x;
    int rc = iot_list_policy_versions(p->c, arg(p, "name"), &x, err);
    json_t *items = json_array();
    for (size_t i = 0; i < x.n; i++)
        json_array_append_new(items, json_pack("{s:s,s:b}", "versionId",
                                               x.items[i].version_id ? x.items[i].version_id : "",
                                               "isDefaultVersion", x.items[i].is_default_version));
    json_object_set_new(out, "versions", items);
    iot_policy_version_list_cleanup(&x);
    return rc;
}

static int op_iot_attach(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_attach_policy(p->c, arg(p, "name"), arg(p, "target"), err);
}

static int op_iot_detach(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_detach_policy(p->c, arg(p, "name"), arg(p, "target"), err);
}

static json_t *strlist_json(const struct aws_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->items[i]));
    return a;
}

static int op_iot_targets(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct aws_strlist x;
    int rc = iot_list_targets_for_policy(p->c, arg(p, "name"), &x, err);
    json_object_set_new(out, "targets", strlist_json(&x));
    aws_strlist_cleanup(&x);
    return rc;
}

static void put_cert(json_t *out, const struct iot_certificate *x)
{
    put_s(out, "certificateId", x->certificate_id);
    put_s(out, "certificateArn", x->certificate_arn);
    put_b(out, "hasCertificatePem",
          x->certificate_pem && strstr(x->certificate_pem, "BEGIN CERTIFICATE"));
    put_s(out, "status", x->status);
    put_b(out, "hasPublicKey", x->public_key != 0);
    if (x->private_key) {
        size_t first = strcspn(x->private_key, "\n");
        json_object_set_new(out, "privateKeyFirstLine", json_stringn(x->private_key, first));
        put_i(out, "privateKeyLength", (long long)strlen(x->private_key));
    }
}

static int op_iot_create_keys(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_certificate x;
    int rc = iot_create_keys_and_certificate(p->c, arg_int(p, "active", 1), &x, err);
    put_cert(out, &x);
    iot_certificate_cleanup(&x);
    return rc;
}

static int op_iot_create_from_csr(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_certificate x;
    int rc = iot_create_certificate_from_csr(p->c, arg(p, "csr"), arg_int(p, "active", 1), &x, err);
    put_cert(out, &x);
    iot_certificate_cleanup(&x);
    return rc;
}

static int op_iot_describe_cert(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_certificate x;
    int rc = iot_describe_certificate(p->c, arg(p, "id"), &x, err);
    put_cert(out, &x);
    iot_certificate_cleanup(&x);
    return rc;
}

static int op_iot_update_cert(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_update_certificate(p->c, arg(p, "id"), arg(p, "status"), err);
}

static int op_iot_delete_cert(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_delete_certificate(p->c, arg(p, "id"), arg_int(p, "force", 0), err);
}

static int op_iot_list_certs(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_certificate_list x;
    const char *since = arg(p, "since");
    int rc = since ? iot_list_certificates_since(p->c, strtod(since, NULL), &x, err)
                   : iot_list_certificates(p->c, &x, err);
    json_t *items = json_array();
    for (size_t i = 0; i < x.n; i++) {
        json_t *o = json_object();
        put_cert(o, &x.items[i]);
        json_array_append_new(items, o);
    }
    json_object_set_new(out, "certificates", items);
    iot_certificate_list_cleanup(&x);
    return rc;
}

static void put_template(json_t *out, const struct iot_template *x)
{
    put_s(out, "templateName", x->template_name);
    put_s(out, "templateArn", x->template_arn);
    put_s(out, "description", x->description);
    put_s(out, "templateBody", x->template_body);
    put_s(out, "provisioningRoleArn", x->provisioning_role_arn);
    put_s(out, "type", x->type);
    put_s(out, "hookTargetArn", x->hook_target_arn);
    put_b(out, "enabled", x->enabled);
    put_i(out, "defaultVersionId", x->default_version_id);
}

static int op_iot_create_template(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_create_template_input in = {
        arg(p, "name"),           arg(p, "body"), arg(p, "role_arn"), arg(p, "description"),
        arg_int(p, "enabled", 1), arg(p, "type"), arg(p, "hook"),     0};
    struct iot_template x;
    int rc = iot_create_provisioning_template(p->c, &in, &x, err);
    put_template(out, &x);
    iot_template_cleanup(&x);
    return rc;
}

static int op_iot_describe_template(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_template x;
    int rc = iot_describe_provisioning_template(p->c, arg(p, "name"), &x, err);
    put_template(out, &x);
    iot_template_cleanup(&x);
    return rc;
}

static int op_iot_update_template(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    struct iot_update_template_input in = {arg(p, "name"),
                                           arg(p, "description"),
                                           arg_int(p, "enabled", -1),
                                           arg_int(p, "default_version", 0),
                                           arg(p, "role_arn"),
                                           arg(p, "hook"),
                                           0,
                                           arg_int(p, "remove_hook", 0)};
    return iot_update_provisioning_template(p->c, &in, err);
}

static int op_iot_delete_template(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_delete_provisioning_template(p->c, arg(p, "name"), err);
}

static int op_iot_list_templates(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_template_list x;
    int rc = iot_list_provisioning_templates(p->c, &x, err);
    json_t *items = json_array();
    for (size_t i = 0; i < x.n; i++) {
        json_t *o = json_object();
        put_template(o, &x.items[i]);
        json_array_append_new(items, o);
    }
    json_object_set_new(out, "templates", items);
    iot_template_list_cleanup(&x);
    return rc;
}

static int op_iot_create_template_version(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_template_version x;
    int rc = iot_create_provisioning_template_version(p->c, arg(p, "name"), arg(p, "body"),
                                                      arg_int(p, "default", 0), &x, err);
    put_i(out, "versionId", x.version_id);
    put_b(out, "isDefaultVersion", x.is_default_version);
    return rc;
}

static int op_iot_list_template_versions(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_template_version_list x;
    int rc = iot_list_provisioning_template_versions(p->c, arg(p, "name"), &x, err);
    json_t *items = json_array();
    for (size_t i = 0; i < x.n; i++)
        json_array_append_new(items, json_pack("{s:i,s:b}", "versionId", x.items[i].version_id,
                                               "isDefaultVersion", x.items[i].is_default_version));
    json_object_set_new(out, "versions", items);
    iot_template_version_list_cleanup(&x);
    return rc;
}

static int op_iot_delete_template_version(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_delete_provisioning_template_version(p->c, arg(p, "name"), arg_int(p, "version", 0),
                                                    err);
}

static void put_group(json_t *out, const struct iot_thing_group *x)
{
    put_s(out, "thingGroupName", x->thing_group_name);
    put_s(out, "thingGroupArn", x->thing_group_arn);
    put_s(out, "thingGroupId", x->thing_group_id);
    put_s(out, "description", x->description);
    put_s(out, "parentGroupName", x->parent_group_name);
}

static int op_iot_describe_group(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_thing_group x;
    int rc = iot_describe_thing_group(p->c, arg(p, "name"), &x, err);
    put_group(out, &x);
    iot_thing_group_cleanup(&x);
    return rc;
}

static int op_iot_create_group(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct iot_thing_group x;
    int rc = iot_create_thing_group(p->c, arg(p, "name"), arg(p, "parent"), arg(p, "description"),
                                    &x, err);
    put_group(out, &x);
    iot_thing_group_cleanup(&x);
    return rc;
}

static int op_iot_delete_group(struct probe *p, json_t *out, struct aws_api_error *err)
{
    (void)out;
    return iot_delete_thing_group(p->c, arg(p, "name"), arg_int(p, "expected_version", 0), err);
}

static int op_iot_list_things_in_group(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct aws_strlist x;
    int rc = iot_list_things_in_thing_group(p->c, arg(p, "name"), arg_int(p, "recursive", 0),
                                            (size_t)arg_int(p, "max", 0), &x, err);
    json_object_set_new(out, "things", strlist_json(&x));
    aws_strlist_cleanup(&x);
    return rc;
}

static int op_iot_describe_endpoint(struct probe *p, json_t *out, struct aws_api_error *err)
{
    char *address = 0;
    int rc = iot_describe_endpoint(p->c, arg(p, "type") ? arg(p, "type") : "iot:Data-ATS", &address,
                                   err);
    put_s(out, "endpointAddress", address);
    free(address);
    return rc;
}

/* ------------------------------------------------------------ CloudWatch */

/* queries=JSON array of {"id","namespace","metric","dims":{name:value},
 * "period","stat","expression","label"} (usually "@file"). */
struct cw_queries {
    json_t *doc;
    struct cw_metric_query *q;
    struct cw_dimension *dims;
    size_t n;
};

static void cw_queries_load(struct cw_queries *qs, const char *text)
{
    memset(qs, 0, sizeof *qs);
    qs->doc = json_loads(text ? text : "[]", 0, NULL);
    size_t n = json_array_size(qs->doc), ndims = 0, i;
    json_t *v;
    json_array_foreach(qs->doc, i, v) ndims += json_object_size(json_object_get(v, "dims"));
    qs->q = xcalloc(n ? n : 1, sizeof *qs->q);
    qs->dims = xcalloc(ndims ? ndims : 1, sizeof *qs->dims);
    size_t d = 0;
    json_array_foreach(qs->doc, i, v)
    {
        struct cw_metric_query *q = &qs->q[i];
        q->id = json_string_value(json_object_get(v, "id"));
        q->namespace_ = json_string_value(json_object_get(v, "namespace"));
        q->metric_name = json_string_value(json_object_get(v, "metric"));
        q->period_s = (int)json_integer_value(json_object_get(v, "period"));
        q->stat = json_string_value(json_object_get(v, "stat"));
        q->expression = json_string_value(json_object_get(v, "expression"));
        q->label = json_string_value(json_object_get(v, "label"));
        q->return_data = -1;
        q->dims = &qs->dims[d];
        const char *k;
        json_t *dv;
        json_object_foreach(json_object_get(v, "dims"), k, dv)
        {
            qs->dims[d].name = k;
            qs->dims[d++].value = json_string_value(dv);
            q->ndims++;
        }
    }
    qs->n = n;
}

static void cw_queries_free(struct cw_queries *qs)
{
    free(qs->q);
    free(qs->dims);
    json_decref(qs->doc);
}

static json_t *cw_result_json(const struct cw_metric_result *r)
{
    json_t *o = json_object();
    put_s(o, "id", r->id);
    put_s(o, "label", r->label);
    put_s(o, "statusCode", r->status_code);
    json_t *ts = json_array(), *vals = json_array();
    for (size_t j = 0; j < r->n; j++) {
        json_array_append_new(ts, json_real(r->timestamps[j]));
        json_array_append_new(vals, json_real(r->values[j]));
    }
    json_object_set_new(o, "timestamps", ts);
    json_object_set_new(o, "values", vals);
    return o;
}

static int op_cw_get_metric_data(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct cw_queries qs;
    cw_queries_load(&qs, arg(p, "queries"));
    time_t now = time(NULL);
    struct cw_get_metric_data_input in = {
        qs.q,
        qs.n,
        arg(p, "start") ? (time_t)strtoll(arg(p, "start"), 0, 10) : now - 3600,
        arg(p, "end") ? (time_t)strtoll(arg(p, "end"), 0, 10) : now,
        arg(p, "scan_by"),
        arg_int(p, "max_datapoints", 0)};
    struct cw_metric_data x;
    int rc = cw_get_metric_data(p->c, &in, &x, err);
    json_t *items = json_array();
    for (size_t i = 0; i < x.nresults; i++)
        json_array_append_new(items, cw_result_json(&x.results[i]));
    json_object_set_new(out, "results", items);
    put_i(out, "calls", x.calls);
    cw_metric_data_cleanup(&x);
    cw_queries_free(&qs);
    return rc;
}

static int op_cw_list_metrics(struct probe *p, json_t *out, struct aws_api_error *err)
{
    struct cw_dimension dim = {arg(p, "dim_name"), arg(p, "dim_value")};
    struct cw_list_metrics_input in = {arg(p, "namespace"), arg(p, "metric"), dim.name ? &dim : 0,
                                       dim.name ? 1 : 0, arg_int(p, "recently_active", 0)};
    struct cw_metric_list x;
    int rc = cw_list_metrics(p->c, &in, &x, err);
    json_t *items = json_array();
    for (size_t i = 0; i < x.n; i++) {
        json_t *o = json_object(), *dims = json_object();
        put_s(o, "namespace", x.items[i].namespace_);
        put_s(o, "metricName", x.items[i].metric_name);
        for (size_t j = 0; j < x.items[i].ndims; j++)
            put_s(dims, x.items[i].dims[j].name, x.items[i].dims[j].value);
        json_object_set_new(o, "dimensions", dims);
        json_array_append_new(items, o);
    }
    json_object_set_new(out, "metrics", items);
    cw_metric_list_cleanup(&x);
    return rc;
}

/* ------------------------------------------------------------ driver */

struct probe_op {
    const char *name;
    probe_op_fn *fn;
};

static const struct probe_op s_ops[] = {
    {"sts.get-caller-identity", op_sts_identity},
    {"sts.assume-role", op_sts_assume},
    {"sts.assume-role-with-web-identity", op_sts_webid},
    {"iam.create-role", op_iam_create_role},
    {"iam.get-role", op_iam_get_role},
    {"iam.delete-role", op_iam_delete_role},
    {"iam.update-assume-role-policy", op_iam_update_trust},
    {"iam.update-role-max-session", op_iam_update_role_max_session},
    {"iam.put-role-permissions-boundary", op_iam_put_boundary},
    {"iam.create-policy", op_iam_create_policy},
    {"iam.get-policy", op_iam_get_policy},
    {"iam.delete-policy", op_iam_delete_policy},
    {"iam.get-policy-version", op_iam_get_version},
    {"iam.create-policy-version", op_iam_create_version},
    {"iam.delete-policy-version", op_iam_delete_version},
    {"iam.list-policy-versions", op_iam_list_versions},
    {"iam.attach-role-policy", op_iam_attach},
    {"iam.detach-role-policy", op_iam_detach},
    {"iam.list-attached-role-policies", op_iam_list_attached},
    {"iot.create-role-alias", op_iot_create_alias},
    {"iot.describe-role-alias", op_iot_describe_alias},
    {"iot.update-role-alias", op_iot_update_alias},
    {"iot.delete-role-alias", op_iot_delete_alias},
    {"iot.create-policy", op_iot_create_policy},
    {"iot.get-policy", op_iot_get_policy},
    {"iot.delete-policy", op_iot_delete_policy},
    {"iot.create-policy-version", op_iot_create_version},
    {"iot.delete-policy-version", op_iot_delete_version},
    {"iot.list-policy-versions", op_iot_list_versions},
    {"iot.attach-policy", op_iot_attach},
    {"iot.detach-policy", op_iot_detach},
    {"iot.list-targets-for-policy", op_iot_targets},
    {"iot.create-keys-and-certificate", op_iot_create_keys},
    {"iot.create-certificate-from-csr", op_iot_create_from_csr},
    {"iot.describe-certificate", op_iot_describe_cert},
    {"iot.update-certificate", op_iot_update_cert},
    {"iot.delete-certificate", op_iot_delete_cert},
    {"iot.list-certificates", op_iot_list_certs},
    {"iot.create-provisioning-template", op_iot_create_template},
    {"iot.describe-provisioning-template", op_iot_describe_template},
    {"iot.update-provisioning-template", op_iot_update_template},
    {"iot.delete-provisioning-template", op_iot_delete_template},
    {"iot.list-provisioning-templates", op_iot_list_templates},
    {"iot.create-provisioning-template-version", op_iot_create_template_version},
    {"iot.list-provisioning-template-versions", op_iot_list_template_versions},
    {"iot.delete-provisioning-template-version", op_iot_delete_template_version},
    {"iot.describe-thing-group", op_iot_describe_group},
    {"iot.create-thing-group", op_iot_create_group},
    {"iot.delete-thing-group", op_iot_delete_group},
    {"iot.list-things-in-thing-group", op_iot_list_things_in_group},
    {"iot.describe-endpoint", op_iot_describe_endpoint},
    {"cloudwatch.get-metric-data", op_cw_get_metric_data},
    {"cloudwatch.list-metrics", op_cw_list_metrics},
};

static void probe_sleep(long ms, void *ud)
{
    struct probe *p = ud;
    json_array_append_new(p->sleeps, json_integer(ms));
    long sleep_ms = p->real_sleep ? ms : ms / 100;
    struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int make_client(struct probe *p, struct aws_http *http, struct aws_api_error *err)
{
    struct aws_client_options opt = {0};
    opt.region = arg(p, "region");
    opt.http = http;
    opt.sleep_fn = probe_sleep;
    opt.hooks_ud = p;
    return aws_client_new(&opt, &p->c, err);
}

static json_t *error_json(const struct aws_api_error *e)
{
    return json_pack("{s:i,s:s,s:s,s:b,s:s,s:s,s:s}", "httpStatus", e->http_status, "code", e->code,
                     "class", awserr_class_name(e->cls), "retryable", e->retryable, "message",
                     e->message, "requestId", e->request_id, "operation", e->operation);
}

static int run_op(struct probe *p, const struct probe_op *op, json_t *result)
{
    int repeat = arg_int(p, "repeat", 1), fresh = arg_int(p, "fresh", 0);
    struct aws_http_options hopt = {arg_int(p, "connect_timeout_ms", 0),
                                    arg_int(p, "timeout_ms", 0), (size_t)arg_int(p, "max_body", 0),
                                    0};
    struct aws_http *http = fresh ? 0 : aws_http_new(&hopt);
    struct aws_api_error err = {0};
    json_t *out = json_object();
    long connections = 0;
    int rc = 0, attempts = 0;
    for (int i = 0; i < repeat && !rc; i++) {
        json_object_clear(out);
        rc = p->c ? 0 : make_client(p, http, &err);
        if (!rc)
            rc = op->fn(p, out, &err);
        attempts = p->c ? aws_client_last_attempts(p->c) : 0;
        if (fresh && p->c) {
            connections += aws_http_connections(aws_client_http(p->c));
            aws_client_free(p->c);
            p->c = 0;
        }
    }
    if (!fresh && p->c)
        connections = aws_http_connections(http);
    json_object_set_new(result, "ok", json_boolean(rc == 0));
    json_object_set_new(result, "rc", json_string(fw_err_name(rc)));
    json_object_set_new(result, "attempts", json_integer(attempts));
    json_object_set_new(result, "connections", json_integer(connections));
    json_object_set_new(result, "out", out);
    if (rc)
        json_object_set_new(result, "error", error_json(&err));
    aws_client_free(p->c);
    p->c = 0;
    aws_http_free(http);
    return rc;
}

static int run_check(struct probe *p)
{
    char *text = 0;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int rc = aws_check_run(arg(p, "region"), mem);
    fclose(mem);
    json_t *result = json_pack("{s:b,s:s,s:s}", "ok", rc == 0, "rc", fw_err_name(rc), "text", text);
    char *s = json_dumps(result, JSON_COMPACT);
    puts(s);
    free(s);
    json_decref(result);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: aws-ops-probe OP [key=value ...]\n");
        return 2;
    }
    struct probe p = {0};
    if (parse_args(&p, argc - 2, argv + 2)) {
        fprintf(stderr, "aws-ops-probe: arguments are key=value (value @file reads a file)\n");
        return 2;
    }
    p.real_sleep = arg_int(&p, "real_sleep", 0);
    int rc = -1;
    if (strcmp(argv[1], "check") == 0) {
        rc = run_check(&p);
    } else {
        for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++) {
            if (strcmp(argv[1], s_ops[i].name) != 0)
                continue;
            p.sleeps = json_array();
            json_t *result = json_object();
            rc = run_op(&p, &s_ops[i], result);
            json_object_set_new(result, "sleeps", p.sleeps);
            char *s = json_dumps(result, JSON_COMPACT);
            puts(s);
            free(s);
            json_decref(result);
        }
    }
    for (int i = 0; i < p.argc; i++) {
        free(p.keys[i]);
        free(p.vals[i]);
    }
    if (rc == -1) {
        fprintf(stderr, "aws-ops-probe: unknown operation %s\n", argv[1]);
        return 2;
    }
    return rc ? 1 : 0;
}
