/*
 * verify_device.c - steps 2 to 5 of a verification: what a Greengrass core
 * device does with its claim (aws.greengrass.FleetProvisioningByClaim),
 * then with its own certificate.
 *
 * Each failure is recorded with AWS's error and a hint; where the hint
 * needs a name the fleet record may not hold right (the template's role
 * or hook, the role behind the alias), one describe call reads it from AWS
 * first. The device's certificate is written to the journal as soon as
 * its id is known, the thing's name before RegisterThing is sent.
 */
#include "verify_internal.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/credprovider.h"
#include "aws/creds.h"
#include "aws/iot.h"
#include "aws/iotmqtt.h"
#include "aws/iotthing.h"
#include "aws/sts.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/keys.h"
#include "service/domain/store.h"
#include "service/domain/verify_spec.h"

static int outage_or_fail(struct verify_ctx *v, int step, enum dp_fail kind, const char *topic,
                          const char *checked)
{
    if (verify_outage(v, &v->err))
        return awserr_to_fw(&v->err);
    return verify_fail(v, step, kind, topic, &v->err, "%s", checked);
}

/* What an MQTT failure was, by our error code and the stage of the call. */
static enum dp_fail mqtt_kind(const struct aws_api_error *e, int stage)
{
    if (!strcmp(e->code, AWSERR_TLS))
        return DP_FAIL_TLS;
    if (!strcmp(e->code, AWSERR_CONNECTION) || !strcmp(e->code, AWSERR_TIMEOUT))
        return DP_FAIL_UNREACHABLE;
    if (!strcmp(e->code, DP_ERR_CONNECT_REFUSED) || stage < 0)
        return DP_FAIL_CONNECT;
    if (!strcmp(e->code, DP_ERR_SUBSCRIBE_REFUSED) ||
        (!strcmp(e->code, DP_ERR_DISCONNECTED) && stage == 0))
        return DP_FAIL_SUBSCRIBE;
    if (!strcmp(e->code, DP_ERR_PUBLISH_REFUSED) ||
        (!strcmp(e->code, DP_ERR_DISCONNECTED) && stage == 1))
        return DP_FAIL_PUBLISH;
    if (!strcmp(e->code, DP_ERR_NO_ANSWER) || !strcmp(e->code, DP_ERR_DISCONNECTED))
        return DP_FAIL_NO_ANSWER;
    return DP_FAIL_REJECTED;
}

static int connect_as(struct verify_ctx *v, int step, const char *cert, const char *key,
                      const char *client, struct iotmqtt **out)
{
    snprintf(v->client_id, sizeof v->client_id, "%s", client);
    v->names.client_id = v->client_id;
    v->names.host = v->data_peer;
    struct iotmqtt_options o = {v->data_host,
                                v->data_addr,
                                v->st->mqtt_port,
                                dataplane_alpn_wanted(v->st->mqtt_port, v->st->alpn) == 1,
                                v->st->ca_file,
                                cert,
                                key,
                                client,
                                60,
                                v->st->timeout_ms};
    verify_call(v, "iot-dataplane", 1);
    awserr_clear(&v->err);
    if (!iotmqtt_connect(&o, out, &v->err))
        return 0;
    char checked[600];
    snprintf(checked, sizeof checked, "MQTT 5 over TLS to %s%s as client %s with the %s",
             v->data_peer, o.alpn ? " (ALPN " IOTMQTT_ALPN ")" : "", client,
             step == DP_STEP_THING_CONNECT ? "new certificate" : "claim certificate");
    return outage_or_fail(v, step, mqtt_kind(&v->err, -1), 0, checked);
}

/* ---- step 2 ---- */

/* 1 when the claim policy lets a device use only CreateCertificateFromCsr. */
static int csr_only(struct verify_ctx *v)
{
    struct iot_policy p = {0};
    struct aws_api_error e;
    awserr_clear(&e);
    verify_call(v, "iot-describe", 0);
    int only = !iot_get_policy(v->aws, v->names.claim_policy, &p, &e) &&
               dataplane_claim_policy_csr_only(p.policy_document);
    iot_policy_cleanup(&p);
    return only;
}

