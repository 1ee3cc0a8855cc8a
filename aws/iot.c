/*
 * iot.c - AWS IoT control-plane operations over rest-json.
 *
 * Each function builds method + path (labels URI-encoded, so a policy name
 * with odd characters cannot change the path) + query + JSON body exactly
 * as botocore's iot/2015-05-28 model says, runs it through the client and
 * copies the answer's members into a typed struct. Lists page with
 * marker/nextMarker or nextToken to the end. The private key returned by
 * CreateKeysAndCertificate is wiped from every copy we make.
 */
#include "aws/iot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/awsjson.h"
#include "aws/client.h"
#include "service/core/mem.h"

typedef void(iot_read_fn)(const json_t *body, void *out);

static int run(struct aws_client *c, struct aws_call *call, iot_read_fn *read, void *out,
               struct aws_api_error *err)
{
    struct aws_reply r;
    int rc = aws_client_call(c, call, &r, err);
    if (!rc && read)
        read(r.json, out);
    aws_reply_cleanup(&r);
    aws_call_cleanup(call);
    return rc;
}

/* Starts a call whose path is prefix + one encoded label (+ suffix). */
static void init_labeled(struct aws_call *call, const char *op, const char *method,
                         const char *prefix, const char *label, const char *suffix)
{
    aws_call_init_rest(call, AWS_SVC_IOT, op, method);
    aws_call_path(call, prefix);
    aws_call_path_label(call, label);
    if (suffix)
        aws_call_path(call, suffix);
}

static int set_body(struct aws_call *call, json_t *body)
{
    int rc = aws_call_json(call, body);
    json_decref(body);
    return rc;
}

static void *grow(void *items, size_t n, size_t size)
{
    char *p = xrealloc(items, (n + 1) * size);
    memset(p + n * size, 0, size);
    return p;
}

/* ------------------------------------------------------------ role aliases */

static void read_alias_ids(const json_t *b, void *outp)
{
    struct iot_role_alias *out = outp;
    out->role_alias = awsjson_strdup(b, "roleAlias");
    out->role_alias_arn = awsjson_strdup(b, "roleAliasArn");
}

static void read_alias_description(const json_t *b, void *outp)
{
    struct iot_role_alias *out = outp;
    const json_t *d = json_object_get(b, "roleAliasDescription");
    read_alias_ids(d, out);
    out->role_arn = awsjson_strdup(d, "roleArn");
    out->owner = awsjson_strdup(d, "owner");
    out->credential_duration_s = (int)awsjson_int(d, "credentialDurationSeconds", 0);
    out->creation_date = awsjson_number(d, "creationDate");
    out->last_modified_date = awsjson_number(d, "lastModifiedDate");
}

static int alias_write(struct aws_client *c, const char *op, const char *method,
                       const char *role_alias, const char *role_arn, int duration_s,
                       struct iot_role_alias *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, op, method, "/role-aliases/", role_alias, 0);
    json_t *body = json_object();
    awsjson_set_str(body, "roleArn", role_arn);
    if (duration_s > 0)
        awsjson_set_int(body, "credentialDurationSeconds", duration_s);
    set_body(&call, body);
    return run(c, &call, read_alias_ids, out, err);
}

int iot_create_role_alias(struct aws_client *c, const char *role_alias, const char *role_arn,
                          int credential_duration_s, struct iot_role_alias *out,
                          struct aws_api_error *err)
{
    return alias_write(c, "CreateRoleAlias", "POST", role_alias, role_arn, credential_duration_s,
                       out, err);
}

int iot_update_role_alias(struct aws_client *c, const char *role_alias, const char *role_arn,
                          int credential_duration_s, struct iot_role_alias *out,
                          struct aws_api_error *err)
{
    return alias_write(c, "UpdateRoleAlias", "PUT", role_alias, role_arn, credential_duration_s,
                       out, err);
}

int iot_describe_role_alias(struct aws_client *c, const char *role_alias,
                            struct iot_role_alias *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "DescribeRoleAlias", "GET", "/role-aliases/", role_alias, 0);
    return run(c, &call, read_alias_description, out, err);
}

