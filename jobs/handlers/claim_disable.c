/*
 * claim_disable.c - claim.disable (INACTIVE or REVOKED) and claim.enable.
 *
 * The certificate status changes at AWS first (UpdateCertificate is
 * idempotent), then the record; a retry after a crash in between repeats
 * the harmless AWS call. Revocation is final: AWS refuses to leave REVOKED
 * and so does the record (store_claim_transition_ok). A revoked claim's
 * sealed key, if it was never downloaded, is erased. With replace, a
 * successor claim (same fleet, key source and type) is created by its own
 * claim.create job on the default lane once this one is off.
 */
#include "claim_disable.h"

#include <stdio.h>
#include <string.h>

#include "aws/iot.h"
#include "claim_common.h"
#include "service/domain/claim_fields.h"
#include "service/domain/claims.h"
#include "jobs/job.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/domain/store_watch.h"

/* UpdateCertificate to status; a certificate already gone counts as done. */
static int set_status(struct job_ctx *ctx, struct claim_job *cj, const char *status)
{
    struct aws_api_error err;
    awserr_clear(&err);
    const char *cert = claim_field(cj, CLAIM_F_CERT_ID);
    if (cert && iot_update_certificate(cj->aws, cert, status, &err) && err.cls != AWS_ERRC_NOTFOUND)
        return claim_fail_aws(ctx, &err);
    return 0;
}

/* 1 when the claim's fleet is being deleted: its teardown has counted the live claims, so none
 * may become live now (it would outlive the fleet with an ACTIVE certificate). */
static int fleet_deleting(const struct claim_job *cj)
{
    const char *st = json_string_value(json_object_get(cj->fleet, "state"));
    return st && !strcmp(st, "deleting");
}

static int replace(struct job_ctx *ctx, struct claim_job *cj)
{
    char succ[CLAIM_ID_MAX], jid[JOB_ID_MAX];
    int created = 0;
    if (fleet_deleting(cj)) {
        /* its teardown would have to wait for the successor, or leave it behind */
        log_event(LOG_INFO, "claim disabled without a replacement: its fleet is being deleted",
                  LOG_STR("claim", cj->id), LOG_STR("job", job_ctx_id(ctx)));
        return 0;
    }
    int rc = store_claim_successor_ensure(cj->id, 0, 0, 0, succ, &created);
    if (rc)
        return rc;
    json_t *f = 0;
    rc = store_claim_get(succ, &f);
    const char *st = rc ? 0 : claim_field_str(f, CLAIM_F_STATE);
    if (st && !strcmp(st, "creating"))
        rc = claims__enqueue_existing(succ, jid, sizeof jid);
    json_decref(f);
    (void)ctx;
    return rc;
}

/* A disable asked for by the misuse watch is news on the incidents'
 * event feed. An event that cannot be published does not undo or fail
 * the disable (the claim is off; the incident and the claim show it). */
static void announce(struct job_ctx *ctx, struct claim_job *cj, json_t *payload, int revoke)
{
    const char *incident = json_string_value(json_object_get(payload, "incidentId"));
    if (incident &&
        store_incident_claim_off(cj->id, incident, job_ctx_id(ctx), revoke, claim_now_ms()))
        log_msg(LOG_WARN, "claim %s: the incident event of its disable was not published (Redis)",
                cj->id);
}

static int disable(struct job_ctx *ctx, struct claim_job *cj, json_t *payload)
{
    int revoke = json_is_true(json_object_get(payload, "revoke"));
    int to = revoke ? CLAIM_REVOKED : CLAIM_INACTIVE;
    if (!store_claim_transition_ok(claim_state(cj), to))
        return claim_fail_msg(ctx, "ClaimStateConflict",
                              "the claim cannot be disabled from its current state");
    int rc = set_status(ctx, cj, revoke ? "REVOKED" : "INACTIVE");
    if (rc)
        return rc;
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_str(&kv, CLAIM_F_DISABLE_REASON,
                 json_string_value(json_object_get(payload, "reason")));
    claim_kv_int(&kv, revoke ? CLAIM_F_REVOKED_AT : CLAIM_F_INACTIVE_AT, claim_now_ms());
    rc = store_claim_transition(cj->id, to, &kv, 0);
    if (rc == FW_ECONFLICT)
        return claim_fail_msg(ctx, "ClaimStateConflict",
                              "the claim changed state while it was being disabled");
    if (rc)
        return rc;
    store_claim_rotation_due(cj->id, 0);
    if (revoke)
        store_claim_key_erase(cj->id, "revoked");
    log_event(LOG_INFO, "claim disabled", LOG_STR("claim", cj->id), LOG_BOOL("revoke", revoke),
              LOG_STR("job", job_ctx_id(ctx)));
    announce(ctx, cj, payload, revoke);
    return json_is_true(json_object_get(payload, "replace")) ? replace(ctx, cj) : 0;
}

int claim_disable_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct claim_job cj;
    int rc = claim_job_load(ctx, json_string_value(json_object_get(payload, "claimId")), 1, &cj);
    rc = rc ? rc : disable(ctx, &cj, payload);
    if (!rc && !claim_job_reload(&cj))
        claim_set_result(ctx, &cj);
    claim_job_cleanup(&cj);
    return rc;
}

int claim_enable_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct claim_job cj;
    int rc = claim_job_load(ctx, json_string_value(json_object_get(payload, "claimId")), 1, &cj);
    int st = rc ? -1 : claim_state(&cj);
    if (!rc && st != CLAIM_INACTIVE && st != CLAIM_ACTIVE)
        rc = claim_fail_msg(ctx, st == CLAIM_REVOKED ? "ClaimRevoked" : "ClaimStateConflict",
                            st == CLAIM_REVOKED ? "the claim is revoked: revocation is final"
                                                : "only an inactive claim can be enabled");
    if (!rc && fleet_deleting(&cj)) /* an enable queued before the fleet's DELETE */
        rc = claim_fail_msg(ctx, "FleetDeleting",
                            "the fleet is being deleted: its claims are not enabled again");
    rc = rc ? rc : set_status(ctx, &cj, "ACTIVE");
    if (!rc) {
        struct claim_kv kv;
        claim_kv_init(&kv, CLAIM_BY_SET);
        claim_kv_str(&kv, CLAIM_F_DISABLE_REASON, "");
        claim_kv_str(&kv, CLAIM_F_INACTIVE_AT, "");
        rc = store_claim_transition(cj.id, CLAIM_ACTIVE, &kv, 0);
        rc = rc == FW_ECONFLICT
                 ? claim_fail_msg(ctx, "ClaimStateConflict", "the claim changed state meanwhile")
                 : rc;
    }
    if (!rc && !claim_job_reload(&cj))
        claim_set_result(ctx, &cj);
    claim_job_cleanup(&cj);
    return rc;
}
