/*
 * dataplane.c - endpoint names, ALPN, MQTT 5 reason codes and the hints of
 * a fleet verification (see dataplane.h). Pure.
 *
 * The hints read AWS's own error text only to tell two causes of the same
 * code apart (RegisterThing's AccessDenied comes from the hook or from the
 * provisioning role; the credentials provider's 403 from the certificate or
 * from the policy); the text itself is kept next to the hint, unchanged.
 */
#include "aws/dataplane.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/endpoint.h"
#include "service/core/err.h"

static void say(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

/* ---- endpoints ---- */

static int listed(const char *host, const char *allow)
{
    size_t hl = strlen(host);
    for (const char *p = allow; p && *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n && n == hl && !strncasecmp(p, host, n))
            return 1;
        p += n;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && !strcasecmp(s + a - b, suffix);
}

int dataplane_endpoint_ok(const char *host, const char *region, const char *allow, char *why,
                          size_t whylen)
{
    size_t n = host ? strlen(host) : 0;
    if (!n || n > DP_HOST_MAX ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n ||
        host[0] == '.' || host[0] == '-' || strstr(host, "..")) {
        say(why, whylen, "the endpoint is not a host name");
        return FW_EINVAL;
    }
    if (listed(host, allow))
        return 0;
    char com[96], cn[96];
    if (!region || !endpoint_region_valid(region)) {
        say(why, whylen, "the fleet's region is not an AWS region");
        return FW_EINVAL;
    }
    snprintf(com, sizeof com, ".iot.%s.amazonaws.com", region);
    snprintf(cn, sizeof cn, ".iot.%s.amazonaws.com.cn", region);
    if ((ends_with(host, com) || ends_with(host, cn)) && host[0] != '.')
        return 0;
    say(why, whylen,
        "%s is not an AWS IoT endpoint of %s (FLEETWARDEN_IOT_ENDPOINT_HOSTS lists other names)",
        host, region);
    return FW_EINVAL;
}

int dataplane_alpn_wanted(int port, const char *mode)
{
    if (!mode || !*mode || !strcmp(mode, "auto"))
        return port == 443;
    if (!strcmp(mode, "on"))
        return 1;
    if (!strcmp(mode, "off"))
        return 0;
    return -1;
}

int dataplane_claim_policy_csr_only(const char *doc)
{
    static const char *const keys[] = {"certificates/create/", "certificates/create*",
                                       "certificates/*"};
    if (!doc || !strstr(doc, "certificates/create-from-csr"))
        return 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strstr(doc, keys[i]))
            return 0;
    return 1;
}

/* ---- MQTT 5 reason codes (OASIS MQTT 5.0, 2.4) ---- */

struct reason {
    int code;
    const char *name;
    enum aws_err_class cls;
};

static const struct reason s_reasons[] = {
    {0x80, "Unspecified error", AWS_ERRC_OTHER},
    {0x81, "Malformed Packet", AWS_ERRC_VALIDATION},
    {0x82, "Protocol Error", AWS_ERRC_VALIDATION},
    {0x83, "Implementation specific error", AWS_ERRC_OTHER},
    {0x85, "Client Identifier not valid", AWS_ERRC_VALIDATION},
    {0x86, "Bad User Name or Password", AWS_ERRC_ACCESS},
    {0x87, "Not authorized", AWS_ERRC_ACCESS},
    {0x88, "Server unavailable", AWS_ERRC_TRANSIENT},
    {0x89, "Server busy", AWS_ERRC_THROTTLING},
    {0x8A, "Banned", AWS_ERRC_ACCESS},
    {0x8D, "Keep Alive timeout", AWS_ERRC_TRANSIENT},
    {0x8E, "Session taken over", AWS_ERRC_CONFLICT},
    {0x8F, "Topic Filter invalid", AWS_ERRC_VALIDATION},
    {0x90, "Topic Name invalid", AWS_ERRC_VALIDATION},
    {0x93, "Receive Maximum exceeded", AWS_ERRC_VALIDATION},
    {0x95, "Packet too large", AWS_ERRC_VALIDATION},
    {0x97, "Quota exceeded", AWS_ERRC_THROTTLING},
    {0x98, "Administrative action", AWS_ERRC_ACCESS},
    {0x99, "Payload format invalid", AWS_ERRC_VALIDATION},
    {0x9E, "Shared Subscriptions not supported", AWS_ERRC_VALIDATION},
    {0x9F, "Connection rate exceeded", AWS_ERRC_THROTTLING},
};

static const struct reason *reason_of(int code)
{
    for (size_t i = 0; i < sizeof s_reasons / sizeof s_reasons[0]; i++)
        if (s_reasons[i].code == code)
            return &s_reasons[i];
    return 0;
}

