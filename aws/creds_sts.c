/*
 * creds_sts.c - the two STS calls the credential sources make themselves:
 * AssumeRole (signed with the source profile's credentials) and
 * AssumeRoleWithWebIdentity (unsigned). Both are query-protocol POSTs of a
 * form body to the STS endpoint that endpoint_resolve gives (regional by
 * default, AWS_ENDPOINT_URL_STS honoured), answered in XML.
 *
 * The credentials layer cannot use aws/client.c (the client needs
 * credentials to exist first), hence this small path of its own:
 * endpoint -> form -> sigv4 -> aws/http.c -> aws/xml.c. The answer goes
 * through the same hardened XML reader as every other AWS answer (DOCTYPE
 * refused, depth and size capped); each field we read is capped in size,
 * and the reader wipes its texts (the secret key and session token) on
 * free, as aws/http.c does the body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds_internal.h"
#include "aws/endpoint.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "service/core/buf.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define STS_FIELD_MAX 8192
#define STS_TIMEOUT_MS 10000
#define STS_CONNECT_TIMEOUT_MS 3000
#define STS_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* ------------------------------------------------------------------ */
/* Form encoding.                                                      */

char *creds__form_add(char *form, const char *key, const char *value)
{
    struct buf b;
    buf_init(&b, SIZE_MAX / 4);
    if (form) {
        buf_puts(&b, form);
        buf_puts(&b, "&");
        xfree_secret(form); /* may hold a web identity token */
    }
    sigv4_uri_encode(&b, key, strlen(key)); /* cannot hit a cap of SIZE_MAX/4 */
    buf_puts(&b, "=");
    sigv4_uri_encode(&b, value, strlen(value));
    return buf_steal(&b);
}

/* ------------------------------------------------------------------ */
/* XML answer.                                                         */

/* The text of the first element named name (anywhere under root) when it
 * is present and within STS_FIELD_MAX, else NULL. *too_long is set when
 * the element is there but over the cap. */
static const char *field(const struct xml_node *root, const char *name, int *too_long)
{
    const struct xml_node *n = xml_find(root, name);
    if (n && n->text_len > STS_FIELD_MAX)
        *too_long = 1;
    return n && n->text_len && n->text_len <= STS_FIELD_MAX ? n->text : NULL;
}

static int answer_error(const struct xml_node *root, long status, struct aws_api_error *err)
{
    int too_long = 0;
    const struct xml_node *e = xml_find(root, "Error");
    const char *code = field(e ? e : root, "Code", &too_long),
               *msg = field(e ? e : root, "Message", &too_long);
    if (!code)
        code = "UnknownError";
    int rc =
        creds__fail(err, FW_EAWS, code, "STS: %s (HTTP %ld)", msg ? msg : "no message", status);
    if (err) {
        err->http_status = (int)status;
        int throttled = !strcmp(code, "Throttling") || status == 429;
        err->retryable = status >= 500 || throttled || !strcmp(code, "IDPCommunicationError");
        err->cls = throttled ? AWS_ERRC_THROTTLING : AWS_ERRC_CREDENTIALS;
    }
    return rc;
}

static int answer_creds(const struct xml_node *root, const char *source, struct creds *out,
                        struct aws_api_error *err)
{
    int too_long = 0;
    time_t expiration = 0;
    const struct xml_node *c = xml_find(root, "Credentials");
    const char *akid = field(c, "AccessKeyId", &too_long),
               *secret = field(c, "SecretAccessKey", &too_long),
               *token = field(c, "SessionToken", &too_long),
               *exp = field(c, "Expiration", &too_long);
    if (too_long)
        return creds__fail(err, FW_EINVAL, "InvalidAnswer", "STS answer has a field over %d bytes",
                           STS_FIELD_MAX);
    if (!akid || !secret || !token)
        return creds__fail(err, FW_EINVAL, "InvalidAnswer", "STS answer lacks Credentials");
    if (creds__parse_time(exp ? exp : "", &expiration) != 0)
        return creds__fail(err, FW_EINVAL, "InvalidAnswer", "STS answer has a bad Expiration");
    creds__set(out, akid, secret, token, expiration, source);
    return 0;
}

