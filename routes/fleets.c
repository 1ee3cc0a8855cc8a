/*
 * fleets.c - /v1/fleets routes: parse, validate, write the record, enqueue.
 *
 * POST checks the whole request (fleet_spec.c: AWS's name patterns, derived
 * names, ranges, unknown fields) before anything is stored or queued. The
 * record is written first (state provisioning) and the setup job second;
 * the job id is then stored in the record. Idempotency-Key (idempotency.h)
 * reserves the fleet's uid: if the process dies between the two, a retry
 * with the same key and body finds the record it made (that uid) without a
 * job and enqueues it. No AWS call happens here: every AWS step runs in a
 * job (jobs/handlers/fleet_*.c).
 */
#include "fleets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accepted.h"
#include "greengrass.h"
#include "idempotency.h"
#include "routes/body.h"
#include "service/domain/fleet_names.h"
#include "service/domain/fleet_spec.h"
#include "service/domain/generation.h"
#include "service/domain/verify_spec.h"
#include "service/domain/watch_rules.h"
#include "service/domain/watch_secret.h"
#include "service/domain/webhook_check.h"
#include "jobs/queue.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/json_keys.h"
#include "service/core/log.h"
#include "service/core/randid.h"
#include "service/core/service.h"
#include "service/domain/store_claim.h"
#include "service/domain/claim_fields.h"
#include "service/domain/store_fleet.h"

/* The document as the API shows it: internal members removed, the watch
 * webhook's secret (sealed at rest, watch_secret.h) shown as "***"
 * (watch_settings_redact), and for a read token its URL masked too: a
 * webhook URL often carries a credential in its path (webhook_url_masked). */
static json_t *view(json_t *doc, enum auth_scope scope)
{
    json_object_del(doc, "idempotencyKey"); /* kept in records written before store_idem.h */
    json_t *settings = json_object_get(doc, "settings");
    json_t *red = watch_settings_redact(json_object_get(settings, "watch"));
    if (red)
        json_object_set_new(settings, "watch", red);
    json_t *hook = json_object_get(json_object_get(settings, "watch"), "webhook");
    const char *url = json_string_value(json_object_get(hook, "url"));
    if (url && scope < SCOPE_OPERATE) {
        char *m = webhook_url_masked(url);
        json_object_set_new(hook, "url", json_string(m));
        free(m);
    }
    return doc;
}

static void accepted(struct http_resp *resp, enum auth_scope scope, const char *job_id,
                     const char *name, json_t *fleet)
{
    json_t *f = fleet;
    if (!f && name)
        store_fleet_get(name, &f);
    routes_accepted(resp, job_id, f ? json_pack("{s:o}", "fleet", view(f, scope)) : 0);
}

/* Enqueues type for fleet name with payload (borrowed); *existed (may be NULL) as
 * jobs_enqueue's. */
static int enqueue_as(const char *type, const char *name, const json_t *payload,
                      char id[JOB_ID_MAX], int *existed)
{
    char res[100];
    snprintf(res, sizeof res, "fleet:%s", name);
    char *text = json_dumps(payload, JSON_COMPACT);
    struct job_spec spec = {.type = type, .payload_json = text, .resource = res};
    int rc = text ? jobs_enqueue(&spec, id, existed) : FW_EINTERNAL;
    free(text);
    return rc;
}

static int enqueue(const char *type, const char *name, const json_t *payload, char id[JOB_ID_MAX])
{
    return enqueue_as(type, name, payload, id, 0);
}

/* The payload of a job for fleet doc: its name and generation (uid, see
 * jobs/handlers/generation.h), so a job kept for later never acts on a
 * fleet re-created under the same name. New reference. */
static json_t *fleet_payload(const json_t *doc)
{
    json_t *p = json_pack("{s:O}", "fleet", json_object_get(doc, "name"));
    const json_t *uid = json_object_get(doc, "uid");
    if (json_is_string(uid))
        json_object_set(p, "uid", (json_t *)uid);
    return p;
}

/* Records job id as the fleet's current job. */
static void set_job(const char *name, const char *type, const char *id)
{
    json_t *j = json_pack("{s:s, s:s}", "id", id, "type", type);
    store_fleet_set(name, "job", j);
    json_decref(j);
}

static const char *default_region(void)
{
    const char *r = config_get()->aws_region;
    return fleet_names_region(r) ? r : "us-east-1";
}

