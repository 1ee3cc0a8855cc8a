/*
 * iot.h - the AWS IoT control-plane operations fleetwarden uses
 * (rest-json, 2015-05-28; signing name iot).
 *
 * Every function: 0, or a negative FW_E* (awserr_to_fw) with err filled
 * when err is not NULL: ResourceNotFoundException -> FW_ENOTFOUND;
 * ResourceAlreadyExists, DeleteConflict, CertificateState,
 * VersionConflict -> FW_ECONFLICT; VersionsLimitExceeded -> FW_ECONFLICT with cls
 * AWS_ERRC_LIMIT; ThrottlingException (HTTP 400) is retried by the client
 * and, when attempts run out, gives FW_ETHROTTLED. Outputs are zeroed first
 * and own their strings; free with the matching _cleanup (safe on zeroed
 * structs). List functions page to the end. Path labels are URI-encoded.
 */
#ifndef FW_AWS_IOT_H
#define FW_AWS_IOT_H

#include <stddef.h>

#include "aws/awserr.h"

struct aws_client;
struct aws_strlist;

/* ---- role aliases ---- */

struct iot_role_alias {
    char *role_alias;
    char *role_alias_arn;
    char *role_arn;            /* describe only */
    char *owner;               /* describe only */
    int credential_duration_s; /* describe only */
    double creation_date;      /* epoch seconds; describe only */
    double last_modified_date;
};

/* credential_duration_s: 0 = AWS default (3600); 900..43200. */
int iot_create_role_alias(struct aws_client *c, const char *role_alias, const char *role_arn,
                          int credential_duration_s, struct iot_role_alias *out,
                          struct aws_api_error *err);
int iot_describe_role_alias(struct aws_client *c, const char *role_alias,
                            struct iot_role_alias *out, struct aws_api_error *err);
/* role_arn NULL and credential_duration_s 0 leave those unchanged. */
int iot_update_role_alias(struct aws_client *c, const char *role_alias, const char *role_arn,
                          int credential_duration_s, struct iot_role_alias *out,
                          struct aws_api_error *err);
int iot_delete_role_alias(struct aws_client *c, const char *role_alias, struct aws_api_error *err);
void iot_role_alias_cleanup(struct iot_role_alias *x);

/* ---- policies ---- */

struct iot_policy {
    char *policy_name;
    char *policy_arn;
    char *policy_document;
    char *default_version_id; /* create: the first version id */
    char *generation_id;      /* get only */
    double creation_date;     /* get only */
    double last_modified_date;
};

struct iot_policy_version {
    char *version_id;
    char *policy_document; /* create only */
    int is_default_version;
    double create_date; /* list only */
};

struct iot_policy_version_list {
    struct iot_policy_version *items;
    size_t n;
};

int iot_create_policy(struct aws_client *c, const char *policy_name, const char *policy_document,
                      struct iot_policy *out, struct aws_api_error *err);
int iot_get_policy(struct aws_client *c, const char *policy_name, struct iot_policy *out,
                   struct aws_api_error *err);
/* On DeleteConflictException the message lists what is still attached. */
int iot_delete_policy(struct aws_client *c, const char *policy_name, struct aws_api_error *err);
int iot_create_policy_version(struct aws_client *c, const char *policy_name,
                              const char *policy_document, int set_as_default,
                              struct iot_policy_version *out, struct aws_api_error *err);
int iot_delete_policy_version(struct aws_client *c, const char *policy_name, const char *version_id,
                              struct aws_api_error *err);
int iot_list_policy_versions(struct aws_client *c, const char *policy_name,
                             struct iot_policy_version_list *out, struct aws_api_error *err);
/* target: a certificate ARN (or thing group ARN, Cognito id). */
int iot_attach_policy(struct aws_client *c, const char *policy_name, const char *target,
                      struct aws_api_error *err);
int iot_detach_policy(struct aws_client *c, const char *policy_name, const char *target,
                      struct aws_api_error *err);
