/*
 * creds_sts.c - the two STS calls the credential sources make themselves:
 * AssumeRole (signed with the source profile's credentials) and
 * AssumeRoleWithWebIdentity (unsigned). Both are query-protocol POSTs of a
 * form body to the STS endpoint that endpoint_resolve gives (regional by
 * default, AWS_ENDPOINT_URL_STS honoured), answered in XML.
 *
 * The credentials layer cannot use aws/client.c (the client needs
 * credentials to exist first), hence this small self-contained path:
 * endpoint -> form -> sigv4 -> creds_http -> expat. The XML reader only
 * collects the few elements it needs, by name, each capped in size; the
 * buffers holding the secret key and session token are wiped on free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "aws/creds_internal.h"
#include "aws/endpoint.h"
#include "aws/sigv4.h"
#include "service/buf.h"
#include "service/err.h"
#include "service/mem.h"

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
        xfree_secret(form);   /* may hold a web identity token */
    }
    sigv4_uri_encode(&b, key, strlen(key));   /* cannot hit a cap of SIZE_MAX/4 */
    buf_puts(&b, "=");
    sigv4_uri_encode(&b, value, strlen(value));
    return buf_steal(&b);
}

/* ------------------------------------------------------------------ */
/* XML answer.                                                         */

enum sts_field { F_AKID = 0, F_SECRET, F_TOKEN, F_EXPIRATION, F_CODE, F_MESSAGE, F_COUNT };

static const char *const s_field_names[F_COUNT] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                                   "Expiration",  "Code",            "Message"};

struct sts_answer {
    struct buf f[F_COUNT];
    int cur;          /* field being read, or -1 */
    int overflow;
};

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct sts_answer *a = ud;
    (void)attrs;
    a->cur = -1;
    for (int i = 0; i < F_COUNT; i++) {
        if (!strcmp(name, s_field_names[i])) {
            a->cur = i;
            buf_reset(&a->f[i]);
        }
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct sts_answer *a = ud;
    (void)name;
    a->cur = -1;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct sts_answer *a = ud;
    if (a->cur >= 0 && buf_append(&a->f[a->cur], s, (size_t)len) != 0)
        a->overflow = 1;
}

static void answer_free(struct sts_answer *a)
{
    for (int i = 0; i < F_COUNT; i++)
        buf_free_secure(&a->f[i]);
}

/* 0 when the document is well-formed and no field overflowed. */
static int answer_parse(struct sts_answer *a, const char *xml, size_t len)
{
    XML_Parser p = XML_ParserCreate("UTF-8");
    if (!p)
        return FW_EINTERNAL;
    for (int i = 0; i < F_COUNT; i++)
        buf_init(&a->f[i], STS_FIELD_MAX);
    a->cur = -1;
    a->overflow = 0;
    XML_SetUserData(p, a);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    int ok = XML_Parse(p, xml, (int)len, 1) == XML_STATUS_OK && !a->overflow;
    XML_ParserFree(p);
    return ok ? 0 : FW_EINVAL;
}

static int answer_error(const struct sts_answer *a, long status, struct aws_api_error *err)
{
    const char *code = a->f[F_CODE].len ? buf_cstr(&a->f[F_CODE]) : "UnknownError";
    int rc = creds__fail(err, FW_EAWS, code, "STS: %s (HTTP %ld)",
                         a->f[F_MESSAGE].len ? buf_cstr(&a->f[F_MESSAGE]) : "no message", status);
    if (err) {
        err->http_status = (int)status;
        int throttled = !strcmp(code, "Throttling") || status == 429;
        err->retryable = status >= 500 || throttled || !strcmp(code, "IDPCommunicationError");
        err->cls = throttled ? AWS_ERRC_THROTTLING : AWS_ERRC_CREDENTIALS;
    }
    return rc;
}