int iot_delete_role_alias(struct aws_client *c, const char *role_alias, struct aws_api_error *err)
{
    struct aws_call call;
    init_labeled(&call, "DeleteRoleAlias", "DELETE", "/role-aliases/", role_alias, 0);
    return run(c, &call, 0, 0, err);
}

void iot_role_alias_cleanup(struct iot_role_alias *x)
{
    if (!x)
        return;
    free(x->role_alias);
    free(x->role_alias_arn);
    free(x->role_arn);
    free(x->owner);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------ policies */

static void read_policy(const json_t *b, void *outp)
{
    struct iot_policy *out = outp;
    out->policy_name = awsjson_strdup(b, "policyName");
    out->policy_arn = awsjson_strdup(b, "policyArn");
    out->policy_document = awsjson_strdup(b, "policyDocument");
    out->default_version_id = awsjson_strdup(b, "defaultVersionId");
    if (!out->default_version_id)
        out->default_version_id = awsjson_strdup(b, "policyVersionId");
    out->generation_id = awsjson_strdup(b, "generationId");
    out->creation_date = awsjson_number(b, "creationDate");
    out->last_modified_date = awsjson_number(b, "lastModifiedDate");
}

int iot_create_policy(struct aws_client *c, const char *policy_name, const char *policy_document,
                      struct iot_policy *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "CreatePolicy", "POST", "/policies/", policy_name, 0);
    json_t *body = json_object();
    awsjson_set_str(body, "policyDocument", policy_document);
    set_body(&call, body);
    return run(c, &call, read_policy, out, err);
}

int iot_get_policy(struct aws_client *c, const char *policy_name, struct iot_policy *out,
                   struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "GetPolicy", "GET", "/policies/", policy_name, 0);
    return run(c, &call, read_policy, out, err);
}

/* After a DeleteConflictException, says what still holds the policy. Uses
 * its own error struct so the caller's error stays the conflict. */
static void explain_policy_conflict(struct aws_client *c, const char *policy_name,
                                    struct aws_api_error *err)
{
    struct aws_strlist targets = {0};
    struct iot_policy_version_list versions = {0};
    size_t non_default = 0;
    if (iot_list_policy_versions(c, policy_name, &versions, NULL) == 0)
        for (size_t i = 0; i < versions.n; i++)
            non_default += !versions.items[i].is_default_version;
    if (iot_list_targets_for_policy(c, policy_name, &targets, NULL) == 0 && targets.n)
        awserr_append(err, "still attached to %zu target(s), first %s; %zu non-default version(s)",
                      targets.n, targets.items[0], non_default);
    else
        awserr_append(err, "%zu non-default version(s)", non_default);
    aws_strlist_cleanup(&targets);
    iot_policy_version_list_cleanup(&versions);
}

int iot_delete_policy(struct aws_client *c, const char *policy_name, struct aws_api_error *err)
{
    struct aws_api_error local;
    if (!err)
        err = &local;
    struct aws_call call;
    init_labeled(&call, "DeletePolicy", "DELETE", "/policies/", policy_name, 0);
    int rc = run(c, &call, 0, 0, err);
    if (rc && strcmp(err->code, "DeleteConflictException") == 0)
        explain_policy_conflict(c, policy_name, err);
    return rc;
}

static void read_version(const json_t *b, void *outp)
{
    struct iot_policy_version *out = outp;
    out->version_id = awsjson_strdup(b, "policyVersionId");
    if (!out->version_id)
        out->version_id = awsjson_strdup(b, "versionId");
    out->policy_document = awsjson_strdup(b, "policyDocument");
    out->is_default_version = awsjson_bool(b, "isDefaultVersion", 0);
    out->create_date = awsjson_number(b, "createDate");
}