static void plan(struct http_req *req, struct http_resp *resp, json_t *spec)
{
    char id[JOB_ID_MAX];
    json_t *p = json_pack("{s:O}", "spec", spec);
    int rc = enqueue("fleet.plan", json_string_value(json_object_get(spec, "name")), p, id);
    json_decref(p);
    if (rc)
        http_problem_store(resp, rc);
    else
        accepted(resp, req->token.scope, id, 0, 0);
}

static json_t *new_doc(json_t *spec, json_t *settings, const char *uid)
{
    return json_pack("{s:O, s:s, s:s, s:O, s:n, s:O, s:O, s:O, s:{}, s:n, s:n, s:n}", "name",
                     json_object_get(spec, "name"), "uid", uid, "state", "provisioning", "region",
                     json_object_get(spec, "region"), "accountId", "assumeRole",
                     json_object_get(spec, "assumeRole"), "spec", spec, "settings", settings,
                     "resources", "job", "lastReconcile", "error");
}

/* The fleet exists: 409, unless an earlier attempt of this request (its
 * Idempotency-Key, resumed) made it with the uid the key reserved; then
 * its setup job is enqueued if that attempt stopped before. */
static void existing(struct http_req *req, struct http_resp *resp, const char *name,
                     const struct idempotency *ip)
{
    json_t *doc = 0;
    int rc = store_fleet_get(name, &doc);
    const char *uid = json_string_value(json_object_get(doc, "uid"));
    if (rc || !ip->resumed || !uid || strcmp(uid, ip->id)) {
        if (rc && rc != FW_ENOTFOUND)
            http_problem_store(resp, rc);
        else
            http_problem(resp, 409, 0, "a fleet with this name exists");
    } else {
        const char *jid = json_string_value(json_object_get(json_object_get(doc, "job"), "id"));
        char id[JOB_ID_MAX];
        json_t *p = fleet_payload(doc);
        rc = jid ? 0 : enqueue("fleet.setup", name, p, id);
        json_decref(p);
        if (!jid && !rc)
            set_job(name, "fleet.setup", id);
        if (rc)
            http_problem_store(resp, rc);
        else
            accepted(resp, req->token.scope, jid ? jid : id, name, 0);
    }
    json_decref(doc);
}

/* Seals the webhook secret before settings reach Redis; 0 or answered. */
static int seal_settings(struct http_resp *resp, json_t *settings, const char *name)
{
    if (!watch_secret_seal(settings, name))
        return 0;
    http_problem(resp, 500, 0,
                 "the webhook secret could not be sealed with the key-encryption key");
    return FW_ECRYPTO;
}

static void create(struct http_req *req, struct http_resp *resp, json_t *spec, json_t *settings,
                   const struct idempotency *ip)
{
    const char *name = json_string_value(json_object_get(spec, "name"));
    if (seal_settings(resp, settings, name))
        return;
    json_t *doc = new_doc(spec, settings, ip->id);
    int rc = store_fleet_create(name, doc);
    if (rc == FW_ECONFLICT) {
        json_decref(doc);
        existing(req, resp, name, ip);
        return;
    }
    char id[JOB_ID_MAX];
    json_t *p = fleet_payload(doc);
    json_decref(doc);
    rc = rc ? rc : enqueue("fleet.setup", name, p, id);
    json_decref(p);
    if (rc) {
        http_problem_store(resp, rc);
        return;
    }
    set_job(name, "fleet.setup", id);
    accepted(resp, req->token.scope, id, name, 0);
}

/* A valid POST /v1/fleets under its Idempotency-Key: the plan, or the
 * fleet with the uid the key reserves. */
static void start_fleet(struct http_req *req, struct http_resp *resp, int dry, json_t *spec,
                        json_t *settings)
{
    char uid[GENERATION_UID_MAX];
    struct idempotency ip;
    if (randid_new("fl_", uid, sizeof uid)) {
        http_problem_err(resp, FW_ECRYPTO, "could not make the fleet's id");
        return;
    }
    if (idempotency_begin(req, resp, dry ? "dryRun=true" : 0, uid, &ip))
        return;
    if (dry)
        plan(req, resp, spec);
    else
        create(req, resp, spec, settings, &ip);
    idempotency_end(&ip, resp);
}

