/*
 * verify_run.c - one fleet verification from start to report (verify.h):
 * the fleet and its names, the journal (what was made, the outcome), the
 * steps in order, the cleanup that always runs, and the report.
 *
 * Order of writes: "verify:made" before anything is made (and after), the
 * step results in "verify:outcome" once steps 1-5 are decided, then the
 * cleanup, then "verify:cleanup". An attempt that finds an outcome goes
 * straight to the cleanup; one that finds only "made" (the worker died
 * mid-run) removes that first and starts again.
 */
#include "verify_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/iotmqtt.h"
#include "awsctx.h"
#include "jobs/ratelimit.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/core/netresolve.h"
#include "service/domain/store_fleet.h"

/* ---- settings ---- */

/* Read and checked once at start-up with every other setting (service/core/config.c). */
void verify_settings_load(const struct fw_config *cfg, struct verify_settings *out)
{
    memset(out, 0, sizeof *out);
    out->mqtt_port = cfg->iot_mqtt_port;
    out->credentials_port = cfg->iot_credentials_port;
    out->alpn = cfg->iot_mqtt_alpn;
    out->ca_file = cfg->root_ca_file[0] ? cfg->root_ca_file : CONFIG_ROOT_CA_DEFAULT;
    out->endpoint_hosts = cfg->iot_endpoint_hosts;
    out->allow_addresses = cfg->iot_allow_addresses;
    out->timeout_ms = cfg->verify_timeout_ms;
}

/* ---- shared helpers ---- */

const char *verify_res(const struct verify_ctx *v, const char *key, const char *field)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(v->fleet, "resources"), key), field));
}

const char *verify_spec(const struct verify_ctx *v, const char *part, const char *key)
{
    const json_t *spec = json_object_get(v->fleet, "spec");
    return json_string_value(json_object_get(part ? json_object_get(spec, part) : spec, key));
}

void verify_cert_arn(const struct verify_ctx *v, const char *cert_id, char *out, size_t len)
{
    snprintf(out, len, "arn:%s:iot:%s:%s:cert/%s", v->partition, v->region, v->account, cert_id);
}

void verify_call(struct verify_ctx *v, const char *family, int data_plane)
{
    ratelimit_acquire(family);
    if (data_plane)
        v->data_calls++;
    else
        v->control_calls++;
}

int verify_save_made(struct verify_ctx *v)
{
    char *text = json_dumps(v->made, JSON_COMPACT);
    int rc = text ? v->j->put(v->j->ud, "verify:made", text) : FW_EINTERNAL;
    free(text);
    return rc;
}

int verify_outage(const struct verify_ctx *v, const struct aws_api_error *e)
{
    return !v->rq->final_attempt && e &&
           (e->cls == AWS_ERRC_THROTTLING || e->cls == AWS_ERRC_TRANSIENT);
}

static json_t *error_json(const struct aws_api_error *e)
{
    if (!e || !e->code[0])
        return json_null();
    return json_pack("{s:s, s:s, s:o, s:s}", "code", e->code, "message", e->message, "statusCode",
                     e->http_status ? json_integer(e->http_status) : json_null(), "operation",
                     e->operation);
}

static json_t *step_json(int step, const char *status, const char *checked,
                         const struct aws_api_error *e, const char *hint)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:o, s:s?}", "step", step, "name",
                     dataplane_step_name(step), "status", status, "checked", checked, "error",
                     error_json(e), "hint", hint);
}

