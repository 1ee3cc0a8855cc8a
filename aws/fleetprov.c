/*
 * fleetprov.c - the fleet provisioning MQTT API (see fleetprov.h).
 *
 * One request: subscribe to REQUEST/accepted and REQUEST/rejected (a
 * device must, or AWS drops the answer), expect both, publish, wait. The
 * answer is parsed with bounds; its buffer is wiped (it may hold a key).
 */
#include "aws/fleetprov.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dataplane.h"
#include "aws/iotmqtt.h"
#include "service/core/err.h"
#include "service/core/mem.h"

static const char *const s_ops[] = {"iot:CreateKeysAndCertificate", "iot:CreateCertificateFromCsr",
                                    "iot:RegisterThing"};

const char *fleetprov_operation(enum fleetprov_api api)
{
    return (unsigned)api < 3 ? s_ops[api] : "";
}

static int template_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 36 &&
           strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") == n;
}

int fleetprov_topic(enum fleetprov_api api, const char *template_name, const char *suffix,
                    char *out, size_t outlen)
{
    int n;
    suffix = suffix ? suffix : "";
    if (api == FLEETPROV_CREATE_KEYS)
        n = snprintf(out, outlen, "$aws/certificates/create/json%s", suffix);
    else if (api == FLEETPROV_CREATE_FROM_CSR)
        n = snprintf(out, outlen, "$aws/certificates/create-from-csr/json%s", suffix);
    else if (api == FLEETPROV_REGISTER_THING && template_name_ok(template_name))
        n = snprintf(out, outlen, "$aws/provisioning-templates/%s/provision/json%s", template_name,
                     suffix);
    else
        return FW_EINVAL;
    return n > 0 && (size_t)n < outlen ? 0 : FW_EINVAL;
}

/* ---- requests ---- */

char *fleetprov_request_csr(const char *csr_pem)
{
    json_t *o = json_pack("{s:s}", "certificateSigningRequest", csr_pem ? csr_pem : "");
    char *text = o ? json_dumps(o, JSON_COMPACT) : 0;
    json_decref(o);
    return text;
}

static int params_ok(const json_t *p, char *why, size_t whylen)
{
    if (!p || json_is_null(p))
        return 0;
    if (!json_is_object(p) || json_object_size(p) > FLEETPROV_PARAMS_MAX) {
        snprintf(why, whylen, "parameters must be an object of at most %d strings",
                 FLEETPROV_PARAMS_MAX);
        return FW_EINVAL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v)
    {
        if (!json_is_string(v) || strlen(k) > FLEETPROV_PARAM_KEY_MAX ||
            json_string_length(v) > FLEETPROV_PARAM_VALUE_MAX || !k[0]) {
            snprintf(why, whylen,
                     "parameter names are 1-%d characters, values strings of at most %d",
                     FLEETPROV_PARAM_KEY_MAX, FLEETPROV_PARAM_VALUE_MAX);
            return FW_EINVAL;
        }
    }
    return 0;
}

int fleetprov_request_register(const char *token, const json_t *parameters, char **out, char *why,
                               size_t whylen)
{
    *out = 0;
    if (params_ok(parameters, why, whylen))
        return FW_EINVAL;
    json_t *params = json_is_object(parameters) ? json_incref((json_t *)parameters) : json_object();
    json_t *o = json_pack("{s:s, s:o}", "certificateOwnershipToken", token ? token : "",
                          "parameters", params);
    *out = o ? json_dumps(o, JSON_COMPACT) : 0;
    const char *t = json_string_value(json_object_get(o, "certificateOwnershipToken"));
    if (t)
        xwipe((char *)t, strlen(t)); /* jansson's copy of the token */
    json_decref(o);
    return *out ? 0 : FW_EINTERNAL;
}

/* ---- answers ---- */

static int bad(struct aws_api_error *err, const char *op, const char *what)
{
    awserr_set(err, 0, DP_ERR_BAD_ANSWER, "the %s answer is not valid: %s", op, what);
    snprintf(err->operation, sizeof err->operation, "%s", op);
    return FW_EAWS;
}

static int is_hex64(const char *s)
{
    return s && strlen(s) == 64 && strspn(s, "0123456789abcdefABCDEF") == 64;
}

static int pem_ok(const char *s, const char *kind)
{
    return s && strlen(s) <= FLEETPROV_PEM_MAX && strstr(s, "-----BEGIN ") == s &&
           strstr(s, kind) && strstr(s, "-----END ");
}