int iot_create_policy_version(struct aws_client *c, const char *policy_name,
                              const char *policy_document, int set_as_default,
                              struct iot_policy_version *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "CreatePolicyVersion", "POST", "/policies/", policy_name, "/version");
    if (set_as_default)
        aws_call_qs(&call, "setAsDefault", "true");
    json_t *body = json_object();
    awsjson_set_str(body, "policyDocument", policy_document);
    set_body(&call, body);
    return run(c, &call, read_version, out, err);
}

int iot_delete_policy_version(struct aws_client *c, const char *policy_name, const char *version_id,
                              struct aws_api_error *err)
{
    struct aws_call call;
    init_labeled(&call, "DeletePolicyVersion", "DELETE", "/policies/", policy_name, "/version/");
    aws_call_path_label(&call, version_id);
    return run(c, &call, 0, 0, err);
}

static void read_versions(const json_t *b, void *outp)
{
    struct iot_policy_version_list *out = outp;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "policyVersions"), i, v)
    {
        out->items = grow(out->items, out->n, sizeof *out->items);
        read_version(v, &out->items[out->n++]);
    }
}

int iot_list_policy_versions(struct aws_client *c, const char *policy_name,
                             struct iot_policy_version_list *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "ListPolicyVersions", "GET", "/policies/", policy_name, "/version");
    int rc = run(c, &call, read_versions, out, err);
    if (rc)
        iot_policy_version_list_cleanup(out);
    return rc;
}

static int target_call(struct aws_client *c, const char *op, const char *method,
                       const char *policy_name, const char *target, struct aws_api_error *err)
{
    struct aws_call call;
    init_labeled(&call, op, method, "/target-policies/", policy_name, 0);
    json_t *body = json_object();
    awsjson_set_str(body, "target", target);
    set_body(&call, body);
    return run(c, &call, 0, 0, err);
}

int iot_attach_policy(struct aws_client *c, const char *policy_name, const char *target,
                      struct aws_api_error *err)
{
    return target_call(c, "AttachPolicy", "PUT", policy_name, target, err);
}

int iot_detach_policy(struct aws_client *c, const char *policy_name, const char *target,
                      struct aws_api_error *err)
{
    return target_call(c, "DetachPolicy", "POST", policy_name, target, err);
}

/* Paging state shared by the list operations. */
struct page {
    const char *token_out; /* "nextMarker" or "nextToken" */
    iot_read_fn *add;      /* appends one page's items */
    void *out;
    char *next;         /* the next page's token, or NULL */
    const size_t *have; /* optional: items so far ... */
    size_t max;         /* ... and the count that ends paging early */
};

static void read_page(const json_t *b, void *pp)
{
    struct page *pg = pp;
    pg->add(b, pg->out);
    const char *next = json_string_value(json_object_get(b, pg->token_out));
    int enough = pg->have && pg->max && *pg->have >= pg->max;
    pg->next = (next && *next && !enough) ? xstrdup(next) : 0;
}

/* start(call, token) builds one page's call; runs pages to the end. */
typedef void(iot_page_start_fn)(struct aws_call *call, const char *token, const void *arg);

static int list_all(struct aws_client *c, iot_page_start_fn *start, const void *arg,
                    struct page *pg, struct aws_api_error *err)
{
    char *token = 0;
    int rc = 0;
    do {
        struct aws_call call;
        start(&call, token, arg);
        pg->next = 0;
        rc = run(c, &call, read_page, pg, err);
        free(token);
        token = rc ? 0 : pg->next;
    } while (!rc && token);
    return rc;
}

static void add_targets(const json_t *b, void *outp)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "targets"), i, v)
        aws_strlist_push(outp, json_string_value(v));
}

static void start_targets(struct aws_call *call, const char *token, const void *policy_name)
{
    init_labeled(call, "ListTargetsForPolicy", "POST", "/policy-targets/", policy_name, 0);
    aws_call_qs(call, "marker", token);
    aws_call_qs(call, "pageSize", "250");
}

