/*
 * credprovider.h - the AWS IoT credentials provider as a device calls it:
 * GET https://ENDPOINT/role-aliases/ALIAS/credentials with the device's
 * certificate and key (mutual TLS, PEM held in memory, aws_http_send_mtls)
 * and the header x-amzn-iot-thingname (developer guide, "Authorizing
 * direct calls to AWS services using AWS IoT Core credential provider").
 *
 * The answer {"credentials": {"accessKeyId", "secretAccessKey",
 * "sessionToken", "expiration"}} is checked with bounds; an error answer
 * becomes struct aws_api_error with AWS's status and message (403 "Access
 * Denied", 404 "Role alias does not exist", 400 "Unable to assume the
 * role, ..."). Thread-safe: each call uses an HTTP handle of its own.
 */
#ifndef FW_AWS_CREDPROVIDER_H
#define FW_AWS_CREDPROVIDER_H

#include <stddef.h>

#include "aws/awserr.h"

#define CREDPROVIDER_ALIAS_MAX 128
#define CREDPROVIDER_TOKEN_MAX 8192
#define CREDPROVIDER_MAX_ANSWER (64u * 1024)

struct credprovider_request {
    const char *host;       /* the iot:CredentialProvider endpoint */
    const char *address;    /* the numeric address it resolved to, checked by the caller
                             * (netresolve.h): the only one connected to; NULL = resolve */
    int port;               /* 443 */
    const char *role_alias; /* 1-128 of [\w=,@-] */
    const char *thing_name; /* x-amzn-iot-thingname, or NULL */
    const char *cert_pem;   /* the device certificate */
    const char *key_pem;    /* its private key (secret) */
    const char *ca_file;    /* trust anchors of the endpoint */
    long timeout_ms;        /* 0 = 10000 */
};

/* Temporary credentials; secret_access_key and session_token are secrets
 * (wiped by cleanup, never logged). */
struct credprovider_creds {
    char access_key_id[129];
    char *secret_access_key;
    char *session_token;
    char expiration[40];
};

/* 0 with out filled, or a negative FW_E* with err filled (operation
 * "iot:AssumeRoleWithCertificate"). */
int credprovider_get(const struct credprovider_request *r, struct credprovider_creds *out,
                     struct aws_api_error *err);

/* The pure halves, unit-tested: a 200 answer's body, and an error answer
 * (status, the x-amzn-ErrorType header or NULL, body). */
int credprovider_parse(const char *body, size_t len, struct credprovider_creds *out,
                       struct aws_api_error *err);
void credprovider_error(int status, const char *error_type, const char *body, size_t len,
                        struct aws_api_error *err);

void credprovider_creds_cleanup(struct credprovider_creds *c);

#endif
