/*
 * credprovider.c - the IoT credentials provider call (see credprovider.h).
 *
 * Each call makes its own HTTP handle and frees it afterwards: the
 * connection carries the device's certificate, and no later call of any
 * kind must find it in a handle's connection cache.
 */
#include "aws/credprovider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/dataplane.h"
#include "aws/http.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define OP "iot:AssumeRoleWithCertificate"

static int alias_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= CREDPROVIDER_ALIAS_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=,@-") == n;
}

static int bad(struct aws_api_error *err, const char *what)
{
    awserr_set(err, 0, DP_ERR_BAD_ANSWER, "the credentials provider's answer is not valid: %s",
               what);
    snprintf(err->operation, sizeof err->operation, OP);
    return FW_EAWS;
}

static int printable(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

int credprovider_parse(const char *body, size_t len, struct credprovider_creds *out,
                       struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *doc = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, 0) : 0;
    const json_t *c = json_object_get(doc, "credentials");
    const char *akid = json_string_value(json_object_get(c, "accessKeyId"));
    const char *sec = json_string_value(json_object_get(c, "secretAccessKey"));
    const char *tok = json_string_value(json_object_get(c, "sessionToken"));
    const char *exp = json_string_value(json_object_get(c, "expiration"));
    int rc = 0;
    if (!json_is_object(c))
        rc = bad(err, "no credentials object");
    else if (!akid || strlen(akid) < 16 || strlen(akid) > 128 ||
             strspn(akid, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(akid))
        rc = bad(err, "accessKeyId is not an access key id");
    else if (!printable(sec, 128) || !printable(tok, CREDPROVIDER_TOKEN_MAX))
        rc = bad(err, "secretAccessKey or sessionToken missing or too long");
    else if (!exp || strlen(exp) >= sizeof out->expiration ||
             strspn(exp, "0123456789-:TZ.+") != strlen(exp))
        rc = bad(err, "expiration is not a time");
    if (!rc) {
        snprintf(out->access_key_id, sizeof out->access_key_id, "%s", akid);
        out->secret_access_key = xstrdup(sec);
        out->session_token = xstrdup(tok);
        snprintf(out->expiration, sizeof out->expiration, "%s", exp);
    }
    if (sec)
        xwipe((char *)sec, strlen(sec)); /* jansson's copies */
    if (tok)
        xwipe((char *)tok, strlen(tok));
    json_decref(doc);
    return rc;
}

void credprovider_error(int status, const char *error_type, const char *body, size_t len,
                        struct aws_api_error *err)
{
    awserr_from_json(err, status, error_type, body, len, 0);
    if (!strncmp(err->code, "Http", 4)) {
        /* The provider sends a type only with 403; keep its message with the status. */
        json_t *doc = len ? json_loadb(body, len, 0, 0) : 0;
        const char *msg = json_string_value(json_object_get(doc, "message"));
        char code[sizeof err->code];
        memcpy(code, err->code, sizeof code);
        awserr_set(err, status, code, "%s", msg && strlen(msg) < 400 ? msg : "no readable message");
        json_decref(doc);
    }
    snprintf(err->operation, sizeof err->operation, OP);
}

static int build_url(const struct credprovider_request *r, char *url, size_t len,
                     struct aws_api_error *err)
{
    size_t hl = r->host ? strlen(r->host) : 0;
    if (!alias_ok(r->role_alias) || !hl || hl > DP_HOST_MAX ||
        strspn(r->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != hl ||
        r->port <= 0 || r->port > 65535) {
        awserr_set(err, 0, "InvalidParameter",
                   "the credentials call needs a host name, a port and a role alias "
                   "of 1-128 of [A-Za-z0-9_=,@-]");
        snprintf(err->operation, sizeof err->operation, OP);
        return FW_EINVAL;
    }
    snprintf(url, len, "https://%s:%d/role-aliases/%s/credentials", r->host, r->port,
             r->role_alias);
    return 0;
}

int credprovider_get(const struct credprovider_request *r, struct credprovider_creds *out,
                     struct aws_api_error *err)
{
    memset(out, 0, sizeof *out);
    char url[600];
    int rc = build_url(r, url, sizeof url, err);
    if (rc)
        return rc;
    struct aws_http_options o = {r->timeout_ms > 0 ? r->timeout_ms : 10000,
                                 r->timeout_ms > 0 ? r->timeout_ms : 10000, CREDPROVIDER_MAX_ANSWER,
                                 r->ca_file};
    struct aws_http *h = aws_http_new(&o);
    if (!h) {
        awserr_set(err, 0, AWSERR_CONNECTION, "libcurl could not make a handle");
        return FW_EINTERNAL;
    }
    struct aws_http_header hdr[] = {{"Accept", "application/json"},
                                    {"x-amzn-iot-thingname", r->thing_name}};
    struct aws_http_request req = {"GET", url, hdr, r->thing_name ? 2 : 1, 0, 0, r->address};
    struct aws_http_response resp;
    aws_http_response_init(&resp);
    rc = aws_http_send_mtls(h, &req, r->cert_pem, r->key_pem, &resp, err);
    if (!rc && resp.status == 200)
        rc = credprovider_parse(resp.body.ptr, resp.body.len, out, err);
    else if (!rc) {
        credprovider_error(resp.status, resp.error_type, resp.body.ptr, resp.body.len, err);
        snprintf(err->request_id, sizeof err->request_id, "%.63s", resp.request_id);
        rc = FW_EAWS;
    } else {
        snprintf(err->operation, sizeof err->operation, OP);
    }
    aws_http_response_cleanup(&resp);
    aws_http_free(h);
    return rc;
}

void credprovider_creds_cleanup(struct credprovider_creds *c)
{
    if (!c)
        return;
    xfree_secret(c->secret_access_key);
    xfree_secret(c->session_token);
    memset(c, 0, sizeof *c);
}