int iot_list_targets_for_policy(struct aws_client *c, const char *policy_name,
                                struct aws_strlist *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct page pg = {"nextMarker", add_targets, out, 0, 0, 0};
    int rc = list_all(c, start_targets, policy_name, &pg, err);
    if (rc)
        aws_strlist_cleanup(out);
    return rc;
}

void iot_policy_cleanup(struct iot_policy *x)
{
    if (!x)
        return;
    free(x->policy_name);
    free(x->policy_arn);
    free(x->policy_document);
    free(x->default_version_id);
    free(x->generation_id);
    memset(x, 0, sizeof *x);
}

void iot_policy_version_cleanup(struct iot_policy_version *x)
{
    if (!x)
        return;
    free(x->version_id);
    free(x->policy_document);
    memset(x, 0, sizeof *x);
}

void iot_policy_version_list_cleanup(struct iot_policy_version_list *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        iot_policy_version_cleanup(&x->items[i]);
    free(x->items);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------ certificates */

static void read_cert_fields(const json_t *d, struct iot_certificate *out)
{
    out->certificate_id = awsjson_strdup(d, "certificateId");
    out->certificate_arn = awsjson_strdup(d, "certificateArn");
    out->certificate_pem = awsjson_strdup(d, "certificatePem");
    out->status = awsjson_strdup(d, "status");
    out->ca_certificate_id = awsjson_strdup(d, "caCertificateId");
    out->owned_by = awsjson_strdup(d, "ownedBy");
    out->certificate_mode = awsjson_strdup(d, "certificateMode");
    out->creation_date = awsjson_number(d, "creationDate");
    out->last_modified_date = awsjson_number(d, "lastModifiedDate");
}

static void read_cert(const json_t *b, void *out)
{
    read_cert_fields(b, out);
}

/* Copies the key pair out of the answer, then wipes the answer's copy of the
 * private key before jansson frees it. */
static void read_keys_and_cert(const json_t *b, void *outp)
{
    struct iot_certificate *out = outp;
    read_cert_fields(b, out);
    json_t *kp = json_object_get(b, "keyPair");
    out->public_key = awsjson_strdup(kp, "PublicKey");
    json_t *pk = json_object_get(kp, "PrivateKey");
    if (json_is_string(pk)) {
        out->private_key = xstrdup(json_string_value(pk));
        xwipe((char *)json_string_value(pk), json_string_length(pk));
    }
}

static void read_cert_description(const json_t *b, void *out)
{
    read_cert_fields(json_object_get(b, "certificateDescription"), out);
}

int iot_create_keys_and_certificate(struct aws_client *c, int set_as_active,
                                    struct iot_certificate *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_rest(&call, AWS_SVC_IOT, "CreateKeysAndCertificate", "POST");
    aws_call_path(&call, "/keys-and-certificate");
    aws_call_qs(&call, "setAsActive", set_as_active ? "true" : "false");
    return run(c, &call, read_keys_and_cert, out, err);
}

int iot_create_certificate_from_csr(struct aws_client *c, const char *csr_pem, int set_as_active,
                                    struct iot_certificate *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_rest(&call, AWS_SVC_IOT, "CreateCertificateFromCsr", "POST");
    aws_call_path(&call, "/certificates");
    aws_call_qs(&call, "setAsActive", set_as_active ? "true" : "false");
    json_t *body = json_object();
    awsjson_set_str(body, "certificateSigningRequest", csr_pem);
    set_body(&call, body);
    return run(c, &call, read_cert, out, err);
}

int iot_describe_certificate(struct aws_client *c, const char *certificate_id,
                             struct iot_certificate *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "DescribeCertificate", "GET", "/certificates/", certificate_id, 0);
    return run(c, &call, read_cert_description, out, err);
}

int iot_update_certificate(struct aws_client *c, const char *certificate_id, const char *new_status,
                           struct aws_api_error *err)
{
    struct aws_call call;
    init_labeled(&call, "UpdateCertificate", "PUT", "/certificates/", certificate_id, 0);
    aws_call_qs(&call, "newStatus", new_status);
    return run(c, &call, 0, 0, err);
}

