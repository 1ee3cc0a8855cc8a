/*
 * sts.c - STS GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity.
 *
 * GetCallerIdentity gives the account id every ARN we build needs and is
 * what `fleetwarden check` calls. The two AssumeRole calls return secrets:
 * they are copied straight into the output and wiped from every buffer on
 * the way (the request body of the web identity call carries a token).
 */
#include "aws/sts.h"

#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/xml.h"
#include "service/core/mem.h"

#define STS_VERSION "2011-06-15"

int sts_get_caller_identity(struct aws_client *c, struct sts_caller_identity *out,
                            struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    struct aws_reply r;
    aws_call_init_query(&call, AWS_SVC_STS, "GetCallerIdentity", STS_VERSION);
    int rc = aws_client_call(c, &call, &r, err);
    if (!rc) {
        out->account = xml_strdup(r.result, "Account");
        out->arn = xml_strdup(r.result, "Arn");
        out->user_id = xml_strdup(r.result, "UserId");
    }
    aws_reply_cleanup(&r);
    aws_call_cleanup(&call);
    return rc;
}

void sts_caller_identity_cleanup(struct sts_caller_identity *x)
{
    if (!x)
        return;
    free(x->account);
    free(x->arn);
    free(x->user_id);
    memset(x, 0, sizeof *x);
}

static void read_credentials(const struct aws_reply *r, struct sts_credentials *out)
{
    const struct xml_node *cr = xml_child(r->result, "Credentials");
    out->access_key_id = xml_strdup(cr, "AccessKeyId");
    out->secret_access_key = xml_strdup(cr, "SecretAccessKey");
    out->session_token = xml_strdup(cr, "SessionToken");
    out->expiration = xml_time(cr, "Expiration");
    out->assumed_role_arn = xml_strdup(r->result, "AssumedRoleUser/Arn");
    out->assumed_role_id = xml_strdup(r->result, "AssumedRoleUser/AssumedRoleId");
}

/* The answer's XML tree holds the secret too: wipe its text before free. */
static void wipe_reply_secrets(struct aws_reply *r)
{
    const struct xml_node *cr = xml_child(r->result, "Credentials");
    for (const struct xml_node *n = cr ? cr->children : 0; n; n = n->next)
        xwipe(n->text, n->text_len);
}

static int run_assume(struct aws_client *c, struct aws_call *call, struct sts_credentials *out,
                      struct aws_api_error *err)
{
    struct aws_reply r;
    int rc = aws_client_call(c, call, &r, err);
    if (!rc)
        read_credentials(&r, out);
    wipe_reply_secrets(&r);
    aws_reply_cleanup(&r);
    aws_call_cleanup(call);
    return rc;
}

int sts_assume_role(struct aws_client *c, const struct sts_assume_role_input *in,
                    struct sts_credentials *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_STS, "AssumeRole", STS_VERSION);
    if (in->duration_s > 0)
        aws_call_param_int(&call, "DurationSeconds", in->duration_s);
    aws_call_param(&call, "ExternalId", in->external_id);
    aws_call_param(&call, "Policy", in->policy);
    aws_call_param(&call, "RoleArn", in->role_arn);
    aws_call_param(&call, "RoleSessionName", in->role_session_name);
    return run_assume(c, &call, out, err);
}

int sts_assume_role_with_web_identity(struct aws_client *c, const struct sts_web_identity_input *in,
                                      struct sts_credentials *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_call call;
    aws_call_init_query(&call, AWS_SVC_STS, "AssumeRoleWithWebIdentity", STS_VERSION);
    call.anonymous = 1;
    if (in->duration_s > 0)
        aws_call_param_int(&call, "DurationSeconds", in->duration_s);
    aws_call_param(&call, "RoleArn", in->role_arn);
    aws_call_param(&call, "RoleSessionName", in->role_session_name);
    aws_call_param(&call, "WebIdentityToken", in->web_identity_token);
    return run_assume(c, &call, out, err);
}

void sts_credentials_cleanup(struct sts_credentials *x)
{
    if (!x)
        return;
    free(x->access_key_id);
    xfree_secret(x->secret_access_key);
    xfree_secret(x->session_token);
    free(x->assumed_role_arn);
    free(x->assumed_role_id);
    memset(x, 0, sizeof *x);
}