/* out: the target ARNs; free with aws_strlist_cleanup (client.h). */
int iot_list_targets_for_policy(struct aws_client *c, const char *policy_name,
                                struct aws_strlist *out, struct aws_api_error *err);
void iot_policy_cleanup(struct iot_policy *x);
void iot_policy_version_cleanup(struct iot_policy_version *x);
void iot_policy_version_list_cleanup(struct iot_policy_version_list *x);

/* ---- certificates ---- */

struct iot_certificate {
    char *certificate_id;
    char *certificate_arn;
    char *certificate_pem;     /* create, describe */
    char *status;              /* "ACTIVE", "INACTIVE", ...; describe, list */
    char *ca_certificate_id;   /* describe */
    char *owned_by;            /* describe */
    char *certificate_mode;    /* describe, list */
    double creation_date;      /* describe, list */
    double last_modified_date; /* describe */
    char *public_key;          /* CreateKeysAndCertificate only */
    char *private_key;         /* CreateKeysAndCertificate only: a SECRET,
                                * wiped on cleanup, never logged */
};

struct iot_certificate_list {
    struct iot_certificate *items;
    size_t n;
};

int iot_create_keys_and_certificate(struct aws_client *c, int set_as_active,
                                    struct iot_certificate *out, struct aws_api_error *err);
int iot_create_certificate_from_csr(struct aws_client *c, const char *csr_pem, int set_as_active,
                                    struct iot_certificate *out, struct aws_api_error *err);
int iot_describe_certificate(struct aws_client *c, const char *certificate_id,
                             struct iot_certificate *out, struct aws_api_error *err);
/* new_status: "ACTIVE", "INACTIVE" or "REVOKED". Idempotent at AWS. */
int iot_update_certificate(struct aws_client *c, const char *certificate_id, const char *new_status,
                           struct aws_api_error *err);
/* The certificate must be INACTIVE (CertificateStateException otherwise). */
int iot_delete_certificate(struct aws_client *c, const char *certificate_id, int force_delete,
                           struct aws_api_error *err);
int iot_list_certificates(struct aws_client *c, struct iot_certificate_list *out,
                          struct aws_api_error *err);
/* The certificates created at or after since_s (epoch s), newest first
 * (isAscendingOrder=false), reading pages only until one reaches an older
 * certificate, so the cost does not grow with the account's older ones. */
int iot_list_certificates_since(struct aws_client *c, double since_s,
                                struct iot_certificate_list *out, struct aws_api_error *err);
void iot_certificate_cleanup(struct iot_certificate *x);
void iot_certificate_list_cleanup(struct iot_certificate_list *x);

/* ---- provisioning templates ---- */

struct iot_template {
    char *template_name;
    char *template_arn;
    char *description;
    char *template_body;         /* describe only */
    char *provisioning_role_arn; /* describe only */
    char *type;                  /* "FLEET_PROVISIONING" or "JITP" */
    char *hook_target_arn;       /* pre-provisioning hook; describe only */
    char *hook_payload_version;
    int enabled;
    int default_version_id; /* create, describe */
    double creation_date;
    double last_modified_date;
};

struct iot_template_list {
    struct iot_template *items; /* summaries: no body, role or hook */
    size_t n;
};

struct iot_template_version {
    int version_id;
    int is_default_version;
    double creation_date; /* list only */
    char *template_body;  /* describe only (iot_template_version_cleanup) */
};

struct iot_template_version_list {
    struct iot_template_version *items;
    size_t n;
};

struct iot_create_template_input {
    const char *template_name;         /* required, 1-36 [0-9A-Za-z_-] */
    const char *template_body;         /* required, JSON, <= 10240 chars */
    const char *provisioning_role_arn; /* required */
    const char *description;           /* optional */
    int enabled;
    const char *type;                 /* NULL = AWS default (FLEET_PROVISIONING) */
    const char *hook_target_arn;      /* optional Lambda ARN */
    const char *hook_payload_version; /* NULL = "2020-04-01" when a hook is set */
};

