/*
 * creds_imds.c - credentials of the EC2 instance profile, through IMDSv2.
 *
 * Three requests: PUT /latest/api/token (session token, 6 h TTL), GET
 * /latest/meta-data/iam/security-credentials/ (the role name), GET
 * .../ROLE (the JSON credentials). IMDSv1 (no token) is not used: an
 * instance that only allows v1 should be fixed, not worked around.
 *
 * This is the last source of the chain and runs on machines that are not
 * EC2 instances, so every request has a 1 s connect and transfer timeout
 * and an unreachable or token-less endpoint counts as "not configured".
 * AWS_EC2_METADATA_DISABLED=true skips it; the endpoint comes from
 * AWS_EC2_METADATA_SERVICE_ENDPOINT, else AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
 * (IPv4 / IPv6), and never goes through a proxy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/creds_internal.h"
#include "service/core/buf.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"

#define IMDS_V4 "http://169.254.169.254"
#define IMDS_V6 "http://[fd00:ec2::254]"
#define IMDS_TIMEOUT_MS 1000
#define IMDS_CREDS_PATH "/latest/meta-data/iam/security-credentials/"

struct imds_call {
    char base[512]; /* endpoint without a trailing slash */
    char *token;    /* the IMDSv2 session token (a secret) */
};

static void imds_base(const struct creds_env *e, char *base, size_t cap)
{
    const char *ep = creds__getenv(e, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = creds__getenv(e, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (!ep)
        ep = mode && !strcasecmp(mode, "IPv6") ? IMDS_V6 : IMDS_V4;
    snprintf(base, cap, "%s", ep);
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        base[--n] = '\0';
}

/* One request with one header (extra, else the session token). 0 on HTTP
 * 200; resp must be cleaned up whatever the outcome. */
static int imds_request(const struct imds_call *c, const char *method, const char *path,
                        const struct aws_http_header *extra, struct aws_http_response *resp)
{
    char url[1024];
    const struct aws_http_header token = {"X-aws-ec2-metadata-token", c->token};
    const struct aws_http_header *h = extra ? extra : &token;
    snprintf(url, sizeof(url), "%s%s", c->base, path);
    struct creds_http_req req = {
        method, url, h, h->value ? 1 : 0, NULL, 0, IMDS_TIMEOUT_MS, IMDS_TIMEOUT_MS, 1};
    int rc = creds__http_fetch(&req, resp);
    if (rc)
        return rc;
    if (resp->status != 200)
        return resp->status == 404 ? FW_ENOTFOUND : FW_EUNAVAILABLE;
    return 0;
}

static int imds_token(struct imds_call *c)
{
    static const struct aws_http_header ttl = {"X-aws-ec2-metadata-token-ttl-seconds", "21600"};
    struct aws_http_response resp;
    int rc = imds_request(c, "PUT", "/latest/api/token", &ttl, &resp);
    if (!rc && (resp.body.len == 0 || strpbrk(buf_cstr(&resp.body), "\r\n") ||
                strlen(buf_cstr(&resp.body)) != resp.body.len))
        rc = FW_ENOTFOUND;
    if (!rc)
        c->token = xstrdup(buf_cstr(&resp.body));
    aws_http_response_cleanup(&resp);
    return rc ? FW_ENOTFOUND : 0;
}

/* The first line of the role listing: the instance profile's role. */
static int imds_role(struct imds_call *c, char *role, size_t cap, struct aws_api_error *err)
{
    struct aws_http_response resp;
    int rc = imds_request(c, "GET", IMDS_CREDS_PATH, NULL, &resp);
    const char *body = buf_cstr(&resp.body);
    size_t n = strcspn(body, "\r\n");
    int bad = n == 0 || n >= cap || memchr(body, '/', n) || memchr(body, '?', n);
    if (!rc)
        snprintf(role, cap, "%.*s", (int)n, body);
    aws_http_response_cleanup(&resp);
    if (rc == FW_ENOTFOUND)
        return creds__fail(err, FW_ENOTFOUND, "NoCredentials",
                           "this instance has no IAM role attached");
    if (rc)
        return creds__fail(err, rc, "CredentialsUnavailable", "IMDS role listing failed (%s)",
                           fw_err_name(rc));
    if (bad)
        return creds__fail(err, FW_EINVAL, "InvalidAnswer", "IMDS gave an unusable role name");
    return 0;
}

static int imds_creds(struct imds_call *c, const char *role, struct creds *out,
                      struct aws_api_error *err)
{
    struct aws_http_response resp;
    char path[512], source[96];
    snprintf(path, sizeof(path), "%s%s", IMDS_CREDS_PATH, role);
    snprintf(source, sizeof(source), "imds role %.80s", role);
    int rc = imds_request(c, "GET", path, NULL, &resp);
    if (rc)
        rc = creds__fail(err, rc == FW_ENOTFOUND ? FW_EUNAVAILABLE : rc, "CredentialsUnavailable",
                         "IMDS credentials for role %s failed (%s)", role, fw_err_name(rc));
    else
        rc = creds__parse_json_creds(buf_cstr(&resp.body), resp.body.len, source, out, err);
    aws_http_response_cleanup(&resp);
    return rc;
}

static int imds_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    const char *disabled = creds__getenv(p->impl, "AWS_EC2_METADATA_DISABLED");
    struct imds_call c;
    char role[256];
    if (disabled && !strcasecmp(disabled, "true"))
        return FW_ENOTFOUND;
    memset(&c, 0, sizeof(c));
    imds_base(p->impl, c.base, sizeof(c.base));
    int rc = imds_token(&c);
    if (rc)
        log_msg(LOG_DEBUG, "IMDS not reachable at %s: not an EC2 instance, or IMDSv2 disabled",
                c.base);
    if (!rc)
        rc = imds_role(&c, role, sizeof(role), err);
    if (!rc)
        rc = imds_creds(&c, role, out, err);
    xfree_secret(c.token);
    return rc;
}

static void imds_destroy(void *impl)
{
    free(impl);
}

static const struct creds_provider_vtable s_imds_vt = {"imds", imds_get, imds_destroy};

struct creds_provider *creds__imds_provider_new(const struct creds_env *e)
{
    struct creds_env *copy = xmalloc(sizeof(*copy));
    *copy = *e;
    return creds__provider_new(&s_imds_vt, copy);
}