const char *dataplane_reason_name(int code, char *buf, size_t buflen)
{
    const struct reason *r = reason_of(code);
    if (r)
        return r->name;
    snprintf(buf, buflen, "reason 0x%02X", (unsigned)code & 0xFFu);
    return buf;
}

void dataplane_mqtt_error(struct aws_api_error *e, const char *code, const char *operation,
                          int reason_code, const char *reason_string, const char *detail)
{
    char nb[24];
    const char *rs = reason_string && *reason_string ? reason_string : 0;
    if (reason_code >= 0)
        awserr_set(e, 0, code, "%s (0x%02X)%s%s%s%s",
                   dataplane_reason_name(reason_code, nb, sizeof nb), (unsigned)reason_code & 0xFFu,
                   rs ? ": " : "", rs ? rs : "", detail ? "; " : "", detail ? detail : "");
    else
        awserr_set(e, 0, code, "%s", detail ? detail : "the broker closed the connection");
    snprintf(e->operation, sizeof e->operation, "%s", operation ? operation : "");
    const struct reason *r = reason_code >= 0 ? reason_of(reason_code) : 0;
    e->cls = r ? r->cls : AWS_ERRC_ACCESS; /* AWS closes an MQTT 3.1.1 client it refuses */
    e->retryable = e->cls == AWS_ERRC_THROTTLING || e->cls == AWS_ERRC_TRANSIENT;
}

/* ---- hints ---- */

static const char *const s_steps[] = {
    "", "claim", "certificate", "registerThing", "thingConnect", "credentials", "cleanup"};

const char *dataplane_step_name(int step)
{
    return step >= DP_STEP_CLAIM && step <= DP_STEP_CLEANUP ? s_steps[step] : "";
}

