/*
 * sts.h - the STS operations fleetwarden uses (query protocol, 2011-06-15).
 *
 * Every function: 0, or a negative FW_E* (awserr_to_fw) with err filled
 * when err is not NULL. Outputs are zeroed first and own their strings;
 * free them with the matching _cleanup (safe on a zeroed struct). The
 * client is used from its owning thread only.
 */
#ifndef FW_AWS_STS_H
#define FW_AWS_STS_H

#include "aws/awserr.h"

struct aws_client;

struct sts_caller_identity {
    char *account; /* "123456789012" */
    char *arn;     /* the caller's ARN */
    char *user_id;
};

/* Temporary credentials. secret_access_key and session_token are secrets:
 * wiped on cleanup, never logged. */
struct sts_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
    double expiration; /* epoch seconds */
    char *assumed_role_arn;
    char *assumed_role_id;
};

struct sts_assume_role_input {
    const char *role_arn;          /* required */
    const char *role_session_name; /* required */
    int duration_s;                /* 0 = AWS default (3600) */
    const char *external_id;       /* optional */
    const char *policy;            /* optional session policy JSON */
};

struct sts_web_identity_input {
    const char *role_arn;           /* required */
    const char *role_session_name;  /* required */
    const char *web_identity_token; /* required; a secret, never logged */
    int duration_s;                 /* 0 = AWS default */
};

int sts_get_caller_identity(struct aws_client *c, struct sts_caller_identity *out,
                            struct aws_api_error *err);
void sts_caller_identity_cleanup(struct sts_caller_identity *x);

int sts_assume_role(struct aws_client *c, const struct sts_assume_role_input *in,
                    struct sts_credentials *out, struct aws_api_error *err);
/* Sent unsigned, as AWS requires; the client needs no credentials. */
int sts_assume_role_with_web_identity(struct aws_client *c, const struct sts_web_identity_input *in,
                                      struct sts_credentials *out, struct aws_api_error *err);
void sts_credentials_cleanup(struct sts_credentials *x);

#endif