static int create_from_csr(struct verify_ctx *v, struct fleetprov_trace *t)
{
    struct keys_pair *k = 0;
    char *key = 0, *csr = 0;
    int rc = keys_generate(KEYS_EC_P256, &k);
    rc = rc ? rc : keys_private_pem(k, &key);
    rc = rc ? rc : keys_make_csr(k, v->client_id, &csr);
    keys_free(k);
    if (!rc) {
        rc = fleetprov_create_from_csr(v->conn, csr, &v->dev, t, &v->err);
        if (!rc)
            v->dev.private_key = key, key = 0;
    }
    xfree_secret(key);
    free(csr);
    return rc;
}

static int record_device_cert(struct verify_ctx *v)
{
    char arn[300];
    verify_cert_arn(v, v->dev.certificate_id, arn, sizeof arn);
    json_object_set_new(v->made, "deviceCertificate",
                        json_pack("{s:s, s:s}", "id", v->dev.certificate_id, "arn", arn));
    return verify_save_made(v);
}

/* A request AWS accepted but never answered may have made a certificate we
 * cannot know (its key came with the lost answer): the cleanup says so. */
static void note_unanswered(struct verify_ctx *v)
{
    char at[32];
    store_format_time(store_now_ms(), at);
    json_object_set_new(v->made, "unansweredCertificateRequest", json_string(at));
    verify_save_made(v);
}

int verify_certificate(struct verify_ctx *v)
{
    char client[80];
    snprintf(client, sizeof client, "%sclaim-%s", VERIFY_THING_PREFIX, v->token);
    int csr = csr_only(v);
    int rc =
        connect_as(v, DP_STEP_CERTIFICATE, v->claim_cert_pem, v->claim_key_pem, client, &v->conn);
    if (rc)
        return rc;
    struct fleetprov_trace t = {{0}, 0};
    snprintf(v->api, sizeof v->api, "%s",
             csr ? "CreateCertificateFromCsr" : "CreateKeysAndCertificate");
    verify_call(v, "iot-dataplane", 1);
    rc = csr ? create_from_csr(v, &t) : fleetprov_create_keys(v->conn, &v->dev, &t, &v->err);
    char checked[700];
    snprintf(checked, sizeof checked,
             "MQTT 5 over TLS to %s%s as client %s with the claim certificate; %s", v->data_peer,
             iotmqtt_alpn_used(v->conn)[0] ? " (ALPN " IOTMQTT_ALPN ")" : "", client, v->api);
    if (rc && t.stage == 2)
        note_unanswered(v);
    if (rc)
        return rc == FW_EINTERNAL || rc == FW_ECRYPTO
                   ? rc
                   : outage_or_fail(v, DP_STEP_CERTIFICATE, mqtt_kind(&v->err, t.stage), t.topic,
                                    checked);
    rc = record_device_cert(v);
    if (!rc)
        verify_pass(v, DP_STEP_CERTIFICATE, "%s accepted on %s/accepted: certificate %s", checked,
                    t.topic, v->dev.certificate_id);
    return rc;
}

/* ---- step 3 ---- */

/* The parameters a device of this fleet sends, under the verification
 * prefix, with the request's own on top. New reference. */
static json_t *parameters(struct verify_ctx *v)
{
    const char *group = json_string_value(
        json_array_get(json_object_get(json_object_get(v->fleet, "spec"), "thingGroups"), 0));
    return verify_spec_parameters(v->rq->fleet, v->token, group, v->rq->parameters);
}

/* The template as AWS has it: its role and hook for the hint, its body (new
 * reference, or NULL when AWS did not say; an outage sets v->err). */
static json_t *read_template(struct verify_ctx *v)
{
    struct iot_template t = {0};
    json_t *body = 0;
    awserr_clear(&v->err);
    verify_call(v, "iot-template", 0);
    if (!iot_describe_provisioning_template(v->aws, v->names.template_name, &t, &v->err)) {
        snprintf(v->prov_role, sizeof v->prov_role, "%s",
                 t.provisioning_role_arn ? t.provisioning_role_arn : "");
        snprintf(v->hook_arn, sizeof v->hook_arn, "%s", t.hook_target_arn ? t.hook_target_arn : "");
        v->names.hook_arn = t.hook_target_arn ? v->hook_arn : 0;
        body = t.template_body ? json_loads(t.template_body, 0, 0) : 0;
    }
    iot_template_cleanup(&t);
    return body;
}