int iot_delete_certificate(struct aws_client *c, const char *certificate_id, int force_delete,
                           struct aws_api_error *err)
{
    struct aws_call call;
    init_labeled(&call, "DeleteCertificate", "DELETE", "/certificates/", certificate_id, 0);
    if (force_delete)
        aws_call_qs(&call, "forceDelete", "true");
    return run(c, &call, 0, 0, err);
}

static void add_certs(const json_t *b, void *outp)
{
    struct iot_certificate_list *out = outp;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "certificates"), i, v)
    {
        out->items = grow(out->items, out->n, sizeof *out->items);
        read_cert_fields(v, &out->items[out->n++]);
    }
}

static void start_certs(struct aws_call *call, const char *token, const void *arg)
{
    (void)arg;
    aws_call_init_rest(call, AWS_SVC_IOT, "ListCertificates", "GET");
    aws_call_path(call, "/certificates");
    aws_call_qs(call, "marker", token);
    aws_call_qs(call, "pageSize", "250");
}

int iot_list_certificates(struct aws_client *c, struct iot_certificate_list *out,
                          struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct page pg = {"nextMarker", add_certs, out, 0, 0, 0};
    int rc = list_all(c, start_certs, 0, &pg, err);
    if (rc)
        iot_certificate_list_cleanup(out);
    return rc;
}

/* Newest first, only those created at or after since; paging stops at the
 * first page that reaches older ones. */
struct certs_since {
    struct iot_certificate_list *out;
    double since;
    size_t older; /* 1 once an older certificate was seen: the last page */
};

static void add_certs_since(const json_t *b, void *arg)
{
    struct certs_since *cs = arg;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "certificates"), i, v)
    {
        if (json_number_value(json_object_get(v, "creationDate")) < cs->since) {
            cs->older = 1;
            continue;
        }
        cs->out->items = grow(cs->out->items, cs->out->n, sizeof *cs->out->items);
        read_cert_fields(v, &cs->out->items[cs->out->n++]);
    }
}

/* The parameter is isAscendingOrder: AWS ignores an unknown one (such as
 * ascendingOrder) and answers the oldest first. */
static void start_certs_newest(struct aws_call *call, const char *token, const void *arg)
{
    (void)arg;
    start_certs(call, token, 0);
    aws_call_qs(call, "isAscendingOrder", "false");
}

int iot_list_certificates_since(struct aws_client *c, double since_s,
                                struct iot_certificate_list *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct certs_since cs = {out, since_s, 0};
    struct page pg = {"nextMarker", add_certs_since, &cs, 0, &cs.older, 1};
    int rc = list_all(c, start_certs_newest, 0, &pg, err);
    if (rc)
        iot_certificate_list_cleanup(out);
    return rc;
}

void iot_certificate_cleanup(struct iot_certificate *x)
{
    if (!x)
        return;
    free(x->certificate_id);
    free(x->certificate_arn);
    free(x->certificate_pem);
    free(x->status);
    free(x->ca_certificate_id);
    free(x->owned_by);
    free(x->certificate_mode);
    free(x->public_key);
    xfree_secret(x->private_key);
    memset(x, 0, sizeof *x);
}

