/*
 * claim_delete.c - claim.delete, in AWS's required order: INACTIVE (a
 * REVOKED certificate stays REVOKED), detach the claim policy, delete.
 *
 * Each call treats "already gone" as done, so the job converges after a
 * crash at any line. Used for DELETE /v1/claims/{id} and, delayed by the
 * retention period, at the end of a rotation (claim.retire; payload
 * "retention": true, which spares a claim that was enabled again).
 */
#include "claim_delete.h"

#include <stdio.h>
#include <string.h>

#include "aws/iot.h"
#include "claim_common.h"
#include "jobs/ratelimit.h"
#include "jobs/worker.h"
#include "service/core/err.h"

static int gone_ok(struct job_ctx *ctx, int rc, const struct aws_api_error *err)
{
    if (!rc || err->cls == AWS_ERRC_NOTFOUND)
        return 0;
    return claim_fail_aws(ctx, err);
}

static int delete_cert(struct job_ctx *ctx, struct claim_job *cj)
{
    struct aws_api_error err;
    awserr_clear(&err);
    const char *cert = claim_field(cj, CLAIM_F_CERT_ID), *arn = claim_field(cj, CLAIM_F_CERT_ARN);
    if (!cert)
        return 0;
    int rc = 0;
    if (claim_state(cj) != CLAIM_REVOKED)
        rc = gone_ok(ctx, iot_update_certificate(cj->aws, cert, "INACTIVE", &err), &err);
    if (!rc && cj->policy && arn) {
        ratelimit_acquire("iot-policy-attach");
        awserr_clear(&err);
        rc = gone_ok(ctx, iot_detach_policy(cj->aws, cj->policy, arn, &err), &err);
    }
    if (!rc) {
        awserr_clear(&err);
        rc = gone_ok(ctx, iot_delete_certificate(cj->aws, cert, 0, &err), &err);
    }
    return rc;
}

/* A retention delete spares a claim that was enabled again after its rotation. */
static int spared(const json_t *payload, const struct claim_job *cj)
{
    int st = claim_state(cj);
    return json_is_true(json_object_get(payload, "retention")) && st != CLAIM_INACTIVE &&
           st != CLAIM_REVOKED && st != CLAIM_DELETED;
}

int claim_delete_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct claim_job cj;
    int rc = claim_job_load(ctx, json_string_value(json_object_get(payload, "claimId")), 1, &cj);
    if (!rc && claim_state(&cj) == CLAIM_CREATING)
        rc = claim_fail_msg(ctx, "ClaimStateConflict", "the claim is still being created");
    if (!rc && claim_state(&cj) != CLAIM_DELETED && !spared(payload, &cj)) {
        rc = delete_cert(ctx, &cj);
        if (!rc) {
            store_claim_key_erase(cj.id, "deleted");
            store_claim_rotation_due(cj.id, 0);
            struct claim_kv kv;
            claim_kv_init(&kv, CLAIM_BY_SET);
            claim_kv_int(&kv, CLAIM_F_DELETED_AT, claim_now_ms());
            rc = store_claim_transition(cj.id, CLAIM_DELETED, &kv, 0);
        }
    }
    if (!rc && !claim_job_reload(&cj))
        claim_set_result(ctx, &cj);
    claim_job_cleanup(&cj);
    return rc;
}