static void create_fleet(struct http_req *req, struct http_resp *resp)
{
    json_t *errors = json_array(), *spec = 0, *settings = 0;
    const char *dry = http_req_query(req, "dryRun");
    if (dry && strcmp(dry, "true") && strcmp(dry, "false"))
        json_array_append_new(
            errors, json_pack("{s:s, s:s}", "field", "dryRun", "message", "must be true or false"));
    const struct fw_config *cfg = &req->svc->cfg;
    struct fleet_spec_defaults d = {default_region(), cfg->iam_precreated, cfg->iam_tes_boundary,
                                    cfg->iam_prov_boundary};
    if (fleet_spec_parse_ex(req->json, &d, &spec, &settings, errors) || json_array_size(errors))
        http_problem_fields(resp, errors);
    else
        start_fleet(req, resp, dry && !strcmp(dry, "true"), spec, settings);
    json_decref(errors);
    json_decref(spec);
    json_decref(settings);
}

static void list_view(json_t *item, const struct http_req *req)
{
    view(item, req->token.scope);
}

static void list_fleets(struct http_req *req, struct http_resp *resp)
{
    http_list_page(req, resp, store_fleet_list, list_view);
}

/* Loads {name} with its ETag; answers 404/503 itself (NULL then). */
static json_t *load(struct http_req *req, struct http_resp *resp, char etag[STORE_ETAG_MAX])
{
    const char *name = http_req_param(req, "name");
    json_t *doc = 0;
    int rc = fleet_names_fleet(name) ? store_fleet_get_etag(name, &doc, etag) : FW_ENOTFOUND;
    if (rc == FW_ENOTFOUND)
        http_problem(resp, 404, 0, "no fleet with this name");
    else if (rc)
        http_problem_store(resp, rc);
    return rc ? 0 : doc;
}

static void get_fleet(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX];
    json_t *doc = load(req, resp, etag);
    if (!doc)
        return;
    http_resp_json(resp, 200, view(doc, req->token.scope));
    http_resp_header(resp, "ETag", etag);
}

static const char *doc_state(const json_t *doc)
{
    const char *s = json_string_value(json_object_get(doc, "state"));
    return s ? s : "";
}

/* ---- verification ---- */

/* 0 when the named claim can be verified with (the fleet's, active, its key
 * still held); else answered 400/409. */
static int usable_claim(struct http_resp *resp, const char *fleet, const char *id)
{
    json_t *c = 0;
    int rc = store_claim_get(id, &c);
    const char *f = claim_field_str(c, CLAIM_F_FLEET), *st = claim_field_str(c, CLAIM_F_STATE);
    const char *held = claim_field_str(c, CLAIM_F_KEY_HELD),
               *purpose = claim_field_str(c, CLAIM_F_PURPOSE);
    if (rc && rc != FW_ENOTFOUND) {
        http_problem_store(resp, rc);
    } else if (rc || !f || strcmp(f, fleet) || (purpose && !strcmp(purpose, "verification"))) {
        http_problem(resp, 400, "Invalid request", "the request has invalid fields; see errors");
        http_problem_field(resp, "claimId", "not a claim of this fleet");
        rc = FW_EINVAL;
    } else if (!st || (strcmp(st, "active") && strcmp(st, "rotating")) || !held ||
               strcmp(held, "1")) {
        http_problem(resp, 409, 0,
                     "the claim is not active or the service no longer holds its key (it was "
                     "downloaded): verify with a claim whose bundle was not taken, or with none");
        rc = FW_ECONFLICT;
    }
    json_decref(c);
    return rc;
}

/* The job's payload: the fleet's generation, and the checked body. New reference. */
static json_t *verify_payload(const json_t *doc, const json_t *body)
{
    json_t *p = fleet_payload(doc);
    const json_t *params = json_object_get(body, "parameters"),
                 *claim = json_object_get(body, "claimId");
    if (json_is_object(params))
        json_object_set(p, "parameters", (json_t *)params);
    if (json_is_string(claim))
        json_object_set(p, "claimId", (json_t *)claim);
    return p;
}