/* 1 when pattern (IAM's * and ?) matches s; fold: ignore case (actions). */
static int wild(const char *pattern, const char *s, int fold)
{
    return pattern && !fnmatch(pattern, s, FNM_NOESCAPE | (fold ? FNM_CASEFOLD : 0));
}

static int names(const json_t *v, const char *s, int fold)
{
    if (json_is_string(v))
        return wild(json_string_value(v), s, fold);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (wild(json_string_value(json_array_get(v, i)), s, fold))
            return 1;
    return 0;
}

/* 1 when a policy document allows action on resource (an Allow statement's Action and Resource
 * name both, no Deny does; NotAction / NotResource count as not naming), 0 when not, -1 when the
 * document is not JSON. */
static int policy_allows(const char *doc, const char *action, const char *resource)
{
    json_t *d = doc ? json_loads(doc, 0, 0) : 0, *st = json_object_get(d, "Statement");
    if (!d)
        return -1;
    json_t *one = json_is_object(st) ? json_pack("[O]", st) : json_incref(st);
    int allow = 0, deny = 0;
    for (size_t i = 0; i < json_array_size(one); i++) {
        const json_t *x = json_array_get(one, i);
        const char *effect = json_string_value(json_object_get(x, "Effect"));
        if (!names(json_object_get(x, "Action"), action, 1) ||
            !names(json_object_get(x, "Resource"), resource, 0))
            continue;
        if (effect && !strcmp(effect, "Allow"))
            allow = 1;
        else if (effect && !strcmp(effect, "Deny"))
            deny = 1;
    }
    json_decref(one);
    json_decref(d);
    return allow && !deny;
}

/* Whether the claim policy lets the device receive on topic/accepted: 1, 0, or -1 (unread). */
static int claim_receives(struct verify_ctx *v, const char *topic)
{
    struct iot_policy p = {0};
    struct aws_api_error e;
    char arn[600];
    awserr_clear(&e);
    verify_call(v, "iot-describe", 0);
    int rc = iot_get_policy(v->aws, v->names.claim_policy, &p, &e);
    snprintf(arn, sizeof arn, "arn:%s:iot:%s:%s:topic/%s/accepted", v->partition, v->region,
             v->account, topic);
    int r = rc ? -1 : policy_allows(p.policy_document, "iot:Receive", arn);
    iot_policy_cleanup(&p);
    return r;
}

/* RegisterThing sent, no answer in time, though the claim policy lets the answer through (or could
 * not be read): a pre-provisioning hook or AWS slower than the wait, not the policy. Transient:
 * an attempt that is not the last ends as an outage and the job tries again. */
static int slow_answer(struct verify_ctx *v, const char *topic, int receives, const char *checked)
{
    char hint[1200], hook[400] = "";
    v->err.cls = AWS_ERRC_TRANSIENT;
    v->err.retryable = 1;
    if (verify_outage(v, &v->err))
        return awserr_to_fw(&v->err);
    if (v->names.hook_arn)
        snprintf(hook, sizeof hook, "its pre-provisioning hook `%s` may take longer than that, or ",
                 v->names.hook_arn);
    snprintf(hint, sizeof hint,
             "no answer to RegisterThing on `%s/accepted` or `%s/rejected` within %ld ms "
             "(FLEETWARDEN_VERIFY_TIMEOUT_MS)%s: template `%s`: %sAWS was slow; try again, or "
             "give the verification more time",
             topic, topic, v->st->timeout_ms,
             receives > 0 ? ", though the claim policy allows iot:Receive on them"
                          : " (the claim policy could not be read: without iot:Receive on them "
                            "no answer comes either)",
             v->names.template_name, hook);
    return verify_fail_hinted(v, DP_STEP_REGISTER, &v->err, hint, "%s", checked);
}

