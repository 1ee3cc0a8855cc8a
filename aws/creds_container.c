/*
 * creds_container.c - credentials from the container endpoint (ECS task
 * roles, EKS Pod Identity, or anything speaking the same protocol).
 *
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is a path on the ECS agent at
 * http://169.254.170.2. AWS_CONTAINER_CREDENTIALS_FULL_URI is a whole URL,
 * accepted only over https or to an address that cannot leave the host or
 * task (loopback, the ECS agent 169.254.170.2, the EKS Pod Identity agent
 * 169.254.170.23 / fd00:ec2::23), as the SDKs do: otherwise anyone who can
 * set the variable could send the authorization token anywhere. The token
 * comes from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read each time: it
 * rotates) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
 *
 * The JSON answer parser here also serves IMDS, which answers in the same
 * shape. jansson keeps its own copy of the strings; they are wiped in
 * place before the document is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/creds_internal.h"
#include "service/core/buf.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define CONTAINER_HOST "http://169.254.170.2"
#define TOKEN_MAX 16384

/* ------------------------------------------------------------------ */
/* JSON answers (container and IMDS).                                  */

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

static void wipe_json_strings(json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (json_is_string(v))
            xwipe((char *)json_string_value(v), json_string_length(v));
    }
}

static int json_fields(json_t *doc, const char *source, struct creds *out,
                       struct aws_api_error *err)
{
    const char *code = jstr(doc, "Code");
    const char *akid = jstr(doc, "AccessKeyId");
    const char *secret = jstr(doc, "SecretAccessKey");
    const char *exp = jstr(doc, "Expiration");
    time_t expiration = 0;
    if (code && strcmp(code, "Success") != 0)
        return creds__fail(err, FW_EUNAVAILABLE, "CredentialsUnavailable", "%s answered Code %.64s",
                           source, code);
    if (!akid || !secret)
        return creds__fail(err, FW_EINVAL, "InvalidAnswer",
                           "%s answer lacks AccessKeyId or SecretAccessKey", source);
    if (exp && creds__parse_time(exp, &expiration) != 0)
        return creds__fail(err, FW_EINVAL, "InvalidAnswer", "%s answer has a bad Expiration",
                           source);
    creds__set(out, akid, secret, jstr(doc, "Token"), expiration, source);
    return 0;
}

int creds__parse_json_creds(const char *body, size_t len, const char *source, struct creds *out,
                            struct aws_api_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return creds__fail(err, FW_EINVAL, "InvalidAnswer", "%s answer is not a JSON object",
                           source);
    }
    int rc = json_fields(doc, source, out, err);
    wipe_json_strings(doc);
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Which URLs are allowed.                                             */