/* 202 with the job (its state), existing, and the fleet. */
static void verify_accepted(struct http_req *req, struct http_resp *resp, const char *id,
                            const char *name, const char *state, int existing)
{
    char href[JOB_ID_MAX + 16];
    json_t *f = 0;
    snprintf(href, sizeof href, "/v1/jobs/%s", id);
    json_t *b = json_pack("{s:{s:s, s:s, s:s}, s:b}", "job", "id", id, "state", state, "href", href,
                          "existing", existing);
    if (!store_fleet_get(name, &f) && f)
        json_object_set_new(b, "fleet", view(f, req->token.scope));
    http_resp_json(resp, 202, b);
    http_resp_header(resp, "Location", href);
}

static int same_member(const json_t *a, const json_t *b, const char *key)
{
    const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    return (!x && !y) || (x && y && json_equal((json_t *)x, (json_t *)y));
}

/* A verification of the fleet is queued or running (fleet.verify is one at a time per fleet):
 * asked the same (parameters, claimId), the answer is that job (existing: true); else 409. */
static void verify_running(struct http_req *req, struct http_resp *resp, const char *id,
                           const char *name, const json_t *asked)
{
    json_t *job = 0;
    int rc = jobs_get(id, &job);
    const json_t *payload = json_object_get(job, "payload");
    const char *state = json_string_value(json_object_get(job, "state"));
    if (rc && rc != FW_ENOTFOUND) {
        http_problem_store(resp, rc);
    } else if (!rc && (!same_member(payload, asked, "parameters") ||
                       !same_member(payload, asked, "claimId"))) {
        char d[700];
        snprintf(d, sizeof d,
                 "a verification of fleet %.100s is already %s (job %s) with other parameters or "
                 "claim: wait for it (GET /v1/jobs/%s), then ask again",
                 name, state ? state : "queued", id, id);
        http_problem(resp, 409, 0, d);
    } else {
        verify_accepted(req, resp, id, name, state ? state : "queued", 1);
    }
    json_decref(job);
}

static void verify_fleet(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX], id[JOB_ID_MAX];
    const char *name = http_req_param(req, "name");
    json_t *doc = load(req, resp, etag), *body = doc ? routes_optional_body(req, resp) : 0,
           *errors = json_array();
    const char *claim = json_string_value(json_object_get(body, "claimId"));
    if (!body)
        goto done;
    if (verify_spec_body(body, errors) ||
        verify_spec_check_name(json_object_get(json_object_get(doc, "spec"), "template"),
                               json_object_get(body, "parameters"), "parameters", errors)) {
        http_problem_fields(resp, errors);
        goto done;
    }
    if (strcmp(doc_state(doc), "ready")) {
        http_problem(resp, 409, 0, "the fleet is not ready: verify it once its setup has finished");
        goto done;
    }
    if (claim && usable_claim(resp, name, claim))
        goto done;
    json_t *p = verify_payload(doc, body);
    int existed = 0;
    int rc = enqueue_as("fleet.verify", name, p, id, &existed);
    if (rc)
        http_problem_store(resp, rc);
    else if (existed)
        verify_running(req, resp, id, name, p);
    else
        verify_accepted(req, resp, id, name, "queued", 0);
    json_decref(p);
done:
    json_decref(errors);
    json_decref(body);
    json_decref(doc);
}

/* A verification makes a job: the same Idempotency-Key answers with that
 * job, so a client that retries after a lost answer starts no second run. */
IDEMPOTENCY_ONCE(verify_fleet)

/* The fleet's verification schedule (settings.verify.schedule) as a job
 * schedule: made, moved or removed to match. 0 or a store error. */
static int verify_schedule(const json_t *doc)
{
    const char *name = json_string_value(json_object_get(doc, "name"));
    const json_t *v = json_object_get(json_object_get(doc, "settings"), "verify");
    char sched[VERIFY_SCHEDULE_NAME_MAX], daily[6];
    long every_s = 0;
    verify_spec_schedule_name(name, sched);
    if (verify_spec_schedule(v, &every_s, daily)) {
        int rc = jobs_schedule_delete(sched);
        return rc == FW_ENOTFOUND ? 0 : rc;
    }
    json_t *p = fleet_payload(doc);
    json_object_set_new(p, "scheduled", json_true());
    if (json_is_object(json_object_get(v, "parameters")))
        json_object_set(p, "parameters", json_object_get(v, "parameters"));
    char *text = json_dumps(p, JSON_COMPACT), res[100];
    snprintf(res, sizeof res, "fleet:%s", name); /* one verification of a fleet at a time */
    int rc = text ? jobs_schedule_upsert_for(sched, "fleet.verify", text, res, every_s,
                                             daily[0] ? daily : 0)
                  : FW_EINTERNAL;
    free(text);
    json_decref(p);
    return rc;
}

