/*
 * claims.c - creating claim records and enqueueing claim jobs.
 *
 * The record is written before its job is enqueued, so GET /v1/claims/{id}
 * shows it (state creating) as soon as the POST answers. If the process
 * dies between the two, the record stays in state creating without a job;
 * a later POST without an Idempotency-Key makes a new claim and nothing was
 * made at AWS, so no certificate is orphaned; the same POST with its key
 * resumes the first (the creation job's id is derived from the claim's, so
 * it is never made twice). Payloads carry ids and flags only, never a key.
 */
#include "service/domain/claims.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/domain/claim_fields.h"
#include "service/domain/claims_stuck.h"
#include "jobs/queue.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"

long claims_key_ttl_s(void)
{
    return config_get()->claim_key_ttl_s;
}

static int set_job(const char *id, const char *job_id)
{
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_str(&kv, CLAIM_F_JOB, job_id);
    return store_claim_set(id, &kv);
}

/* Enqueues type for claim id with payload (borrowed); pick is the job's id, or NULL for a new
 * one. */
static int enqueue_as(const char *type, const char *id, json_t *payload, const char *lane,
                      long long run_at_ms, const char *pick, char *job_id, size_t job_id_len)
{
    char res[64], jid[JOB_ID_MAX];
    snprintf(res, sizeof res, "claim:%s", id);
    char *text = json_dumps(payload, JSON_COMPACT);
    if (!text)
        return FW_EINTERNAL;
    struct job_spec spec = {.type = type,
                            .payload_json = text,
                            .lane = lane,
                            .resource = res,
                            .id = pick,
                            .run_at_ms = run_at_ms};
    int rc = jobs_enqueue(&spec, jid, 0);
    free(text);
    if (!rc)
        set_job(id, jid); /* the claim shows its latest job */
    if (!rc && job_id)
        snprintf(job_id, job_id_len, "%s", jid);
    return rc;
}

static int enqueue(const char *type, const char *id, json_t *payload, const char *lane,
                   long long run_at_ms, char *job_id, size_t job_id_len)
{
    return enqueue_as(type, id, payload, lane, run_at_ms, 0, job_id, job_id_len);
}

/* The id of claim id's creation job. Made from the claim's, so that enqueuing the job again
 * returns the first: a request that lost Redis after the enqueue cannot tell whether it happened,
 * and the retry of that request (its Idempotency-Key) must not make a second job, nor a second
 * claim. */
void claims_create_job_id(const char *id, char *out, size_t n)
{
    snprintf(out, n, "create_%s", id);
}

static int enqueue_create_job(const char *id, char *job_id, size_t job_id_len)
{
    char pick[JOB_ID_MAX];
    claims_create_job_id(id, pick, sizeof pick);
    json_t *p = json_pack("{s:s}", "claimId", id);
    int rc = p ? enqueue_as("claim.create", id, p, 0, 0, pick, job_id, job_id_len) : FW_EINTERNAL;
    json_decref(p);
    return rc;
}

/* Claim id exists under the id an Idempotency-Key reserved: an earlier attempt of the request
 * made it, and then lost Redis somewhere (before its enqueue, after it, or before answering).
 * That attempt is finished here: a claim still creating gets its creation job (the same job
 * when the earlier attempt enqueued it); one past creating had it. 0 (job_id filled),
 * FW_ECONFLICT when the claim is gone again, Redis errors (the retry is answered 503). */
static int resume_preset(const char *id, char job_id[JOB_ID_MAX])
{
    json_t *f = 0;
    int rc = store_claim_get(id, &f);
    if (rc)
        return rc == FW_ENOTFOUND ? FW_ECONFLICT : rc;
    const char *st = claim_field_str(f, CLAIM_F_STATE);
    const char *job = claim_field_str(f, CLAIM_F_JOB);
    if (st && !strcmp(st, "creating"))
        rc = enqueue_create_job(id, job_id, JOB_ID_MAX);
    else if (job)
        snprintf(job_id, JOB_ID_MAX, "%s", job);
    else
        claims_create_job_id(id, job_id, JOB_ID_MAX);
    json_decref(f);
    return rc;
}