static int is_loopback_v4(const char *h, size_t n)
{
    if (n < 4 || strncmp(h, "127.", 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++) {
        if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.'))
            return 0;
    }
    return 1;
}

static int host_is(const char *h, size_t n, const char *name)
{
    return strlen(name) == n && !strncmp(h, name, n);
}

static int host_allowed_over_http(const char *h, size_t n)
{
    return is_loopback_v4(h, n) || host_is(h, n, "localhost") || host_is(h, n, "[::1]") ||
           host_is(h, n, "169.254.170.2") || host_is(h, n, "169.254.170.23") ||
           host_is(h, n, "[fd00:ec2::23]");
}

/* Host part of http(s)://[userinfo@]host[:port]/...: NULL when malformed or with userinfo. */
static const char *url_host(const char *url, int *https, size_t *n)
{
    *https = !strncmp(url, "https://", 8);
    if (!*https && strncmp(url, "http://", 7) != 0)
        return NULL;
    const char *h = url + (*https ? 8 : 7);
    size_t alen = strcspn(h, "/?#");
    if (memchr(h, '@', alen) || alen == 0)
        return NULL;
    if (h[0] == '[') {
        const char *close = memchr(h, ']', alen);
        *n = close ? (size_t)(close - h) + 1 : 0;
    } else {
        const char *colon = memchr(h, ':', alen);
        *n = colon ? (size_t)(colon - h) : alen;
    }
    return *n ? h : NULL;
}

static int full_uri(const char *full, char *url, size_t urlcap, struct aws_api_error *err)
{
    int https = 0;
    size_t n = 0;
    const char *h = url_host(full, &https, &n);
    if (!h)
        return creds__fail(
            err, FW_EINVAL, "InvalidConfiguration",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL without user info");
    if (!https && !host_allowed_over_http(h, n))
        return creds__fail(
            err, FW_EINVAL, "InvalidConfiguration",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https or a loopback/container agent host");
    if (strlen(full) >= urlcap)
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI too long");
    snprintf(url, urlcap, "%s", full);
    return 0;
}

int creds__container_url(const struct creds_env *e, char *url, size_t urlcap,
                         struct aws_api_error *err)
{
    const char *rel = creds__getenv(e, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = creds__getenv(e, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (rel) {
        if (rel[0] != '/' || strlen(rel) + sizeof(CONTAINER_HOST) > urlcap ||
            strpbrk(rel, "@ \r\n\t"))
            return creds__fail(
                err, FW_EINVAL, "InvalidConfiguration",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with '/'");
        snprintf(url, urlcap, "%s%s", CONTAINER_HOST, rel);
        return 0;
    }
    return full ? full_uri(full, url, urlcap, err) : FW_ENOTFOUND;
}

/* ------------------------------------------------------------------ */
/* Authorization token.                                                */

/* *header gets the Authorization header's value (the token, a secret) or
 * stays NULL when no token is set. */
static int auth_header(const struct creds_env *e, char **header, struct aws_api_error *err)
{
    const char *file = creds__getenv(e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok = creds__getenv(e, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char *owned = NULL;
    *header = NULL;
    if (file) {
        owned = creds__read_secret_file(file, TOKEN_MAX);
        if (!owned)
            return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                               "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (missing, empty "
                               "or over 16 KiB)");
        tok = owned;
    }
    if (tok && strpbrk(tok, "\r\n")) {
        xfree_secret(owned);
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "container authorization token has a line break");
    }
    if (tok)
        *header = xstrdup(tok);
    xfree_secret(owned);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The provider.                                                       */

static int fetch_once(const char *url, const char *auth, struct aws_http_response *resp)
{
    const struct aws_http_header headers[] = {{"Accept", "application/json"},
                                              {"Authorization", auth}};
    struct creds_http_req req = {"GET", url, headers, auth ? 2 : 1, NULL, 0, 5000, 2000, 1};
    return creds__http_fetch(&req, resp);
}

static int container_fetch(const char *url, const char *auth, struct creds *out,
                           struct aws_api_error *err)
{
    struct aws_http_response resp;
    int rc = fetch_once(url, auth, &resp);
    if (rc == 0 && resp.status >= 500) { /* one retry for agent hiccups */
        aws_http_response_cleanup(&resp);
        rc = fetch_once(url, auth, &resp);
    }
    if (rc)
        rc = creds__fail(err, rc, "CredentialsUnavailable",
                         "container credentials endpoint unreachable (%s)", fw_err_name(rc));
    else if (resp.status != 200)
        rc = creds__fail(err, FW_EUNAVAILABLE, "CredentialsUnavailable",
                         "container credentials endpoint answered HTTP %d", resp.status);
    else
        rc = creds__parse_json_creds(buf_cstr(&resp.body), resp.body.len, "container", out, err);
    aws_http_response_cleanup(&resp);
    return rc;
}

static int container_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    char url[2048];
    char *auth = NULL;
    int rc = creds__container_url(p->impl, url, sizeof(url), err);
    if (!rc)
        rc = auth_header(p->impl, &auth, err);
    if (!rc)
        rc = container_fetch(url, auth, out, err);
    xfree_secret(auth);
    return rc;
}

static void container_destroy(void *impl)
{
    free(impl);
}

static const struct creds_provider_vtable s_container_vt = {"container", container_get,
                                                            container_destroy};

struct creds_provider *creds__container_provider_new(const struct creds_env *e)
{
    struct creds_env *copy = xmalloc(sizeof(*copy));
    *copy = *e;
    return creds__provider_new(&s_container_vt, copy);
}