static int precondition(struct http_req *req, struct http_resp *resp, const char *etag)
{
    const char *m = http_req_header(req, "If-Match");
    if (!m || !strcmp(m, "*") || !strcmp(m, etag))
        return 0;
    http_problem(resp, 412, 0, "If-Match does not match the fleet's current ETag");
    return FW_EPRECOND;
}

static void patch_fleet(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX], now[STORE_ETAG_MAX];
    json_t *doc = load(req, resp, etag), *errors = json_array(), *settings = 0;
    if (!doc || precondition(req, resp, etag))
        goto cleanup;
    const json_t *verify = json_object_get(req->json, "verify");
    if (fleet_spec_patch_settings(req->json, json_object_get(doc, "settings"), &settings, errors) ||
        (json_is_object(verify) && verify_spec_settings(verify, errors)) ||
        (json_is_object(json_object_get(verify, "parameters")) &&
         verify_spec_check_name(json_object_get(json_object_get(doc, "spec"), "template"),
                                json_object_get(verify, "parameters"), "verify.parameters",
                                errors))) {
        http_problem_fields(resp, errors);
        goto cleanup;
    }
    /* Also seals a plaintext secret kept from an older version. */
    if (seal_settings(resp, settings, http_req_param(req, "name")))
        goto cleanup;
    json_t *o = json_pack("{s:O}", "settings", settings);
    int rc = store_fleet_update(http_req_param(req, "name"), o, etag, now);
    json_decref(o);
    if (rc == FW_EPRECOND)
        http_problem(resp, 412, 0, "the fleet changed meanwhile; read it again");
    else if (rc)
        http_problem_store(resp, rc == FW_ENOTFOUND ? FW_ENOTFOUND : rc);
    json_decref(doc);
    doc = 0;
    if (!rc && (doc = load(req, resp, now)) != 0) {
        if (verify && verify_schedule(doc))
            log_msg(LOG_WARN, "the fleet's verification schedule could not be written (Redis?)");
        http_resp_json(resp, 200, view(doc, req->token.scope));
        http_resp_header(resp, "ETag", now);
        doc = 0;
    }
cleanup:
    json_decref(doc);
    json_decref(errors);
    json_decref(settings);
}

static int bool_query(struct http_req *req, struct http_resp *resp, const char *name, int *out)
{
    const char *v = http_req_query(req, name);
    *out = v && !strcmp(v, "true");
    if (!v || !strcmp(v, "true") || !strcmp(v, "false"))
        return 0;
    http_problem(resp, 400, 0, "invalid query parameter");
    http_problem_field(resp, name, "must be true or false");
    return FW_EINVAL;
}

/* 1 when the fleet is provisioning under a setup job that has ended (canceled, dead or gone)
 * without making it ready or failed: a job canceled before it ran never does. Such a fleet may
 * be deleted or reconciled, as a failed one. A reconcile is accepted on a provisioning fleet only
 * then, and it takes the fleet's `job` (set_job): a job there of another type says the setup was
 * over (before, the succeeded reconcile was read as the setup job, and the fleet could never be
 * deleted or reconciled again). */
static int setup_over(const json_t *doc)
{
    const json_t *ref = json_object_get(doc, "job");
    const char *jid = json_string_value(json_object_get(ref, "id")),
               *type = json_string_value(json_object_get(ref, "type"));
    if (strcmp(doc_state(doc), "provisioning") || !jid)
        return 0;
    if (type && strcmp(type, "fleet.setup"))
        return 1;
    json_t *job = 0;
    int rc = jobs_get(jid, &job);
    const char *st = rc ? 0 : json_string_value(json_object_get(job, "state"));
    int over = rc == FW_ENOTFOUND || (st && (!strcmp(st, "canceled") || !strcmp(st, "dead")));
    json_decref(job);
    return over;
}

/* 0 when no reconcile of the fleet is queued, waiting for a retry or running; else answered 409
 * (or 503). A reconcile running beside the teardown would make again at AWS what the teardown
 * removes (left there, owned by no fleet). The fleet's `job` is its latest reconcile, if that
 * is its latest job: reconcile_fleet records it, and a fleet has one active reconcile at most
 * (unique per fleet). */