void iot_certificate_list_cleanup(struct iot_certificate_list *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        iot_certificate_cleanup(&x->items[i]);
    free(x->items);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------ templates */

static void read_template_fields(const json_t *b, struct iot_template *out)
{
    out->template_name = awsjson_strdup(b, "templateName");
    out->template_arn = awsjson_strdup(b, "templateArn");
    out->description = awsjson_strdup(b, "description");
    out->template_body = awsjson_strdup(b, "templateBody");
    out->provisioning_role_arn = awsjson_strdup(b, "provisioningRoleArn");
    out->type = awsjson_strdup(b, "type");
    const json_t *hook = json_object_get(b, "preProvisioningHook");
    out->hook_target_arn = awsjson_strdup(hook, "targetArn");
    out->hook_payload_version = awsjson_strdup(hook, "payloadVersion");
    out->enabled = awsjson_bool(b, "enabled", 0);
    out->default_version_id = (int)awsjson_int(b, "defaultVersionId", 0);
    out->creation_date = awsjson_number(b, "creationDate");
    out->last_modified_date = awsjson_number(b, "lastModifiedDate");
}

static void read_template(const json_t *b, void *out)
{
    read_template_fields(b, out);
}

static json_t *hook_json(const char *target_arn, const char *payload_version)
{
    json_t *hook = json_object();
    awsjson_set_str(hook, "targetArn", target_arn);
    awsjson_set_str(hook, "payloadVersion", payload_version ? payload_version : "2020-04-01");
    return hook;
}

int iot_create_provisioning_template(struct aws_client *c,
                                     const struct iot_create_template_input *in,
                                     struct iot_template *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_rest(&call, AWS_SVC_IOT, "CreateProvisioningTemplate", "POST");
    aws_call_path(&call, "/provisioning-templates");
    json_t *body = json_object();
    awsjson_set_str(body, "templateName", in->template_name);
    awsjson_set_str(body, "description", in->description);
    awsjson_set_str(body, "templateBody", in->template_body);
    awsjson_set_bool(body, "enabled", in->enabled);
    awsjson_set_str(body, "provisioningRoleArn", in->provisioning_role_arn);
    awsjson_set_str(body, "type", in->type);
    if (in->hook_target_arn)
        json_object_set_new(body, "preProvisioningHook",
                            hook_json(in->hook_target_arn, in->hook_payload_version));
    set_body(&call, body);
    return run(c, &call, read_template, out, err);
}

int iot_describe_provisioning_template(struct aws_client *c, const char *template_name,
                                       struct iot_template *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "DescribeProvisioningTemplate", "GET", "/provisioning-templates/",
                 template_name, 0);
    return run(c, &call, read_template, out, err);
}

int iot_update_provisioning_template(struct aws_client *c,
                                     const struct iot_update_template_input *in,
                                     struct aws_api_error *err)
{
    struct aws_call call;
    init_labeled(&call, "UpdateProvisioningTemplate", "PATCH", "/provisioning-templates/",
                 in->template_name, 0);
    json_t *body = json_object();
    awsjson_set_str(body, "description", in->description);
    if (in->enabled >= 0)
        awsjson_set_bool(body, "enabled", in->enabled);
    if (in->default_version_id > 0)
        awsjson_set_int(body, "defaultVersionId", in->default_version_id);
    awsjson_set_str(body, "provisioningRoleArn", in->provisioning_role_arn);
    if (in->hook_target_arn)
        json_object_set_new(body, "preProvisioningHook",
                            hook_json(in->hook_target_arn, in->hook_payload_version));
    if (in->remove_hook)
        awsjson_set_bool(body, "removePreProvisioningHook", 1);
    set_body(&call, body);
    return run(c, &call, 0, 0, err);
}

int iot_delete_provisioning_template(struct aws_client *c, const char *template_name,
                                     struct aws_api_error *err)
{
    struct aws_call call;
    init_labeled(&call, "DeleteProvisioningTemplate", "DELETE", "/provisioning-templates/",
                 template_name, 0);
    return run(c, &call, 0, 0, err);
}

static void add_templates(const json_t *b, void *outp)
{
    struct iot_template_list *out = outp;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "templates"), i, v)
    {
        out->items = grow(out->items, out->n, sizeof *out->items);
        read_template_fields(v, &out->items[out->n++]);
    }
}

static void start_templates(struct aws_call *call, const char *token, const void *arg)
{
    (void)arg;
    aws_call_init_rest(call, AWS_SVC_IOT, "ListProvisioningTemplates", "GET");
    aws_call_path(call, "/provisioning-templates");
    aws_call_qs(call, "maxResults", "250");
    aws_call_qs(call, "nextToken", token);
}

int iot_list_provisioning_templates(struct aws_client *c, struct iot_template_list *out,
                                    struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct page pg = {"nextToken", add_templates, out, 0, 0, 0};
    int rc = list_all(c, start_templates, 0, &pg, err);
    if (rc)
        iot_template_list_cleanup(out);
    return rc;
}