static int register_failed(struct verify_ctx *v, const struct fleetprov_trace *t,
                           const char *checked)
{
    enum dp_fail kind = mqtt_kind(&v->err, t->stage);
    if (kind == DP_FAIL_NO_ANSWER && !strcmp(v->err.code, DP_ERR_NO_ANSWER) && t->topic[0]) {
        struct aws_api_error keep = v->err;
        int receives = claim_receives(v, t->topic);
        v->err = keep;
        if (receives)
            return slow_answer(v, t->topic, receives, checked);
    }
    return outage_or_fail(v, DP_STEP_REGISTER, kind, t->topic, checked);
}

static int refuse_name(struct verify_ctx *v, const char *code, const char *message,
                       const char *hint, const char *checked)
{
    awserr_set(&v->err, 0, code, "%s", message);
    v->err.cls = AWS_ERRC_VALIDATION;
    return verify_fail_hinted(v, DP_STEP_REGISTER, &v->err, hint, "%s", checked);
}

/* The name the template (as AWS has it, else as the fleet's spec says) will
 * give the thing, into v->thing: 0 when it is a verification's and no thing
 * has it yet (recorded in the journal as made by this run), VERIFY_FAILED,
 * or an outage. RegisterThing on an existing thing would replace its
 * attributes and groups (the templates' OverrideSettings). */
static int expect_thing(struct verify_ctx *v, const json_t *p, const char *checked)
{
    json_t *body = read_template(v);
    if (!body && verify_outage(v, &v->err))
        return awserr_to_fw(&v->err);
    if (!body)
        body = verify_spec_template_body(
            json_object_get(json_object_get(v->fleet, "spec"), "template"));
    char name[FLEETPROV_THING_MAX + 200], param[128], msg[900], hint[900];
    enum verify_name r = verify_spec_thing_name(body, p, v->dev.certificate_id, name, sizeof name,
                                                param, sizeof param);
    json_decref(body);
    v->thing[0] = '\0';
    if (r == VERIFY_NAME_NONE)
        return 0;
    if (r == VERIFY_NAME_OURS && strlen(name) > FLEETPROV_THING_MAX) {
        r = VERIFY_NAME_UNKNOWN;
        snprintf(name, sizeof name, "the thing's name is longer than %d characters",
                 FLEETPROV_THING_MAX);
    }
    if (r == VERIFY_NAME_UNKNOWN) {
        snprintf(msg, sizeof msg, "template %s: %s", v->names.template_name, name);
        snprintf(hint, sizeof hint,
                 "provisioning template `%s` names its thing in a way the verification cannot "
                 "check (%s); RegisterThing was not sent",
                 v->names.template_name, name);
        return refuse_name(v, "ThingNameUnknown", msg, hint, checked);
    }
    if (r == VERIFY_NAME_FOREIGN) {
        snprintf(msg, sizeof msg,
                 "template %s would name the thing %s, outside " VERIFY_THING_PREFIX,
                 v->names.template_name, name);
        snprintf(hint, sizeof hint,
                 "provisioning template `%s` would name the verification's thing `%s`%s%s%s, "
                 "outside " VERIFY_THING_PREFIX ": RegisterThing was not sent (it would replace an "
                 "existing thing's attributes and groups)",
                 v->names.template_name, name, param[0] ? " from parameter `" : "", param,
                 param[0] ? "`" : "");
        return refuse_name(v, "ThingNameNotVerification", msg, hint, checked);
    }
    awserr_clear(&v->err);
    verify_call(v, "iot-describe", 0);
    int rc = iot_describe_thing(v->aws, name, &v->err);
    if (rc && v->err.cls != AWS_ERRC_NOTFOUND) {
        if (verify_outage(v, &v->err))
            return awserr_to_fw(&v->err);
        snprintf(hint, sizeof hint,
                 "the service could not tell whether thing `%s` exists (DescribeThing: %s), so "
                 "RegisterThing was not sent: its IAM policy must allow iot:DescribeThing on the "
                 "template's verification things (VerificationThingsOnly)",
                 name, v->err.code);
        return verify_fail_hinted(v, DP_STEP_REGISTER, &v->err, hint, "%s", checked);
    }
    if (!rc) {
        snprintf(msg, sizeof msg, "thing %s already exists", name);
        snprintf(hint, sizeof hint,
                 "thing `%s` already exists: RegisterThing was not sent (template `%s` would "
                 "replace its attributes and groups); give parameters that name a new thing, or "
                 "delete it if a verification left it",
                 name, v->names.template_name);
        return refuse_name(v, "ThingExists", msg, hint, checked);
    }
    size_t n = strnlen(name, sizeof v->thing - 1); /* at most FLEETPROV_THING_MAX: checked above */
    memcpy(v->thing, name, n);
    v->thing[n] = '\0';
    json_object_set_new(v->made, "thingName", json_string(v->thing));
    json_object_set_new(v->made, "thingNew", json_true());
    return verify_save_made(v);
}