static int reconcile_running(struct http_resp *resp, const json_t *doc)
{
    const json_t *ref = json_object_get(doc, "job");
    const char *jid = json_string_value(json_object_get(ref, "id")),
               *type = json_string_value(json_object_get(ref, "type"));
    if (!jid || !type || strcmp(type, "fleet.reconcile"))
        return 0;
    json_t *job = 0;
    int rc = jobs_get(jid, &job);
    const char *st = rc ? 0 : json_string_value(json_object_get(job, "state"));
    int active = st && (!strcmp(st, "queued") || !strcmp(st, "scheduled") ||
                        !strcmp(st, "running") || !strcmp(st, "failed"));
    json_decref(job);
    if (rc && rc != FW_ENOTFOUND) {
        http_problem_store(resp, rc);
        return rc;
    }
    if (!active)
        return 0;
    char d[300];
    snprintf(d, sizeof d,
             "a reconcile of the fleet is queued or running (job %s); cancel that job or wait for "
             "it",
             jid);
    http_problem(resp, 409, 0, d);
    return FW_ECONFLICT;
}

/* 0 when the fleet may be torn down now; else answered 409/503. */
static int may_delete(struct http_resp *resp, const char *name, const json_t *doc, int force)
{
    if (!strcmp(doc_state(doc), "provisioning") && !setup_over(doc)) {
        const char *jid = json_string_value(json_object_get(json_object_get(doc, "job"), "id"));
        char d[300];
        snprintf(d, sizeof d, "the fleet is being set up (job %s); cancel that job or wait for it",
                 jid ? jid : "?");
        http_problem(resp, 409, 0, d);
        return FW_ECONFLICT;
    }
    if (reconcile_running(resp, doc))
        return FW_ECONFLICT;
    int n = 0;
    int rc = store_claim_count_active(name, &n);
    if (rc) {
        http_problem_store(resp, rc);
        return rc;
    }
    if (n > 0 && !force) {
        char d[200];
        snprintf(d, sizeof d,
                 "the fleet has %d active claim(s); delete them first or use ?force=true", n);
        http_problem(resp, 409, 0, d);
        return FW_ECONFLICT;
    }
    return 0;
}

static void delete_fleet(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX], id[JOB_ID_MAX];
    const char *name = http_req_param(req, "name");
    int force;
    json_t *doc = load(req, resp, etag);
    if (!doc || precondition(req, resp, etag) || bool_query(req, resp, "force", &force) ||
        may_delete(resp, name, doc, force)) {
        json_decref(doc);
        return;
    }
    json_t *p = fleet_payload(doc);
    json_object_set_new(p, "force", json_boolean(force));
    json_decref(doc);
    json_t *o = json_pack("{s:s}", "state", "deleting");
    int rc = store_fleet_update(name, o, etag, 0);
    json_decref(o);
    rc = rc ? rc : enqueue("fleet.teardown", name, p, id);
    json_decref(p);
    if (rc == FW_EPRECOND)
        http_problem(resp, 412, 0, "the fleet changed meanwhile; read it again");
    else if (rc)
        http_problem_store(resp, rc);
    if (rc)
        return;
    set_job(name, "fleet.teardown", id);
    accepted(resp, req->token.scope, id, name, 0);
}

/* The reconcile's optional body {deactivateUnknownClaimCertificates: boolean}: 0, 1, or -1 after
 * answering 400. */
static int reconcile_body(struct http_req *req, struct http_resp *resp)
{
    static const char *const allowed[] = {"deactivateUnknownClaimCertificates", 0};
    const char *unknown[16];
    json_t *body = routes_optional_body(req, resp);
    if (!body)
        return -1;
    size_t n = json_unknown_keys(body, allowed, unknown, 16);
    const json_t *d = json_object_get(body, "deactivateUnknownClaimCertificates");
    int rc = d ? json_is_true(d) : 0;
    if (n || (d && !json_is_boolean(d))) {
        http_problem(resp, 400, "Invalid request", "the request body has invalid fields");
        for (size_t i = 0; i < n && i < 16; i++)
            http_problem_field(resp, unknown[i], "unknown field");
        if (d && !json_is_boolean(d))
            http_problem_field(resp, "deactivateUnknownClaimCertificates", "must be a boolean");
        rc = -1;
    }
    json_decref(body);
    return rc;
}