static void read_template_version(const json_t *b, void *outp)
{
    struct iot_template_version *out = outp;
    out->version_id = (int)awsjson_int(b, "versionId", 0);
    out->is_default_version = awsjson_bool(b, "isDefaultVersion", 0);
    out->creation_date = awsjson_number(b, "creationDate");
}

int iot_create_provisioning_template_version(struct aws_client *c, const char *template_name,
                                             const char *template_body, int set_as_default,
                                             struct iot_template_version *out,
                                             struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "CreateProvisioningTemplateVersion", "POST", "/provisioning-templates/",
                 template_name, "/versions");
    if (set_as_default)
        aws_call_qs(&call, "setAsDefault", "true");
    json_t *body = json_object();
    awsjson_set_str(body, "templateBody", template_body);
    set_body(&call, body);
    return run(c, &call, read_template_version, out, err);
}

static void add_template_versions(const json_t *b, void *outp)
{
    struct iot_template_version_list *out = outp;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "versions"), i, v)
    {
        out->items = grow(out->items, out->n, sizeof *out->items);
        read_template_version(v, &out->items[out->n++]);
    }
}

static void start_template_versions(struct aws_call *call, const char *token, const void *name)
{
    init_labeled(call, "ListProvisioningTemplateVersions", "GET", "/provisioning-templates/", name,
                 "/versions");
    aws_call_qs(call, "maxResults", "250");
    aws_call_qs(call, "nextToken", token);
}

int iot_list_provisioning_template_versions(struct aws_client *c, const char *template_name,
                                            struct iot_template_version_list *out,
                                            struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct page pg = {"nextToken", add_template_versions, out, 0, 0, 0};
    int rc = list_all(c, start_template_versions, template_name, &pg, err);
    if (rc)
        iot_template_version_list_cleanup(out);
    return rc;
}

static void read_template_version_body(const json_t *b, void *outp)
{
    struct iot_template_version *out = outp;
    read_template_version(b, out);
    out->template_body = awsjson_strdup(b, "templateBody");
}

/* A call on /provisioning-templates/NAME/versions/ID (the path is encoded into the call). */
static void init_version(struct aws_call *call, const char *op, const char *method,
                         const char *template_name, int version_id)
{
    char id[16];
    snprintf(id, sizeof id, "%d", version_id);
    init_labeled(call, op, method, "/provisioning-templates/", template_name, "/versions/");
    aws_call_path_label(call, id);
}

int iot_describe_provisioning_template_version(struct aws_client *c, const char *template_name,
                                               int version_id, struct iot_template_version *out,
                                               struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_version(&call, "DescribeProvisioningTemplateVersion", "GET", template_name, version_id);
    return run(c, &call, read_template_version_body, out, err);
}

int iot_delete_provisioning_template_version(struct aws_client *c, const char *template_name,
                                             int version_id, struct aws_api_error *err)
{
    struct aws_call call;
    init_version(&call, "DeleteProvisioningTemplateVersion", "DELETE", template_name, version_id);
    return run(c, &call, 0, 0, err);
}

void iot_template_cleanup(struct iot_template *x)
{
    if (!x)
        return;
    free(x->template_name);
    free(x->template_arn);
    free(x->description);
    free(x->template_body);
    free(x->provisioning_role_arn);
    free(x->type);
    free(x->hook_target_arn);
    free(x->hook_payload_version);
    memset(x, 0, sizeof *x);
}

void iot_template_list_cleanup(struct iot_template_list *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        iot_template_cleanup(&x->items[i]);
    free(x->items);
    memset(x, 0, sizeof *x);
}

void iot_template_version_cleanup(struct iot_template_version *x)
{
    if (!x)
        return;
    free(x->template_body);
    memset(x, 0, sizeof *x);
}