static int token_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > FLEETPROV_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isprint((unsigned char)s[i]))
            return 0;
    return 1;
}

static json_t *load(const char *json, size_t len)
{
    json_t *o = len ? json_loadb(json, len, JSON_REJECT_DUPLICATES, 0) : 0;
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = 0;
    }
    return o;
}

int fleetprov_parse_cert(const char *json, size_t len, int want_key, struct fleetprov_cert *out,
                         struct aws_api_error *err)
{
    const char *op = s_ops[want_key ? FLEETPROV_CREATE_KEYS : FLEETPROV_CREATE_FROM_CSR];
    memset(out, 0, sizeof *out);
    json_t *o = load(json, len);
    const char *id = json_string_value(json_object_get(o, "certificateId"));
    const char *pem = json_string_value(json_object_get(o, "certificatePem"));
    const char *key = json_string_value(json_object_get(o, "privateKey"));
    const char *tok = json_string_value(json_object_get(o, "certificateOwnershipToken"));
    int rc = 0;
    if (!o)
        rc = bad(err, op, "not a JSON object");
    else if (!is_hex64(id))
        rc = bad(err, op, "certificateId is not 64 hex digits");
    else if (!pem_ok(pem, "CERTIFICATE"))
        rc = bad(err, op, "certificatePem is not a PEM certificate of at most 16 KiB");
    else if (want_key && !pem_ok(key, "PRIVATE KEY"))
        rc = bad(err, op, "privateKey is not a PEM private key of at most 16 KiB");
    else if (!token_ok(tok))
        rc = bad(err, op,
                 "certificateOwnershipToken is missing or not printable text of at most 8 KiB");
    if (!rc) {
        snprintf(out->certificate_id, sizeof out->certificate_id, "%s", id);
        out->certificate_pem = xstrdup(pem);
        out->private_key = want_key ? xstrdup(key) : 0;
        out->ownership_token = xstrdup(tok);
    }
    if (key)
        xwipe((char *)key, strlen(key)); /* jansson's copy of the key */
    if (tok)
        xwipe((char *)tok, strlen(tok));
    json_decref(o);
    return rc;
}

static int thing_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= FLEETPROV_THING_MAX &&
           strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz:_-") == n;
}

int fleetprov_parse_registered(const char *json, size_t len, struct fleetprov_registered *out,
                               struct aws_api_error *err)
{
    const char *op = s_ops[FLEETPROV_REGISTER_THING];
    memset(out, 0, sizeof *out);
    json_t *o = load(json, len);
    const json_t *name = json_object_get(o, "thingName");
    const json_t *dc = json_object_get(o, "deviceConfiguration");
    int rc = 0;
    if (!o)
        rc = bad(err, op, "not a JSON object");
    else if (name && !thing_name_ok(json_string_value(name)))
        rc = bad(err, op, "thingName is not a thing name");
    else if (dc && !json_is_object(dc))
        rc = bad(err, op, "deviceConfiguration is not an object");
    if (!rc) {
        snprintf(out->thing_name, sizeof out->thing_name, "%s",
                 name ? json_string_value(name) : "");
        out->device_configuration = dc ? json_incref((json_t *)dc) : json_object();
    }
    json_decref(o);
    return rc;
}

int fleetprov_parse_rejected(const char *json, size_t len, enum fleetprov_api api,
                             struct aws_api_error *err)
{
    const char *op = fleetprov_operation(api);
    json_t *o = load(json, len);
    const json_t *st = json_object_get(o, "statusCode");
    const char *code = json_string_value(json_object_get(o, "errorCode"));
    const char *msg = json_string_value(json_object_get(o, "errorMessage"));
    if (!o || (st && !json_is_integer(st)) || !code || !*code || strlen(code) >= sizeof err->code ||
        strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:_-") !=
            strlen(code)) {
        json_decref(o);
        return bad(err, op, "a rejected answer without a readable errorCode");
    }
    json_int_t s = st ? json_integer_value(st) : 400;
    awserr_set(err, s >= 100 && s <= 599 ? (int)s : 0, code, "%s", msg ? msg : "");
    snprintf(err->operation, sizeof err->operation, "%s", op);
    json_decref(o);
    return FW_EAWS;
}

void fleetprov_cert_cleanup(struct fleetprov_cert *c)
{
    if (!c)
        return;
    free(c->certificate_pem);
    xfree_secret(c->private_key);
    xfree_secret(c->ownership_token);
    memset(c, 0, sizeof *c);
}