int claims_enqueue_create_ex(const struct claims_create_opts *o, char claim_id[CLAIM_ID_MAX],
                             char *job_id, size_t job_id_len)
{
    int csr = !strcmp(o->key_source, "csr");
    if (strcmp(o->key_source, "generated") && strcmp(o->key_source, "aws") && !csr)
        return FW_EINVAL;
    if (csr && (!o->csr || !o->csr_fp))
        return FW_EINVAL;
    const char *kt = csr                             ? o->csr_key_type
                     : !strcmp(o->key_source, "aws") ? "rsa2048"
                                                     : (o->key_type ? o->key_type : "ec-p256");
    struct claim_new c = {.fleet = o->fleet,
                          .key_source = o->key_source,
                          .key_type = kt,
                          .csr = csr ? o->csr : 0,
                          .public_key_fp = csr ? o->csr_fp : 0,
                          .note = o->note,
                          .expected_devices = o->expected_devices};
    char jid[JOB_ID_MAX], fuid[64];
    /* The fleet's generation, so the claim's jobs never act for a fleet
     * re-created under the same name (claim_common.c checks it). */
    int rc = store_fleet_uid(o->fleet, fuid, sizeof fuid);
    if (rc == FW_ENOTFOUND)
        rc = 0;
    c.fleet_uid = fuid[0] ? fuid : 0;
    if (rc)
        return rc;
    if (o->preset_id && store_claim_id_valid(o->preset_id))
        snprintf(claim_id, CLAIM_ID_MAX, "%s", o->preset_id);
    else
        rc = store_claim_id_new(claim_id);
    rc = rc ? rc : store_claim_create(claim_id, &c);
    if (rc == FW_ECONFLICT && o->preset_id)
        rc = resume_preset(claim_id, jid);
    else if (!rc)
        rc = enqueue_create_job(claim_id, jid, sizeof jid);
    else
        return rc;
    /* Under an Idempotency-Key the claim stays creating: the request's retry resumes it (the
     * job may even exist: the enqueue's answer may be what was lost). Without one, nobody will. */
    if (rc && !o->preset_id) {
        struct claim_kv kv;
        claim_kv_init(&kv, CLAIM_BY_SET);
        claim_kv_str(&kv, CLAIM_F_ERROR, "the creation job could not be enqueued");
        store_claim_transition(claim_id, CLAIM_FAILED, &kv, 0);
    }
    if (rc)
        return rc;
    if (job_id)
        snprintf(job_id, job_id_len, "%s", jid);
    return 0;
}

int claims_enqueue_create(const char *fleet, const char *key_source, char *claim_id_out,
                          size_t claim_id_len, char *job_id_out, size_t job_id_len)
{
    char id[CLAIM_ID_MAX];
    if (!fleet || !key_source)
        return FW_EINVAL;
    struct claims_create_opts o = {.fleet = fleet, .key_source = key_source};
    int rc = claims_enqueue_create_ex(&o, id, job_id_out, job_id_len);
    if (!rc && claim_id_out)
        snprintf(claim_id_out, claim_id_len, "%s", id);
    return rc;
}

/* Loads the claim's state. */
static int claim_state(const char *id, int *state)
{
    json_t *f = 0;
    int rc = store_claim_get(id, &f);
    if (rc)
        return rc;
    *state = store_claim_state_parse(claim_field_str(f, CLAIM_F_STATE));
    json_decref(f);
    return 0;
}

int claims_enqueue_disable(const char *id, const char *reason, int revoke, int replace,
                           char *job_id, size_t job_id_len)
{
    return claims_enqueue_disable_for(id, 0, reason, revoke, replace, job_id, job_id_len);
}

/* claim.disable of claim id; pick: the job's id (NULL = a new one). */
static int enqueue_disable(const char *id, const char *incident, const char *reason, int revoke,
                           int replace, const char *pick, char *job_id, size_t job_id_len)
{
    int st = -1;
    int rc = claim_state(id, &st);
    if (rc)
        return rc;
    if (!store_claim_transition_ok(st, revoke ? CLAIM_REVOKED : CLAIM_INACTIVE))
        return FW_ECONFLICT;
    json_t *p =
        json_pack("{s:s, s:s, s:b, s:b, s:s?}", "claimId", id, "reason", reason ? reason : "",
                  "revoke", revoke, "replace", replace, "incidentId", incident);
    rc = enqueue_as("claim.disable", id, p, "critical", 0, pick, job_id, job_id_len);
    json_decref(p);
    return rc;
}

int claims_enqueue_disable_for(const char *id, const char *incident, const char *reason, int revoke,
                               int replace, char *job_id, size_t job_id_len)
{
    return enqueue_disable(id, incident, reason, revoke, replace, 0, job_id, job_id_len);
}

