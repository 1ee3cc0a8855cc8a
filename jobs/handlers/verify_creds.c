/*
 * verify_creds.c - step 5 of a verification: the credentials provider
 * through the fleet's role alias, as the new thing with its certificate
 * (what the Greengrass nucleus's token exchange service does), then STS
 * GetCallerIdentity signed with what it handed out: the token exchange
 * role works, and it is the fleet's.
 */
#include "verify_internal.h"

#include <stdio.h>
#include <string.h>

#include "aws/client.h"
#include "aws/credprovider.h"
#include "aws/creds.h"
#include "aws/iot.h"
#include "aws/sts.h"
#include "service/core/err.h"

/* The role the alias points at as AWS has it, for the hint. */
static void read_alias(struct verify_ctx *v)
{
    struct iot_role_alias a = {0};
    struct aws_api_error e;
    awserr_clear(&e);
    verify_call(v, "iot-rolealias", 0);
    if (!iot_describe_role_alias(v->aws, v->names.role_alias, &a, &e) && a.role_arn)
        snprintf(v->role_arn, sizeof v->role_arn, "%s", a.role_arn);
    iot_role_alias_cleanup(&a);
}

static enum dp_fail creds_kind(const struct aws_api_error *e)
{
    if (!strcmp(e->code, AWSERR_TLS))
        return DP_FAIL_TLS;
    if (!strcmp(e->code, AWSERR_CONNECTION) || !strcmp(e->code, AWSERR_TIMEOUT))
        return DP_FAIL_UNREACHABLE;
    return DP_FAIL_AWS;
}

static int failed(struct verify_ctx *v, enum dp_fail kind, const char *checked)
{
    if (verify_outage(v, &v->err))
        return awserr_to_fw(&v->err);
    return verify_fail(v, DP_STEP_CREDENTIALS, kind, 0, &v->err, "%s", checked);
}

/* The role name of an ARN or a name ("" when none). */
static const char *role_name(const char *arn)
{
    const char *slash = strrchr(arn, '/');
    return slash ? slash + 1 : arn;
}

/* STS GetCallerIdentity signed with the credentials; 0 with the ARN. */
static int caller(struct verify_ctx *v, const struct credprovider_creds *c, char *arn, size_t len)
{
    struct creds_provider *p =
        creds_provider_static(c->access_key_id, c->secret_access_key, c->session_token);
    struct aws_client_options o = {0};
    o.region = v->region;
    o.creds = p;
    struct aws_client *client = 0;
    struct sts_caller_identity id = {0};
    verify_call(v, "sts", 0);
    int rc = aws_client_new(&o, &client, &v->err);
    rc = rc ? rc : sts_get_caller_identity(client, &id, &v->err);
    if (!rc)
        snprintf(arn, len, "%s", id.arn ? id.arn : "");
    sts_caller_identity_cleanup(&id);
    aws_client_free(client);
    creds_provider_release(p);
    return rc;
}

int verify_credentials(struct verify_ctx *v)
{
    char checked[900], arn[400] = "", want[300];
    const char *alias = v->names.role_alias;
    v->names.host = v->cred_peer;
    snprintf(checked, sizeof checked,
             "credentials for role alias %s from %s as thing %s with its certificate", alias,
             v->cred_peer, v->thing);
    struct credprovider_request r = {
        v->cred_host,     v->cred_addr,           v->st->credentials_port, alias,
        v->thing,         v->dev.certificate_pem, v->dev.private_key,      v->st->ca_file,
        v->st->timeout_ms};
    struct credprovider_creds c;
    verify_call(v, "iot-dataplane", 1);
    awserr_clear(&v->err);
    int rc = credprovider_get(&r, &c, &v->err);
    if (rc) {
        if (v->err.http_status == 400 && !verify_outage(v, &v->err))
            read_alias(v);
        return failed(v, creds_kind(&v->err), checked);
    }
    snprintf(want, sizeof want, "%s", role_name(v->role_arn));
    rc = caller(v, &c, arn, sizeof arn);
    size_t n = strlen(checked);
    snprintf(checked + n, sizeof checked - n, " (expiring %s); STS GetCallerIdentity with them",
             c.expiration);
    credprovider_creds_cleanup(&c);
    if (rc)
        return failed(v, DP_FAIL_AWS, checked);
    char role_part[340];
    snprintf(role_part, sizeof role_part, ":assumed-role/%s/", want);
    if (want[0] && !strstr(arn, role_part)) {
        awserr_set(&v->err, 0, "UnexpectedRole",
                   "the credentials are %s, not the token exchange role %s", arn, want);
        snprintf(v->err.operation, sizeof v->err.operation, "sts:GetCallerIdentity");
        snprintf(v->role_arn, sizeof v->role_arn, "%s", want);
        return verify_fail(v, DP_STEP_CREDENTIALS, DP_FAIL_IDENTITY, 0, &v->err, "%s", checked);
    }
    verify_pass(v, DP_STEP_CREDENTIALS, "%s: %s", checked, arn);
    return 0;
}