void iot_template_version_list_cleanup(struct iot_template_version_list *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        iot_template_version_cleanup(&x->items[i]);
    free(x->items);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------ thing groups */

static void read_group(const json_t *b, void *outp)
{
    struct iot_thing_group *out = outp;
    out->thing_group_name = awsjson_strdup(b, "thingGroupName");
    out->thing_group_arn = awsjson_strdup(b, "thingGroupArn");
    out->thing_group_id = awsjson_strdup(b, "thingGroupId");
    out->description =
        awsjson_strdup(json_object_get(b, "thingGroupProperties"), "thingGroupDescription");
    out->parent_group_name =
        awsjson_strdup(json_object_get(b, "thingGroupMetadata"), "parentGroupName");
    out->version = awsjson_int(b, "version", 0);
}

int iot_describe_thing_group(struct aws_client *c, const char *name, struct iot_thing_group *out,
                             struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "DescribeThingGroup", "GET", "/thing-groups/", name, 0);
    return run(c, &call, read_group, out, err);
}

int iot_create_thing_group(struct aws_client *c, const char *name, const char *parent,
                           const char *description, struct iot_thing_group *out,
                           struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    init_labeled(&call, "CreateThingGroup", "POST", "/thing-groups/", name, 0);
    json_t *body = json_object();
    awsjson_set_str(body, "parentGroupName", parent);
    if (description) {
        json_t *props = json_object();
        awsjson_set_str(props, "thingGroupDescription", description);
        json_object_set_new(body, "thingGroupProperties", props);
    }
    set_body(&call, body);
    return run(c, &call, read_group, out, err);
}

int iot_delete_thing_group(struct aws_client *c, const char *name, long long expected_version,
                           struct aws_api_error *err)
{
    struct aws_call call;
    init_labeled(&call, "DeleteThingGroup", "DELETE", "/thing-groups/", name, 0);
    if (expected_version > 0) {
        char v[24];
        snprintf(v, sizeof v, "%lld", expected_version);
        aws_call_qs(&call, "expectedVersion", v);
    }
    return run(c, &call, 0, 0, err);
}

static void add_things(const json_t *b, void *outp)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "things"), i, v)
        aws_strlist_push(outp, json_string_value(v));
}

struct things_arg {
    const char *name;
    int recursive;
};

static void start_things(struct aws_call *call, const char *token, const void *argp)
{
    const struct things_arg *a = argp;
    init_labeled(call, "ListThingsInThingGroup", "GET", "/thing-groups/", a->name, "/things");
    if (a->recursive)
        aws_call_qs(call, "recursive", "true");
    aws_call_qs(call, "nextToken", token);
    aws_call_qs(call, "maxResults", "250");
}

int iot_list_things_in_thing_group(struct aws_client *c, const char *name, int recursive,
                                   size_t max_items, struct aws_strlist *out,
                                   struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct things_arg a = {name, recursive};
    struct page pg = {"nextToken", add_things, out, 0, &out->n, max_items};
    int rc = list_all(c, start_things, &a, &pg, err);
    if (rc)
        aws_strlist_cleanup(out);
    return rc;
}

void iot_thing_group_cleanup(struct iot_thing_group *x)
{
    if (!x)
        return;
    free(x->thing_group_name);
    free(x->thing_group_arn);
    free(x->thing_group_id);
    free(x->description);
    free(x->parent_group_name);
    memset(x, 0, sizeof *x);
}

/* ------------------------------------------------------------ endpoints */

static void read_endpoint(const json_t *b, void *out)
{
    *(char **)out = awsjson_strdup(b, "endpointAddress");
}

int iot_describe_endpoint(struct aws_client *c, const char *endpoint_type, char **address,
                          struct aws_api_error *err)
{
    *address = 0;
    struct aws_call call;
    aws_call_init_rest(&call, AWS_SVC_IOT, "DescribeEndpoint", "GET");
    aws_call_path(&call, "/endpoint");
    aws_call_qs(&call, "endpointType", endpoint_type);
    return run(c, &call, read_endpoint, address, err);
}
