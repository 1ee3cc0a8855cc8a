/*
 * check.c - `fleetwarden check`, AWS half: can we reach AWS as someone?
 *
 * Operators run this first when something is wrong, so every failure says
 * which step failed and what to look at: the credentials chain, the STS
 * endpoint, or AWS's verdict on the signature. It makes one signed call
 * (STS GetCallerIdentity, which needs no IAM permission) with two attempts
 * and short timeouts, so it answers within seconds even when AWS is away.
 */
#include "aws/check.h"

#include <string.h>

#include "aws/client.h"
#include "aws/creds.h"
#include "aws/http.h"
#include "aws/sts.h"
#include "service/core/err.h"

static int check_creds(struct creds_provider *p, FILE *out)
{
    struct creds cr = {0};
    struct aws_api_error err = {0};
    int rc = creds_provider_get(p, &cr, &err);
    if (rc) {
        fprintf(out, "aws: credentials: none usable: %s%s%s\n",
                err.message[0] ? err.message : fw_strerror(rc), err.code[0] ? " " : "",
                err.code[0] ? err.code : "");
        fprintf(out,
                "aws: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity, "
                "or run where a container or instance role is available\n");
    } else {
        fprintf(out, "aws: credentials: from %s%s\n", cr.source,
                cr.session_token ? " (temporary)" : "");
    }
    creds_cleanup(&cr);
    return rc ? FW_EUNAUTH : 0;
}

static int report_failure(const struct aws_api_error *err, int rc, FILE *out)
{
    if (err->cls == AWS_ERRC_ACCESS) {
        fprintf(out, "aws: AWS rejected the credentials: %s: %s\n", err->code, err->message);
        return FW_EFORBIDDEN;
    }
    if (err->http_status == 0 && (rc == FW_EUNAVAILABLE || rc == FW_ETIMEOUT || rc == FW_EAWS)) {
        fprintf(out,
                "aws: the STS endpoint is unreachable: %s (check the network, proxy variables and "
                "AWS_ENDPOINT_URL*)\n",
                err->message);
        return rc;
    }
    fprintf(out, "aws: GetCallerIdentity failed: %s%s%s (HTTP %d)\n", err->code,
            err->message[0] ? ": " : "", err->message, err->http_status);
    return rc;
}

static int call_sts(struct creds_provider *p, const char *region, FILE *out)
{
    struct aws_http_options hopt = {3000, 10000, 0, 0};
    struct aws_retry_settings retry = {2, AWS_RETRY_MODE_STANDARD};
    struct aws_client_options opt = {0};
    opt.region = region;
    opt.creds = p;
    opt.http_options = &hopt;
    opt.retry = &retry;
    struct aws_client *c = 0;
    struct aws_api_error err = {0};
    int rc = aws_client_new(&opt, &c, &err);
    if (rc) {
        fprintf(out, "aws: configuration: %s\n", err.message);
        return rc;
    }
    struct sts_caller_identity id = {0};
    rc = sts_get_caller_identity(c, &id, &err);
    if (rc)
        rc = report_failure(&err, rc, out);
    else
        fprintf(out, "aws: account %s, caller %s (region %s)\n", id.account ? id.account : "?",
                id.arn ? id.arn : "?", aws_client_region(c));
    sts_caller_identity_cleanup(&id);
    aws_client_free(c);
    return rc;
}

int aws_check_run(const char *region, FILE *out)
{
    struct creds_provider *p = creds_provider_default_chain(NULL);
    int rc = check_creds(p, out);
    if (!rc)
        rc = call_sts(p, region, out);
    creds_provider_release(p);
    return rc;
}