static int answer_creds(const struct sts_answer *a, const char *source, struct creds *out,
                        struct aws_api_error *err)
{
    time_t expiration = 0;
    if (!a->f[F_AKID].len || !a->f[F_SECRET].len || !a->f[F_TOKEN].len)
        return creds__fail(err, FW_EINVAL, "InvalidAnswer", "STS answer lacks Credentials");
    if (creds__parse_time(buf_cstr(&a->f[F_EXPIRATION]), &expiration) != 0)
        return creds__fail(err, FW_EINVAL, "InvalidAnswer", "STS answer has a bad Expiration");
    creds__set(out, buf_cstr(&a->f[F_AKID]), buf_cstr(&a->f[F_SECRET]), buf_cstr(&a->f[F_TOKEN]), expiration,
               source);
    return 0;
}

int creds__sts_parse(const char *xml, size_t len, long http_status, const char *source, struct creds *out,
                     struct aws_api_error *err)
{
    struct sts_answer a;
    int rc = answer_parse(&a, xml, len);
    if (rc)
        rc = http_status == 200
                 ? creds__fail(err, FW_EINVAL, "InvalidAnswer", "STS answer is not well-formed XML")
                 : creds__fail(err, FW_EAWS, "UnknownError", "STS answered HTTP %ld", http_status);
    else if (http_status != 200)
        rc = answer_error(&a, http_status, err);
    else
        rc = answer_creds(&a, source, out, err);
    answer_free(&a);
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

/* Fills the signature headers (X-Amz-Date, Authorization, token). */
static int sign(const struct creds_sts_call *call, const struct aws_endpoint *ep, char *hdr[3])
{
    const struct sigv4_header h[] = {{"Host", ep->host}, {"Content-Type", STS_CONTENT_TYPE}};
    const struct sigv4_request req = {"POST", "/", NULL, h, 2, call->form, strlen(call->form)};
    const struct sigv4_params p = {call->signer->access_key_id, call->signer->secret_access_key,
                                   call->signer->session_token, ep->signing_region, ep->signing_name,
                                   time(NULL), 1, 0};
    struct sigv4_result res;
    int rc = sigv4_sign(&req, &p, &res);
    if (rc)
        return rc;
    hdr[0] = xasprintf("X-Amz-Date: %s", res.amz_date);
    hdr[1] = xasprintf("Authorization: %s", buf_cstr(&res.authorization));
    if (p.session_token)
        hdr[2] = xasprintf("X-Amz-Security-Token: %s", p.session_token);
    buf_free(&res.authorization);
    return 0;
}

static int post(const struct creds_sts_call *call, const struct aws_endpoint *ep, char *const sig[3],
                struct creds_http_resp *resp)
{
    char url[600];
    const char *headers[5] = {"Content-Type: " STS_CONTENT_TYPE, "Accept: text/xml"};
    size_t n = 2;
    for (int i = 0; i < 3; i++) {
        if (sig[i])
            headers[n++] = sig[i];
    }
    snprintf(url, sizeof(url), "%s/", ep->url);
    struct creds_http_req req = {"POST", url, headers, n, call->form, strlen(call->form),
                                 STS_TIMEOUT_MS, STS_CONNECT_TIMEOUT_MS, 0};
    return creds__http_fetch(&req, resp);
}

int creds__sts_call(const struct creds_sts_call *call, struct creds *out, struct aws_api_error *err)
{
    struct aws_endpoint ep;
    struct creds_http_resp resp;
    char *sig[3] = {NULL, NULL, NULL};
    const char *region = sts_region(call);
    int rc = endpoint_resolve(AWS_SVC_STS, region, call->env->fn, call->env->ud, &ep);
    if (rc)
        return creds__fail(err, rc, "InvalidConfiguration", "no STS endpoint for region '%.40s' (or a bad "
                           "AWS_ENDPOINT_URL_STS)", region);
    if (call->signer && sign(call, &ep, sig) != 0)
        return creds__fail(err, FW_EINVAL, "SigningFailed", "cannot sign the STS call with the source credentials");
    rc = post(call, &ep, sig, &resp);
    for (int i = 0; i < 3; i++)
        xfree_secret(sig[i]);
    if (rc)
        return creds__fail(err, rc, "CredentialsUnavailable", "STS at %s unreachable (%s)", ep.host,
                           fw_err_name(rc));
    rc = creds__sts_parse(resp.body, resp.len, resp.status, call->source, out, err);
    creds__http_resp_free(&resp);
    return rc;
}