void fleetprov_registered_cleanup(struct fleetprov_registered *r)
{
    if (!r)
        return;
    json_decref(r->device_configuration);
    memset(r, 0, sizeof *r);
}

/* ---- the calls ---- */

/* Subscribes, publishes payload, waits: 0 with the answer in *answer and
 * *accepted 1 or 0. t names the MQTT operation that failed. */
static int request(struct iotmqtt *m, enum fleetprov_api api, const char *tpl, const char *payload,
                   struct buf *answer, int *accepted, struct fleetprov_trace *t,
                   struct aws_api_error *err)
{
    char req[FLEETPROV_TOPIC_MAX], acc[FLEETPROV_TOPIC_MAX], rej[FLEETPROV_TOPIC_MAX];
    if (fleetprov_topic(api, tpl, "", req, sizeof req) ||
        fleetprov_topic(api, tpl, "/accepted", acc, sizeof acc) ||
        fleetprov_topic(api, tpl, "/rejected", rej, sizeof rej)) {
        awserr_set(err, 0, "InvalidParameter", "the template name is not 1-36 of [0-9A-Za-z_-]");
        return FW_EINVAL;
    }
    const char *const filters[] = {acc, rej};
    size_t refused = 0, which = 0;
    t->stage = 0;
    int rc = iotmqtt_subscribe(m, filters, 2, &refused, err);
    snprintf(t->topic, sizeof t->topic, "%s", rc ? filters[refused] : req);
    if (rc)
        return rc;
    iotmqtt_expect(m, filters, 2);
    t->stage = 1;
    rc = iotmqtt_publish(m, req, payload, strlen(payload), err);
    if (!rc) {
        t->stage = 2;
        rc = iotmqtt_wait(m, &which, answer, err);
    }
    if (!rc) {
        t->stage = 3;
        *accepted = which == 0;
    }
    return rc;
}

static int create_cert(struct iotmqtt *m, enum fleetprov_api api, const char *payload,
                       struct fleetprov_cert *out, struct fleetprov_trace *t,
                       struct aws_api_error *err)
{
    struct buf answer;
    int accepted = 0;
    buf_init(&answer, IOTMQTT_MAX_PAYLOAD);
    memset(out, 0, sizeof *out);
    int rc = request(m, api, 0, payload, &answer, &accepted, t, err);
    if (!rc && accepted)
        rc = fleetprov_parse_cert(answer.ptr, answer.len, api == FLEETPROV_CREATE_KEYS, out, err);
    else if (!rc)
        rc = fleetprov_parse_rejected(answer.ptr, answer.len, api, err);
    buf_free_secure(&answer);
    return rc;
}

int fleetprov_create_keys(struct iotmqtt *m, struct fleetprov_cert *out, struct fleetprov_trace *t,
                          struct aws_api_error *err)
{
    return create_cert(m, FLEETPROV_CREATE_KEYS, "{}", out, t, err);
}

int fleetprov_create_from_csr(struct iotmqtt *m, const char *csr_pem, struct fleetprov_cert *out,
                              struct fleetprov_trace *t, struct aws_api_error *err)
{
    char *payload = fleetprov_request_csr(csr_pem);
    int rc =
        payload ? create_cert(m, FLEETPROV_CREATE_FROM_CSR, payload, out, t, err) : FW_EINTERNAL;
    free(payload);
    return rc;
}

int fleetprov_register_thing(struct iotmqtt *m, const char *template_name, const char *token,
                             const json_t *parameters, struct fleetprov_registered *out,
                             struct fleetprov_trace *t, struct aws_api_error *err)
{
    char *payload = 0, why[200];
    memset(out, 0, sizeof *out);
    if (fleetprov_request_register(token, parameters, &payload, why, sizeof why)) {
        awserr_set(err, 0, "InvalidParameter", "%s", why);
        return FW_EINVAL;
    }
    struct buf answer;
    int accepted = 0;
    buf_init(&answer, IOTMQTT_MAX_PAYLOAD);
    int rc =
        request(m, FLEETPROV_REGISTER_THING, template_name, payload, &answer, &accepted, t, err);
    if (!rc && accepted)
        rc = fleetprov_parse_registered(answer.ptr, answer.len, out, err);
    else if (!rc)
        rc = fleetprov_parse_rejected(answer.ptr, answer.len, FLEETPROV_REGISTER_THING, err);
    buf_free_secure(&answer);
    xfree_secret(payload);
    return rc;
}
