/*
 * iam.h - the IAM operations fleet setup uses (query protocol, 2010-05-08).
 *
 * IAM is global: calls are signed for us-east-1 (aws partition) whatever the
 * client's region. Every function: 0, or a negative FW_E* (awserr_to_fw)
 * with err filled when err is not NULL (NoSuchEntity -> FW_ENOTFOUND,
 * EntityAlreadyExists/DeleteConflict -> FW_ECONFLICT, LimitExceeded ->
 * FW_ECONFLICT with cls AWS_ERRC_LIMIT). Outputs are zeroed first and own
 * their strings; free with the matching _cleanup (safe on zeroed structs).
 * Policy documents are returned decoded (IAM sends them URL-encoded).
 * List functions page to the end.
 */
#ifndef FW_AWS_IAM_H
#define FW_AWS_IAM_H

#include <stddef.h>

#include "aws/awserr.h"

struct aws_client;

struct iam_role {
    char *role_name;
    char *role_id;
    char *arn;
    char *path;
    char *assume_role_policy_document; /* decoded JSON; NULL when not returned */
    char *description;
    double create_date; /* epoch seconds */
    int max_session_duration_s;
    char *permissions_boundary_arn; /* the role's permissions boundary; NULL when it has none */
};

struct iam_policy {
    char *policy_name;
    char *policy_id;
    char *arn;
    char *path;
    char *default_version_id; /* "v1" */
    int attachment_count;
    double create_date;
};

struct iam_policy_version {
    char *version_id;
    char *document; /* decoded JSON; NULL in lists */
    int is_default_version;
    double create_date;
};

struct iam_policy_version_list {
    struct iam_policy_version *items;
    size_t n;
};

struct iam_attached_policy {
    char *policy_name;
    char *policy_arn;
};

struct iam_attached_policy_list {
    struct iam_attached_policy *items;
    size_t n;
};

struct iam_create_role_input {
    const char *role_name;                   /* required */
    const char *assume_role_policy_document; /* required, JSON */
    const char *path;                        /* NULL = "/" */
    const char *description;
    int max_session_duration_s;       /* 0 = default */
    const char *permissions_boundary; /* policy ARN the role must carry, or NULL */
};

struct iam_create_policy_input {
    const char *policy_name;     /* required */
    const char *policy_document; /* required, JSON */
    const char *path;
    const char *description;
};

int iam_create_role(struct aws_client *c, const struct iam_create_role_input *in,
                    struct iam_role *out, struct aws_api_error *err);
int iam_get_role(struct aws_client *c, const char *role_name, struct iam_role *out,
                 struct aws_api_error *err);
/* On DeleteConflict the message names the managed policies still attached. */
int iam_delete_role(struct aws_client *c, const char *role_name, struct aws_api_error *err);
/* Sets (or replaces) the role's permissions boundary to policy_arn. */
int iam_put_role_permissions_boundary(struct aws_client *c, const char *role_name,
                                      const char *policy_arn, struct aws_api_error *err);
int iam_update_assume_role_policy(struct aws_client *c, const char *role_name,
                                  const char *policy_document, struct aws_api_error *err);
/* UpdateRole with MaxSessionDuration (3600..43200 s): how long sessions of
 * the role may last, which bounds a role alias's credentialDurationSeconds. */
int iam_update_role_max_session(struct aws_client *c, const char *role_name,
                                int max_session_duration_s, struct aws_api_error *err);
void iam_role_cleanup(struct iam_role *x);

int iam_create_policy(struct aws_client *c, const struct iam_create_policy_input *in,
                      struct iam_policy *out, struct aws_api_error *err);
int iam_get_policy(struct aws_client *c, const char *policy_arn, struct iam_policy *out,
                   struct aws_api_error *err);
/* On DeleteConflict the message says how many entities still hold the
 * policy and how many non-default versions it has. */
int iam_delete_policy(struct aws_client *c, const char *policy_arn, struct aws_api_error *err);
void iam_policy_cleanup(struct iam_policy *x);

int iam_get_policy_version(struct aws_client *c, const char *policy_arn, const char *version_id,
                           struct iam_policy_version *out, struct aws_api_error *err);
int iam_create_policy_version(struct aws_client *c, const char *policy_arn,
                              const char *policy_document, int set_as_default,
                              struct iam_policy_version *out, struct aws_api_error *err);
int iam_delete_policy_version(struct aws_client *c, const char *policy_arn, const char *version_id,
                              struct aws_api_error *err);
int iam_list_policy_versions(struct aws_client *c, const char *policy_arn,
                             struct iam_policy_version_list *out, struct aws_api_error *err);
void iam_policy_version_cleanup(struct iam_policy_version *x);
void iam_policy_version_list_cleanup(struct iam_policy_version_list *x);

int iam_attach_role_policy(struct aws_client *c, const char *role_name, const char *policy_arn,
                           struct aws_api_error *err);
int iam_detach_role_policy(struct aws_client *c, const char *role_name, const char *policy_arn,
                           struct aws_api_error *err);
int iam_list_attached_role_policies(struct aws_client *c, const char *role_name,
                                    struct iam_attached_policy_list *out,
                                    struct aws_api_error *err);
void iam_attached_policy_list_cleanup(struct iam_attached_policy_list *x);

#endif
