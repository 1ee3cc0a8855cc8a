/*
 * creds_webid.c - web identity federation: an OIDC token from a file
 * (EKS IRSA, GitHub Actions, ...) traded for role credentials through STS
 * AssumeRoleWithWebIdentity, an unsigned call.
 *
 * The environment source needs AWS_WEB_IDENTITY_TOKEN_FILE and
 * AWS_ROLE_ARN; AWS_ROLE_SESSION_NAME is optional. The token file is read
 * again on every refresh because the platform rotates it. Profiles with
 * web_identity_token_file + role_arn use the same exchange.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/creds_internal.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define WEBID_TOKEN_MAX (64 * 1024)

static char *webid_form(const char *role_arn, const char *session, const char *token)
{
    char *form = creds__form_add(NULL, "Action", "AssumeRoleWithWebIdentity");
    form = creds__form_add(form, "Version", "2011-06-15");
    form = creds__form_add(form, "RoleArn", role_arn);
    form = creds__form_add(form, "RoleSessionName", session);
    return creds__form_add(form, "WebIdentityToken", token);
}

int creds__webid_assume(const struct creds_env *e, const struct creds_webid_args *a,
                        struct creds *out, struct aws_api_error *err)
{
    char session[64];
    char *token = creds__read_secret_file(a->token_file, WEBID_TOKEN_MAX);
    if (!token)
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "web identity token file is missing, empty or over 64 KiB");
    if (a->session_name)
        snprintf(session, sizeof(session), "%s", a->session_name);
    else
        snprintf(session, sizeof(session), "fleetwarden-%lld", (long long)time(NULL));
    char *form = webid_form(a->role_arn, session, token);
    const struct creds_sts_call call = {e, a->region, form, NULL, a->source};
    int rc = creds__sts_call(&call, out, err);
    xfree_secret(form);
    xfree_secret(token);
    return rc;
}

static int webid_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    const struct creds_env *e = p->impl;
    struct creds_webid_args a = {creds__getenv(e, "AWS_WEB_IDENTITY_TOKEN_FILE"),
                                 creds__getenv(e, "AWS_ROLE_ARN"),
                                 creds__getenv(e, "AWS_ROLE_SESSION_NAME"), NULL,
                                 "web identity via AssumeRoleWithWebIdentity"};
    if (!a.token_file || !a.role_arn)
        return FW_ENOTFOUND;
    return creds__webid_assume(e, &a, out, err);
}

static void webid_destroy(void *impl)
{
    free(impl);
}

static const struct creds_provider_vtable s_webid_vt = {"web identity", webid_get, webid_destroy};

struct creds_provider *creds__webid_provider_new(const struct creds_env *e)
{
    struct creds_env *copy = xmalloc(sizeof(*copy));
    *copy = *e;
    return creds__provider_new(&s_webid_vt, copy);
}