void verify_pass(struct verify_ctx *v, int step, const char *fmt, ...)
{
    char checked[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(checked, sizeof checked, fmt, ap);
    va_end(ap);
    json_array_append_new(v->steps, step_json(step, "passed", checked, 0, 0));
}

int verify_fail(struct verify_ctx *v, int step, enum dp_fail kind, const char *topic,
                const struct aws_api_error *e, const char *fmt, ...)
{
    char checked[1024], hint[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(checked, sizeof checked, fmt, ap);
    va_end(ap);
    struct dp_failure f = {step, kind, topic, e};
    dataplane_hint(&v->names, &f, hint, sizeof hint);
    json_array_append_new(v->steps, step_json(step, "failed", checked, e, hint));
    return VERIFY_FAILED;
}

int verify_fail_hinted(struct verify_ctx *v, int step, const struct aws_api_error *e,
                       const char *hint, const char *fmt, ...)
{
    char checked[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(checked, sizeof checked, fmt, ap);
    va_end(ap);
    json_array_append_new(v->steps, step_json(step, "failed", checked, e, hint));
    return VERIFY_FAILED;
}

/* ---- the fleet ---- */

static int not_ready(struct aws_api_error *err, const char *why)
{
    awserr_set(err, 0, "FleetNotReady", "%s", why);
    err->cls = AWS_ERRC_VALIDATION;
    err->retryable = 0;
    return FW_ECONFLICT;
}

/* Resolves an endpoint once and keeps the checked address: both connections of
 * the run go there (no second lookup), and an internal address is refused unless
 * FLEETWARDEN_IOT_ALLOW_ADDRESSES lists it (netresolve.h). Done after an earlier
 * attempt's leftovers are removed (the cleanup needs only the control plane). */
static int pin_endpoint(const char *host, int port, const struct verify_settings *st,
                        char addr[NETADDR_TEXT_MAX], struct aws_api_error *err)
{
    char why[400];
    int rc = netresolve_checked(host, port, &st->allow_addresses, "FLEETWARDEN_IOT_ALLOW_ADDRESSES",
                                addr, why, sizeof why);
    if (rc == FW_EFORBIDDEN) {
        awserr_set(err, 0, "EndpointRefused", "%s", why);
        err->cls = AWS_ERRC_VALIDATION;
        err->retryable = 0;
        return FW_EFORBIDDEN;
    }
    if (rc) {
        awserr_set(err, 0, AWSERR_CONNECTION, "%s", why);
        err->cls = AWS_ERRC_TRANSIENT;
        err->retryable = 1;
    }
    return rc;
}

static int endpoints(struct verify_ctx *v, struct aws_api_error *err)
{
    const char *data = verify_res(v, "endpoints", "dataAts"),
               *cred = verify_res(v, "endpoints", "credentialProvider");
    char why[300];
    if (!data || !cred)
        return not_ready(err, "the fleet has no endpoints yet (fleet.setup records them)");
    if (dataplane_endpoint_ok(data, v->region, v->st->endpoint_hosts, why, sizeof why) ||
        dataplane_endpoint_ok(cred, v->region, v->st->endpoint_hosts, why, sizeof why))
        return not_ready(err, why);
    snprintf(v->data_host, sizeof v->data_host, "%s", data);
    snprintf(v->cred_host, sizeof v->cred_host, "%s", cred);
    snprintf(v->data_peer, sizeof v->data_peer, "%s:%d", data, v->st->mqtt_port);
    snprintf(v->cred_peer, sizeof v->cred_peer, "%s:%d", cred, v->st->credentials_port);
    return 0;
}

/* The names hints use, from the fleet's records (the spec where no record is). */
static void names(struct verify_ctx *v)
{
    struct dp_names *n = &v->names;
    n->claim_policy = verify_res(v, "claimPolicy", "name") ? verify_res(v, "claimPolicy", "name")
                                                           : verify_spec(v, "claimPolicy", "name");
    n->template_name = verify_res(v, "template", "name") ? verify_res(v, "template", "name")
                                                         : verify_spec(v, "template", "name");
    n->thing_policy = verify_spec(v, "thingPolicy", "name");
    n->role_alias = verify_res(v, "roleAlias", "name") ? verify_res(v, "roleAlias", "name")
                                                       : verify_spec(v, "roleAlias", "name");
    const char *hook = verify_spec(v, "template", "preProvisioningHook");
    snprintf(v->hook_arn, sizeof v->hook_arn, "%s", hook ? hook : "");
    n->hook_arn = hook ? v->hook_arn : 0;
    const char *prov = verify_res(v, "provisioningRole", "arn")
                           ? verify_res(v, "provisioningRole", "arn")
                           : verify_spec(v, "provisioningRole", "name");
    snprintf(v->prov_role, sizeof v->prov_role, "%s", prov ? prov : "");
    n->provisioning_role = v->prov_role;
    const char *tes = verify_res(v, "tokenExchangeRole", "arn")
                          ? verify_res(v, "tokenExchangeRole", "arn")
                          : verify_spec(v, "tokenExchangeRole", "name");
    snprintf(v->role_arn, sizeof v->role_arn, "%s", tes ? tes : "");
    n->role_arn = v->role_arn;
}

static void partition_of(struct verify_ctx *v)
{
    const char *p = !strncmp(v->region, "cn-", 3)       ? "aws-cn"
                    : !strncmp(v->region, "us-gov-", 7) ? "aws-us-gov"
                                                        : "aws";
    snprintf(v->partition, sizeof v->partition, "%s", p);
}

static int open_fleet(struct verify_ctx *v, struct aws_api_error *err)
{
    int rc = store_fleet_get(v->rq->fleet, &v->fleet);
    if (rc == FW_ENOTFOUND)
        return not_ready(err, "the fleet does not exist");
    if (rc)
        return rc;
    const char *uid = json_string_value(json_object_get(v->fleet, "uid"));
    if (v->rq->fleet_uid && (!uid || strcmp(uid, v->rq->fleet_uid))) {
        awserr_set(err, 0, "StaleJob",
                   "the fleet was deleted and made again since this verification was asked for");
        err->cls = AWS_ERRC_VALIDATION;
        return FW_EINVAL;
    }
    const char *state = json_string_value(json_object_get(v->fleet, "state"));
    if (!state || strcmp(state, "ready"))
        return not_ready(err, "the fleet is not ready: verify it once fleet.setup has finished");
    v->region = json_string_value(json_object_get(v->fleet, "region"));
    snprintf(v->account, sizeof v->account, "%s",
             json_string_value(json_object_get(v->fleet, "accountId"))
                 ? json_string_value(json_object_get(v->fleet, "accountId"))
                 : "");
    if (!v->region || !v->account[0])
        return not_ready(err, "the fleet has no region or account yet");
    partition_of(v);
    names(v);
    if ((rc = endpoints(v, err)) != 0)
        return rc;
    const json_t *ar = json_object_get(v->fleet, "assumeRole");
    v->aws = awsctx_client(v->region, json_string_value(json_object_get(ar, "roleArn")),
                           json_string_value(json_object_get(ar, "externalId")), err);
    return v->aws ? 0 : awserr_to_fw(err);
}

/* ---- the journal ---- */

static json_t *journal_json(struct verify_ctx *v, const char *key)
{
    char *text = 0;
    if (v->j->get(v->j->ud, key, &text))
        return 0;
    json_t *o = json_loads(text, 0, 0);
    free(text);
    return o;
}

static int journal_put(struct verify_ctx *v, const char *key, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    int rc = text ? v->j->put(v->j->ud, key, text) : FW_EINTERNAL;
    free(text);
    json_decref(o);
    return rc;
}

/* Removes what made lists: the device's thing and certificate, then the
 * verification claim. 0 (refusals are noted in left) or an outage. */
static int remove_made(struct verify_ctx *v, const json_t *made, json_t *done, json_t *left)
{
    const char *asked = json_string_value(json_object_get(made, "unansweredCertificateRequest"));
    if (asked && !json_array_size(v->notes))
        json_array_append_new(
            v->notes,
            json_sprintf("the certificate request sent at %s got no answer: a certificate "
                         "AWS made for it stays PENDING_ACTIVATION, attached to nothing, "
                         "until AWS deletes it when its ownership token expires (1 hour)",
                         asked));
    int rc = verify_device_remove(v, made, done, left);
    return rc ? rc : verify_claim_remove(v, made, done, left);
}

/* An earlier attempt died mid-run: remove what it made, note it, start over. */
static int recover(struct verify_ctx *v, json_t *rec)
{
    json_t *made = journal_json(v, "verify:made");
    int rc = 0;
    if (json_object_size(made)) {
        json_t *done = json_array(), *left = json_array();
        rc = remove_made(v, made, done, left);
        if (!rc) {
            json_object_set_new(rec, "runs",
                                json_integer(json_integer_value(json_object_get(rec, "runs")) + 1));
            json_array_extend(json_object_get(rec, "removed"), done);
            json_array_extend(json_object_get(rec, "left"), left);
            rc = journal_put(v, "verify:recovered", json_incref(rec));
            rc = rc ? rc : journal_put(v, "verify:made", json_object());
        }
        json_decref(done);
        json_decref(left);
    }
    json_decref(made);
    return rc;
}

/* ---- the steps ---- */

typedef int(verify_step_fn)(struct verify_ctx *v);

static verify_step_fn *const s_steps[] = {
    0, verify_claim, verify_certificate, verify_register, verify_thing_connect, verify_credentials};

static void skip_rest(struct verify_ctx *v, int from)
{
    for (int s = from; s < DP_STEP_CLEANUP; s++)
        json_array_append_new(v->steps,
                              json_pack("{s:i, s:s, s:s, s:s, s:n, s:n}", "step", s, "name",
                                        dataplane_step_name(s), "status", "skipped", "checked",
                                        "not run: an earlier step failed", "error", "hint"));
}

/* Steps 1-5: 0 (every step decided, passed or failed) or a negative code. */
static int run_steps(struct verify_ctx *v)
{
    int rc = 0, s;
    for (s = DP_STEP_CLAIM; !rc && s < DP_STEP_CLEANUP; s++) {
        if (v->j->progress)
            v->j->progress(v->j->ud, s - 1, DP_STEP_COUNT_, dataplane_step_name(s));
        if (v->j->canceled && v->j->canceled(v->j->ud))
            return FW_ECANCELED;
        rc = s_steps[s](v);
    }
    if (rc == VERIFY_FAILED) {
        skip_rest(v, s);
        rc = 0;
    }
    return rc;
}

/* Step 6: removes v->made; refusals make the step fail with what is left.
 * A cleanup an earlier attempt finished is taken from the journal. */
static int cleanup_step(struct verify_ctx *v)
{
    json_t *earlier = journal_json(v, "verify:cleanup");
    if (json_is_object(earlier)) {
        json_array_append_new(v->steps, earlier);
        return 0;
    }
    json_decref(earlier);
    if (v->j->progress)
        v->j->progress(v->j->ud, DP_STEP_CLEANUP - 1, DP_STEP_COUNT_, "cleanup");
    json_t *done = json_array(), *left = json_array();
    int rc = remove_made(v, v->made, done, left);
    if (!rc) {
        char *d = json_dumps(done, JSON_COMPACT);
        if (json_array_size(left))
            verify_fail(v, DP_STEP_CLEANUP, DP_FAIL_AWS, 0, &v->err,
                        "removed %s; could not remove what is in left", d ? d : "[]");
        else
            verify_pass(v, DP_STEP_CLEANUP, "removed %s",
                        json_array_size(done) ? d : "nothing (nothing was made)");
        free(d);
        json_t *last = json_array_get(v->steps, json_array_size(v->steps) - 1);
        json_object_set(last, "removed", done);
        json_object_set(last, "left", left);
        json_object_set(last, "notes", v->notes);
        rc = journal_put(v, "verify:cleanup", json_incref(last));
        rc = rc ? rc : journal_put(v, "verify:made", json_object());
    }
    json_decref(done);
    json_decref(left);
    return rc;
}

static void wipe_keys(struct verify_ctx *v)
{
    iotmqtt_close(v->conn);
    v->conn = 0;
    xfree_secret(v->claim_key_pem);
    free(v->claim_cert_pem);
    fleetprov_cert_cleanup(&v->dev);
    v->claim_key_pem = v->claim_cert_pem = 0;
}

/* ---- the report ---- */

static json_t *report(struct verify_ctx *v, const json_t *rec)
{
    const char *failed = 0;
    size_t i;
    json_t *s;
    json_array_foreach(v->steps, i, s)
    {
        if (!failed && !strcmp(json_string_value(json_object_get(s, "status")), "failed"))
            failed = json_string_value(json_object_get(s, "name"));
    }
    const json_t *vc = json_object_get(v->made, "verificationClaim");
    return json_pack("{s:s, s:s, s:s?, s:O, s:s?, s:O?, s:b, s:I, s:O?, s:{s:i, s:i}}", "fleet",
                     v->rq->fleet, "result", failed ? "failed" : "passed", "failedStep", failed,
                     "steps", v->steps, "thingName", v->thing[0] ? v->thing : 0, "claimId",
                     json_object_get(v->made, "claimId"), "verificationClaim",
                     !vc || json_is_true(vc), "recovered",
                     (json_int_t)json_integer_value(json_object_get(rec, "runs")),
                     "recoveredRemoved", json_object_get(rec, "removed"), "awsCalls",
                     "controlPlane", v->control_calls, "dataPlane", v->data_calls);
}

/* The first attempt to decide steps 1-5 saves them; later attempts only clean up. */
static int decide(struct verify_ctx *v, json_t *outcome, json_t *rec)
{
    if (outcome) {
        json_decref(v->steps);
        v->steps = json_deep_copy(json_object_get(outcome, "steps"));
        json_decref(v->made);
        v->made = journal_json(v, "verify:made");
        if (!v->made)
            v->made = json_object();
        snprintf(v->thing, sizeof v->thing, "%s",
                 json_string_value(json_object_get(outcome, "thingName"))
                     ? json_string_value(json_object_get(outcome, "thingName"))
                     : "");
        return 0;
    }
    int rc = recover(v, rec);
    rc = rc ? rc : pin_endpoint(v->data_host, v->st->mqtt_port, v->st, v->data_addr, &v->err);
    rc =
        rc ? rc : pin_endpoint(v->cred_host, v->st->credentials_port, v->st, v->cred_addr, &v->err);
    rc = rc ? rc : run_steps(v);
    wipe_keys(v);
    if (rc)
        return rc;
    return journal_put(v, "verify:outcome",
                       json_pack("{s:O, s:s}", "steps", v->steps, "thingName", v->thing));
}

/* A run that stops early (an outage, cancel) removes what it made when it can. */
static void stop_early(struct verify_ctx *v)
{
    json_t *done = json_array(), *left = json_array();
    if (!remove_made(v, v->made, done, left) && !json_array_size(left))
        journal_put(v, "verify:made", json_object());
    json_decref(done);
    json_decref(left);
}

static int run_or_resume(struct verify_ctx *v, json_t **result, struct aws_api_error *err)
{
    json_t *outcome = journal_json(v, "verify:outcome");
    json_t *rec = journal_json(v, "verify:recovered");
    if (!json_is_object(rec)) {
        json_decref(rec);
        rec = json_pack("{s:i, s:[], s:[]}", "runs", 0, "removed", "left");
    }
    int rc = decide(v, outcome, rec);
    if (rc && rc != FW_ECONFLICT) {
        struct aws_api_error keep = v->err;
        stop_early(v);
        *err = keep;
    }
    rc = rc ? rc : cleanup_step(v);
    if (!rc && v->j->progress)
        v->j->progress(v->j->ud, DP_STEP_COUNT_, DP_STEP_COUNT_, "done");
    if (!rc)
        *result = report(v, rec);
    else if (!err->code[0])
        *err = v->err;
    json_decref(outcome);
    json_decref(rec);
    return rc;
}

static void token_of(const char *run_id, char token[16])
{
    size_t n = 0;
    for (const char *p = run_id ? run_id : ""; *p && n < 12; p++)
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
            token[n++] = *p;
    token[n] = '\0';
}

int verify_run(const struct verify_request *rq, const struct verify_journal *j, json_t **result,
               struct aws_api_error *err)
{
    struct verify_ctx v;
    memset(&v, 0, sizeof v);
    v.rq = rq;
    v.j = j;
    v.st = rq->settings;
    v.steps = json_array();
    v.made = json_object();
    v.notes = json_array();
    token_of(rq->run_id, v.token);
    *result = 0;
    awserr_clear(err);
    int rc = open_fleet(&v, err);
    if (!rc)
        rc = run_or_resume(&v, result, err);
    wipe_keys(&v);
    json_decref(v.fleet);
    json_decref(v.made);
    json_decref(v.steps);
    json_decref(v.notes);
    return rc;
}

json_t *verify_last(const json_t *report, const char *job_id, const char *at)
{
    const char *failed = json_string_value(json_object_get(report, "failedStep"));
    const char *hint = 0;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(report, "steps"), i, s)
    {
        if (!hint && failed && !strcmp(json_string_value(json_object_get(s, "name")), failed))
            hint = json_string_value(json_object_get(s, "hint"));
    }
    return json_pack("{s:s, s:O, s:s?, s:s?, s:s?}", "at", at, "result",
                     json_object_get(report, "result"), "job", job_id, "failedStep", failed, "hint",
                     hint);
}