static void reconcile_fleet(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX], id[JOB_ID_MAX];
    const char *name = http_req_param(req, "name");
    json_t *doc = load(req, resp, etag);
    if (!doc)
        return;
    int deactivate = reconcile_body(req, resp);
    if (deactivate < 0) {
        json_decref(doc);
        return;
    }
    const char *st = doc_state(doc);
    int ok = !strcmp(st, "ready") || !strcmp(st, "failed") || setup_over(doc);
    json_t *p = fleet_payload(doc);
    json_decref(doc);
    if (deactivate)
        json_object_set_new(p, "deactivateUnknownClaimCertificates", json_true());
    if (!ok) {
        json_decref(p);
        http_problem(resp, 409, 0,
                     "the fleet is being set up or torn down; reconcile once it is ready");
        return;
    }
    int rc = enqueue("fleet.reconcile", name, p, id);
    json_decref(p);
    if (rc) {
        http_problem_store(resp, rc);
        return;
    }
    set_job(name, "fleet.reconcile", id);
    accepted(resp, req->token.scope, id, name, 0);
}

/* A reconcile makes a job: the same Idempotency-Key answers with that job. */
IDEMPOTENCY_ONCE(reconcile_fleet)

static int path_ok(const char *s)
{
    return fleet_names_charset(
               s, 512, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") &&
           s[0] == '/' && !strstr(s, "..");
}

/* Reads and checks the optional query parameters; 0 or answered 400. */
static int gg_params(struct http_req *req, struct http_resp *resp, struct greengrass_paths *p)
{
    const struct {
        const char *name;
        const char **dst;
        int (*ok)(const char *);
        const char *rule;
    } params[] = {
        {"thingName", &p->thing_name, fleet_names_thing_group,
         "1-128 characters of letters, digits and :_-"},
        {"thingGroupName", &p->thing_group_name, fleet_names_thing_group,
         "1-128 characters of letters, digits and :_-"},
        {"rootPath", &p->root_path, path_ok, "an absolute path of letters, digits and /._-"},
        {"nucleusVersion", &p->nucleus_version, fleet_names_version,
         "a version such as " GREENGRASS_NUCLEUS_DEFAULT},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        *params[i].dst = http_req_query(req, params[i].name);
        if (!*params[i].dst || params[i].ok(*params[i].dst))
            continue;
        if (!bad)
            http_problem(resp, 400, 0, "invalid query parameter");
        http_problem_field(resp, params[i].name, params[i].rule);
        bad = 1;
    }
    return bad ? FW_EINVAL : 0;
}

static void greengrass_config(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX];
    struct greengrass_paths p = {.mqtt_port = req->svc->cfg.iot_mqtt_port,
                                 .credentials_port = req->svc->cfg.iot_credentials_port};
    json_t *doc = load(req, resp, etag);
    if (!doc || gg_params(req, resp, &p)) {
        json_decref(doc);
        return;
    }
    char *yaml = strcmp(doc_state(doc), "ready") ? 0 : greengrass_config_yaml(doc, &p);
    json_decref(doc);
    if (!yaml) {
        http_problem(resp, 409, 0,
                     "the fleet is not ready: its endpoints and template are not known yet");
        return;
    }
    http_resp_raw(resp, 200, "text/yaml; charset=utf-8", yaml, strlen(yaml));
    free(yaml);
}

static const struct route s_routes[] = {
    {"POST", "/v1/fleets", SCOPE_ADMIN, ROUTE_JSON, create_fleet},
    {"GET", "/v1/fleets", SCOPE_READ, 0, list_fleets},
    {"GET", "/v1/fleets/{name}", SCOPE_READ, 0, get_fleet},
    {"PATCH", "/v1/fleets/{name}", SCOPE_ADMIN, ROUTE_JSON, patch_fleet},
    {"DELETE", "/v1/fleets/{name}", SCOPE_ADMIN, 0, delete_fleet},
    {"POST", "/v1/fleets/{name}/reconcile", SCOPE_ADMIN, 0, reconcile_fleet_once},
    {"POST", "/v1/fleets/{name}/verify", SCOPE_OPERATE, 0, verify_fleet_once},
    {"GET", "/v1/fleets/{name}/greengrass-config", SCOPE_READ, 0, greengrass_config},
};

ROUTE_TABLE(routes_fleets_table, s_routes);