struct iot_update_template_input {
    const char *template_name;         /* required */
    const char *description;           /* NULL = unchanged */
    int enabled;                       /* -1 = unchanged, else 0/1 */
    int default_version_id;            /* 0 = unchanged */
    const char *provisioning_role_arn; /* NULL = unchanged */
    const char *hook_target_arn;       /* NULL = unchanged */
    const char *hook_payload_version;
    int remove_hook; /* 1 = remove the pre-provisioning hook */
};

/* out gets template_arn, template_name and default_version_id. */
int iot_create_provisioning_template(struct aws_client *c,
                                     const struct iot_create_template_input *in,
                                     struct iot_template *out, struct aws_api_error *err);
int iot_describe_provisioning_template(struct aws_client *c, const char *template_name,
                                       struct iot_template *out, struct aws_api_error *err);
int iot_update_provisioning_template(struct aws_client *c,
                                     const struct iot_update_template_input *in,
                                     struct aws_api_error *err);
int iot_delete_provisioning_template(struct aws_client *c, const char *template_name,
                                     struct aws_api_error *err);
int iot_list_provisioning_templates(struct aws_client *c, struct iot_template_list *out,
                                    struct aws_api_error *err);
int iot_create_provisioning_template_version(struct aws_client *c, const char *template_name,
                                             const char *template_body, int set_as_default,
                                             struct iot_template_version *out,
                                             struct aws_api_error *err);
int iot_list_provisioning_template_versions(struct aws_client *c, const char *template_name,
                                            struct iot_template_version_list *out,
                                            struct aws_api_error *err);
/* One version with its body (out->template_body; free with iot_template_version_cleanup). */
int iot_describe_provisioning_template_version(struct aws_client *c, const char *template_name,
                                               int version_id, struct iot_template_version *out,
                                               struct aws_api_error *err);
int iot_delete_provisioning_template_version(struct aws_client *c, const char *template_name,
                                             int version_id, struct aws_api_error *err);
void iot_template_cleanup(struct iot_template *x);
void iot_template_list_cleanup(struct iot_template_list *x);
void iot_template_version_cleanup(struct iot_template_version *x);
void iot_template_version_list_cleanup(struct iot_template_version_list *x);

/* ---- thing groups, endpoints ---- */

struct iot_thing_group {
    char *thing_group_name;
    char *thing_group_arn;
    char *thing_group_id;
    char *description;       /* describe only */
    char *parent_group_name; /* describe only */
    long long version;       /* describe only */
};

int iot_describe_thing_group(struct aws_client *c, const char *name, struct iot_thing_group *out,
                             struct aws_api_error *err);
/* parent and description may be NULL. */
int iot_create_thing_group(struct aws_client *c, const char *name, const char *parent,
                           const char *description, struct iot_thing_group *out,
                           struct aws_api_error *err);
/* expected_version 0 = any version. A group that does not exist is
 * success (AWS answers 200). A group with child groups, or a dynamic one,
 * is InvalidRequestException (FW_EINVAL); a group holding things is
 * deleted all the same (the things leave it). */
int iot_delete_thing_group(struct aws_client *c, const char *name, long long expected_version,
                           struct aws_api_error *err);
/* The names of the things in the group (recursive: and in its child
 * groups); out is an aws_strlist (client.h). max_items 0 pages to the end,
 * else paging stops once out holds at least max_items names. */
int iot_list_things_in_thing_group(struct aws_client *c, const char *name, int recursive,
                                   size_t max_items, struct aws_strlist *out,
                                   struct aws_api_error *err);
void iot_thing_group_cleanup(struct iot_thing_group *x);

/* endpoint_type: "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs" ...;
 * *address is a new string (caller frees), NULL on failure. */
int iot_describe_endpoint(struct aws_client *c, const char *endpoint_type, char **address,
                          struct aws_api_error *err);

#endif