int creds__sts_parse(const char *xml, size_t len, long http_status, const char *source,
                     struct creds *out, struct aws_api_error *err)
{
    struct xml_node *root = NULL;
    int rc = xml_parse(xml, len, &root);
    if (rc)
        rc = http_status == 200
                 ? creds__fail(err, FW_EINVAL, "InvalidAnswer", "STS answer is not well-formed XML")
                 : creds__fail(err, FW_EAWS, "UnknownError", "STS answered HTTP %ld", http_status);
    else if (http_status != 200)
        rc = answer_error(root, http_status, err);
    else
        rc = answer_creds(root, source, out, err);
    xml_free(root); /* wipes the texts */
    return rc;
}

/* ------------------------------------------------------------------ */
/* The call.                                                           */

static const char *sts_region(const struct creds_sts_call *call)
{
    if (call->region)
        return call->region;
    const char *r = creds__getenv(call->env, "AWS_REGION");
    if (!r)
        r = creds__getenv(call->env, "AWS_DEFAULT_REGION");
    return r ? r : "us-east-1";
}

/* Fills the signature header values (X-Amz-Date, Authorization, token). */
static int sign(const struct creds_sts_call *call, const struct aws_endpoint *ep, char *hdr[3])
{
    const struct sigv4_header h[] = {{"Host", ep->host}, {"Content-Type", STS_CONTENT_TYPE}};
    const struct sigv4_request req = {"POST", "/", NULL, h, 2, call->form, strlen(call->form)};
    const struct sigv4_params p = {call->signer->access_key_id,
                                   call->signer->secret_access_key,
                                   call->signer->session_token,
                                   ep->signing_region,
                                   ep->signing_name,
                                   time(NULL),
                                   1,
                                   0};
    struct sigv4_result res;
    int rc = sigv4_sign(&req, &p, &res);
    if (rc)
        return rc;
    hdr[0] = xstrdup(res.amz_date);
    hdr[1] = xstrdup(buf_cstr(&res.authorization));
    if (p.session_token)
        hdr[2] = xstrdup(p.session_token);
    buf_free(&res.authorization);
    return 0;
}

static int post(const struct creds_sts_call *call, const struct aws_endpoint *ep,
                char *const sig[3], struct aws_http_response *resp)
{
    static const char *const sig_names[3] = {"X-Amz-Date", "Authorization", "X-Amz-Security-Token"};
    char url[600];
    struct aws_http_header headers[5] = {{"Content-Type", STS_CONTENT_TYPE},
                                         {"Accept", "text/xml"}};
    size_t n = 2;
    for (int i = 0; i < 3; i++) {
        if (sig[i])
            headers[n++] = (struct aws_http_header){sig_names[i], sig[i]};
    }
    snprintf(url, sizeof(url), "%s/", ep->url);
    struct creds_http_req req = {"POST",
                                 url,
                                 headers,
                                 n,
                                 call->form,
                                 strlen(call->form),
                                 STS_TIMEOUT_MS,
                                 STS_CONNECT_TIMEOUT_MS,
                                 0};
    return creds__http_fetch(&req, resp);
}

int creds__sts_call(const struct creds_sts_call *call, struct creds *out, struct aws_api_error *err)
{
    struct aws_endpoint ep;
    struct aws_http_response resp;
    char *sig[3] = {NULL, NULL, NULL};
    const char *region = sts_region(call);
    int rc = endpoint_resolve(AWS_SVC_STS, region, call->env->fn, call->env->ud, &ep);
    if (rc)
        return creds__fail(err, rc, "InvalidConfiguration",
                           "no STS endpoint for region '%.40s' (or a bad "
                           "AWS_ENDPOINT_URL_STS)",
                           region);
    if (call->signer && sign(call, &ep, sig) != 0)
        return creds__fail(err, FW_EINVAL, "SigningFailed",
                           "cannot sign the STS call with the source credentials");
    rc = post(call, &ep, sig, &resp);
    for (int i = 0; i < 3; i++)
        xfree_secret(sig[i]);
    if (rc)
        rc = creds__fail(err, rc, "CredentialsUnavailable", "STS at %s unreachable (%s)", ep.host,
                         fw_err_name(rc));
    else
        rc = creds__sts_parse(buf_cstr(&resp.body), resp.body.len, resp.status, call->source, out,
                              err);
    aws_http_response_cleanup(&resp);
    return rc;
}