static const char *or_(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

static int has(const struct aws_api_error *e, const char *text)
{
    return e && strcasestr(e->message, text) != 0;
}

static int code_is(const struct aws_api_error *e, const char *code)
{
    return e && !strcmp(e->code, code);
}

/* The policy whose rights the step's MQTT traffic used. */
static void policy_words(const struct dp_names *n, int step, char *out, size_t len)
{
    if (step == DP_STEP_THING_CONNECT && n->thing_policy)
        say(out, len, "thing policy `%s`", n->thing_policy);
    else if (step == DP_STEP_THING_CONNECT)
        say(out, len, "the per-device policy of template `%s`", or_(n->template_name, "?"));
    else
        say(out, len, "claim policy `%s`", or_(n->claim_policy, "?"));
}

static void mqtt_hint(const struct dp_names *n, const struct dp_failure *f, char *out, size_t len)
{
    char pol[300];
    policy_words(n, f->step, pol, sizeof pol);
    const char *t = or_(f->topic, "?");
    switch (f->kind) {
    case DP_FAIL_CONNECT:
        if (f->step == DP_STEP_THING_CONNECT && has(f->err, "certificate"))
            say(out, len,
                "the new certificate was refused at connect: template `%s` must make it ACTIVE "
                "(AWS::IoT::Certificate Status Active)",
                or_(n->template_name, "?"));
        else
            say(out, len, "%s does not allow iot:Connect on `client/%s`", pol,
                or_(n->client_id, "?"));
        return;
    case DP_FAIL_SUBSCRIBE:
        say(out, len, "%s does not allow iot:Subscribe on `%s`", pol, t);
        return;
    case DP_FAIL_PUBLISH: say(out, len, "%s does not allow iot:Publish on `%s`", pol, t); return;
    default:
        say(out, len,
            "no answer on `%s/accepted` or `%s/rejected`: %s does not allow iot:Receive on them", t,
            t, pol);
    }
}

static int access_denied(const struct aws_api_error *e)
{
    return code_is(e, "AccessDenied") || code_is(e, "AccessDeniedException");
}

static void register_hint(const struct dp_names *n, const struct aws_api_error *e, char *out,
                          size_t len)
{
    const char *tpl = or_(n->template_name, "?");
    if (has(e, "disabled"))
        say(out, len,
            "provisioning template `%s` is disabled: enable it (UpdateProvisioningTemplate "
            "enabled=true)",
            tpl);
    else if (code_is(e, "ResourceNotFound") || code_is(e, "ResourceNotFoundException"))
        say(out, len, "provisioning template `%s` does not exist in this account and region", tpl);
    else if (code_is(e, "TemplateMakesNoThing"))
        say(out, len, "template `%s` makes no AWS::IoT::Thing: a Greengrass core device needs one",
            tpl);
    else if (access_denied(e) && (has(e, "hook") || (n->hook_arn && !has(e, "role"))))
        say(out, len,
            "the pre-provisioning hook `%s` of template `%s` refused the device: look at the "
            "hook's "
            "answer (allowProvisioning) and its logs",
            or_(n->hook_arn, "?"), tpl);
    else if (access_denied(e) && (has(e, "trust") || has(e, "cannot be assumed")))
        say(out, len, "provisioning role `%s` of template `%s` does not trust iot.amazonaws.com",
            or_(n->provisioning_role, "?"), tpl);
    else if (access_denied(e) || has(e, "provisioning role"))
        say(out, len,
            "provisioning role `%s` of template `%s` may not register things: attach "
            "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration (or the actions AWS "
            "names)",
            or_(n->provisioning_role, "?"), tpl);
    else if (has(e, "thing group"))
        say(out, len,
            "template `%s` puts the thing in a thing group that does not exist: create it", tpl);
    else if (has(e, "policy"))
        say(out, len, "template `%s` names a policy that does not exist or is not valid", tpl);
    else
        say(out, len, "RegisterThing was rejected by template `%s`: read AWS's error", tpl);
}

static void credentials_hint(const struct dp_names *n, const struct aws_api_error *e, char *out,
                             size_t len)
{
    const char *alias = or_(n->role_alias, "?");
    int status = e ? e->http_status : 0;
    if (status == 403 && has(e, "certificate"))
        say(out, len,
            "the credentials provider refused the new certificate: template `%s` must make it "
            "ACTIVE",
            or_(n->template_name, "?"));
    else if (status == 403 && has(e, "thing"))
        say(out, len,
            "the thing is not attached to the new certificate: template `%s` must attach it",
            or_(n->template_name, "?"));
    else if (status == 403 && n->thing_policy)
        say(out, len,
            "thing policy `%s` does not allow iot:AssumeRoleWithCertificate on role alias `%s`",
            n->thing_policy, alias);
    else if (status == 403)
        say(out, len,
            "the per-device policy of template `%s` does not allow iot:AssumeRoleWithCertificate "
            "on "
            "role alias `%s`",
            or_(n->template_name, "?"), alias);
    else if (status == 404)
        say(out, len, "role alias `%s` does not exist", alias);
    else if (has(e, "MaxSessionDuration"))
        say(out, len,
            "role alias `%s` asks for longer credentials than role `%s` allows "
            "(MaxSessionDuration)",
            alias, or_(n->role_arn, "?"));
    else if (status == 400)
        say(out, len,
            "role alias `%s` points at role `%s`, which does not exist or does not trust "
            "credentials.iot.amazonaws.com (sts:AssumeRole in its trust policy)",
            alias, or_(n->role_arn, "?"));
    else
        say(out, len, "the credentials provider refused role alias `%s`: read AWS's error", alias);
}

void dataplane_hint(const struct dp_names *n, const struct dp_failure *f, char *out, size_t outlen)
{
    static const struct dp_names none;
    if (!n)
        n = &none;
    if (f->kind == DP_FAIL_UNREACHABLE)
        say(out, outlen,
            "cannot reach %s: check the endpoint (DescribeEndpoint), the port "
            "(FLEETWARDEN_IOT_MQTT_PORT / FLEETWARDEN_IOT_CREDENTIALS_PORT) and the network",
            or_(n->host, "the endpoint"));
    else if (f->kind == DP_FAIL_TLS)
        say(out, outlen,
            "TLS with %s failed: the endpoint's certificate must chain to FLEETWARDEN_ROOT_CA_FILE "
            "and name the host; the client certificate must be one AWS IoT issued",
            or_(n->host, "the endpoint"));
    else if (f->kind >= DP_FAIL_CONNECT && f->kind <= DP_FAIL_NO_ANSWER)
        mqtt_hint(n, f, out, outlen);
    else if (f->step == DP_STEP_REGISTER)
        register_hint(n, f->err, out, outlen);
    else if (f->kind == DP_FAIL_IDENTITY)
        say(out, outlen,
            "role alias `%s` hands out credentials of another role than `%s`: point it at the "
            "token exchange role",
            or_(n->role_alias, "?"), or_(n->role_arn, "?"));
    else if (f->step == DP_STEP_CREDENTIALS && f->err && !strncmp(f->err->operation, "sts:", 4))
        say(out, outlen,
            "STS refused the credentials role alias `%s` handed out: role `%s` must be usable "
            "(read AWS's error)",
            or_(n->role_alias, "?"), or_(n->role_arn, "?"));
    else if (f->step == DP_STEP_CREDENTIALS)
        credentials_hint(n, f->err, out, outlen);
    else if (f->step == DP_STEP_CERTIFICATE)
        say(out, outlen, "the certificate API was rejected for claim policy `%s`: read AWS's error",
            or_(n->claim_policy, "?"));
    else if (f->step == DP_STEP_CLAIM)
        say(out, outlen,
            "the claim certificate could not be made or attached to claim policy `%s`: the "
            "service's "
            "IAM policy (deploy/iam) and the claim policy must exist",
            or_(n->claim_policy, "?"));
    else
        say(out, outlen, "remove what the verification left by hand: read the step's `left` list");
}