int claims_enqueue_disable_by(const char *id, const char *reason, const char *by_job)
{
    char pick[JOB_ID_MAX];
    int n = snprintf(pick, sizeof pick, "disable_%s_%s", id, by_job);
    if (n < 0 || (size_t)n >= sizeof pick)
        return FW_EINVAL;
    return enqueue_disable(id, 0, reason, 0, 0, pick, 0, 0);
}

int claims_enqueue_enable(const char *id, char *job_id, size_t job_id_len)
{
    int st = -1;
    int rc = claim_state(id, &st);
    if (rc)
        return rc;
    if (st != CLAIM_INACTIVE && st != CLAIM_ACTIVE)
        return FW_ECONFLICT;
    json_t *p = json_pack("{s:s}", "claimId", id);
    rc = enqueue("claim.enable", id, p, "critical", 0, job_id, job_id_len);
    json_decref(p);
    return rc;
}

int claims_enqueue_rotate(const char *id, long grace_s, const char *csr, const char *csr_fp,
                          const char *csr_key_type, const char *lane, char succ_id[CLAIM_ID_MAX],
                          char *job_id, size_t job_id_len)
{
    int st = -1, created = 0;
    int rc = claim_state(id, &st);
    if (rc)
        return rc;
    if (st != CLAIM_ACTIVE)
        return FW_ECONFLICT;
    rc = store_claim_successor_ensure(id, csr, csr_fp, csr_key_type, succ_id, &created);
    if (rc)
        return rc;
    json_t *p = json_pack("{s:s, s:s, s:I}", "claimId", id, "successorId", succ_id, "graceSeconds",
                          (json_int_t)grace_s);
    rc = enqueue("claim.rotate", id, p, lane, 0, job_id, job_id_len);
    json_decref(p);
    if (!rc && job_id)
        set_job(succ_id, job_id);
    return rc;
}

/* A claim still creating whose creation job was canceled: no run will finish it (a job canceled
 * before it ran never does), so it is failed, and may then be deleted; *st its state after. The
 * creation job is the one the claim records (its claim.create, or the claim.rotate that makes it
 * as a successor), else create_<id>. */
static void fail_if_creation_canceled(const char *id, int *st)
{
    char jid[JOB_ID_MAX];
    json_t *f = 0, *job = 0;
    if (*st != CLAIM_CREATING || store_claim_get(id, &f))
        return;
    const char *rec = claim_field_str(f, CLAIM_F_JOB);
    if (rec && *rec)
        snprintf(jid, sizeof jid, "%s", rec);
    else
        claims_create_job_id(id, jid, sizeof jid);
    json_decref(f);
    if (jobs_get(jid, &job))
        return;
    const char *js = json_string_value(json_object_get(job, "state"));
    if (js && !strcmp(js, "canceled") && !claims_fail_creating(id, "its creation job was canceled"))
        *st = CLAIM_FAILED;
    json_decref(job);
}

int claims_fail_abandoned(const char *id)
{
    int st = CLAIM_CREATING;
    fail_if_creation_canceled(id, &st);
    return st == CLAIM_FAILED;
}

static int enqueue_delete(const char *id, long long run_at_ms, int retention, char *job_id,
                          size_t job_id_len)
{
    int st = -1;
    int rc = claim_state(id, &st);
    if (rc)
        return rc;
    fail_if_creation_canceled(id, &st);
    if (!store_claim_transition_ok(st, CLAIM_DELETED))
        return FW_ECONFLICT;
    json_t *p = json_pack("{s:s, s:b}", "claimId", id, "retention", retention);
    rc = enqueue("claim.delete", id, p, 0, run_at_ms, job_id, job_id_len);
    json_decref(p);
    return rc;
}

int claims__enqueue_existing(const char *id, char *job_id, size_t job_id_len)
{
    char jid[JOB_ID_MAX];
    json_t *p = json_pack("{s:s}", "claimId", id);
    int rc = enqueue("claim.create", id, p, 0, 0, jid, sizeof jid);
    json_decref(p);
    if (!rc) {
        set_job(id, jid);
        if (job_id)
            snprintf(job_id, job_id_len, "%s", jid);
    }
    return rc;
}

int claims_enqueue_delete(const char *id, long long run_at_ms, char *job_id, size_t job_id_len)
{
    return enqueue_delete(id, run_at_ms, 0, job_id, job_id_len);
}

int claims__enqueue_retention_delete(const char *id, long long run_at_ms)
{
    return enqueue_delete(id, run_at_ms, 1, 0, 0);
}