int verify_register(struct verify_ctx *v)
{
    json_t *p = parameters(v);
    char *ptext = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS), checked[900];
    snprintf(checked, sizeof checked, "RegisterThing through template %s with parameters %s",
             v->names.template_name, ptext ? ptext : "{}");
    free(ptext);
    struct fleetprov_registered r = {0};
    struct fleetprov_trace t = {{0}, 0};
    int rc = expect_thing(v, p, checked);
    if (!rc) {
        verify_call(v, "iot-dataplane", 1);
        rc = fleetprov_register_thing(v->conn, v->names.template_name, v->dev.ownership_token, p,
                                      &r, &t, &v->err);
        rc = rc == FW_EINVAL
                 ? verify_fail(v, DP_STEP_REGISTER, DP_FAIL_AWS, 0, &v->err, "%s", checked)
             : rc ? register_failed(v, &t, checked)
                  : 0;
    }
    if (!rc && !r.thing_name[0]) {
        awserr_set(&v->err, 0, "TemplateMakesNoThing",
                   "RegisterThing answered without a thingName");
        rc = verify_fail(v, DP_STEP_REGISTER, DP_FAIL_REJECTED, t.topic, &v->err, "%s", checked);
    }
    if (!rc && strcmp(r.thing_name, v->thing)) {
        /* a hook's parameterOverrides, or the template changed since it was read */
        char msg[600], hint[900];
        snprintf(msg, sizeof msg, "RegisterThing answered thing %s, not %s", r.thing_name,
                 v->thing[0] ? v->thing : "(none)");
        snprintf(
            hint, sizeof hint,
            "RegisterThing provisioned thing `%s`, not the verification's `%s`: template `%s`%s%s "
            "named it otherwise; that thing is kept, only the verification's certificate is "
            "detached from it - check its attributes and groups",
            r.thing_name, v->thing[0] ? v->thing : "(none)", v->names.template_name,
            v->names.hook_arn ? " or its pre-provisioning hook " : "",
            v->names.hook_arn ? v->names.hook_arn : "");
        awserr_set(&v->err, 0, "ThingNameNotVerification", "%s", msg);
        v->err.cls = AWS_ERRC_VALIDATION;
        rc = verify_fail_hinted(v, DP_STEP_REGISTER, &v->err, hint, "%s", checked);
    }
    if (!rc)
        verify_pass(v, DP_STEP_REGISTER, "%s: thing %s, the certificate activated and attached",
                    checked, v->thing);
    fleetprov_registered_cleanup(&r);
    json_decref(p);
    iotmqtt_close(v->conn); /* the claim's part ends here, as a device's does */
    v->conn = 0;
    return rc;
}

/* ---- step 4 ---- */

int verify_thing_connect(struct verify_ctx *v)
{
    struct iotmqtt *m = 0;
    int rc = connect_as(v, DP_STEP_THING_CONNECT, v->dev.certificate_pem, v->dev.private_key,
                        v->thing, &m);
    if (!rc)
        verify_pass(v, DP_STEP_THING_CONNECT,
                    "MQTT 5 over TLS to %s as client %s with the new certificate %s", v->data_peer,
                    v->thing, v->dev.certificate_id);
    iotmqtt_close(m);
    return rc;
}
