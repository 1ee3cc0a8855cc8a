/*
 * claim_common.c - shared pieces of the claim.* job handlers.
 *
 * Every handler starts with claim_job_load: the record, the fleet document
 * (region, assumed role, claim policy) and the worker thread's AWS client
 * for that region and role (awsctx). Errors that a retry cannot fix (the
 * claim or its fleet is gone, the fleet has no claim policy) are marked
 * as validation errors so the job dies at once instead of retrying.
 */
#include "claim_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsctx.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"

long long claim_now_ms(void)
{
    return store_now_ms();
}

int claim_fail_aws(struct job_ctx *ctx, const struct aws_api_error *err)
{
    return awsctx_fail(ctx, err);
}

int claim_fail_msg(struct job_ctx *ctx, const char *code, const char *msg)
{
    job_ctx_set_error_msg(ctx, JOB_FAIL_VALIDATION, code, "%s", msg);
    return FW_EINVAL;
}

const char *claim_field(const struct claim_job *cj, enum claim_field f)
{
    return claim_rec_get(cj->claim, f);
}

int claim_state(const struct claim_job *cj)
{
    return store_claim_state_parse(claim_field(cj, CLAIM_F_STATE));
}

int claim_job_reload(struct claim_job *cj)
{
    json_t *f = 0;
    int rc = store_claim_get(cj->id, &f);
    if (rc)
        return rc;
    json_decref(cj->claim);
    cj->claim = f;
    return 0;
}

static int load_aws(struct job_ctx *ctx, struct claim_job *cj)
{
    struct aws_api_error err;
    awserr_clear(&err);
    const json_t *role = json_object_get(cj->fleet, "assumeRole");
    cj->aws = awsctx_client(json_string_value(json_object_get(cj->fleet, "region")),
                            json_string_value(json_object_get(role, "roleArn")),
                            json_string_value(json_object_get(role, "externalId")), &err);
    return cj->aws ? 0 : claim_fail_aws(ctx, &err);
}

/* 1 when the claim was made for another generation of its fleet (the
 * fleetUid it records is not the fleet's uid; claims from before
 * generations record none and are taken as the fleet's). */
static int stale_fleet(const struct claim_job *cj)
{
    const char *have = claim_field(cj, CLAIM_F_FLEET_UID);
    const char *now = json_string_value(json_object_get(cj->fleet, "uid"));
    return have && (!now || strcmp(have, now));
}

int claim_job_load(struct job_ctx *ctx, const char *id, int need_aws, struct claim_job *cj)
{
    memset(cj, 0, sizeof *cj);
    snprintf(cj->id, sizeof cj->id, "%s", id ? id : "");
    if (!store_claim_id_valid(cj->id))
        return claim_fail_msg(ctx, "BadPayload", "the job's claimId is not a claim id");
    int rc = claim_job_reload(cj);
    if (rc == FW_ENOTFOUND)
        return claim_fail_msg(ctx, "ClaimNotFound", "the claim record no longer exists");
    if (rc)
        return rc;
    rc = store_fleet_get(claim_field(cj, CLAIM_F_FLEET), &cj->fleet);
    if (rc && rc != FW_ENOTFOUND)
        return rc;
    if (cj->fleet && stale_fleet(cj)) {
        json_decref(cj->fleet); /* the claim's fleet is gone: this one only has its name */
        cj->fleet = 0;
        return claim_fail_msg(
            ctx, "StaleJob",
            "the claim belongs to an earlier fleet of this name, deleted and re-created since");
    }
    cj->policy = json_string_value(json_object_get(
        json_object_get(json_object_get(cj->fleet, "resources"), "claimPolicy"), "name"));
    if (!need_aws)
        return 0;
    if (!cj->fleet)
        return claim_fail_msg(ctx, "FleetNotFound", "the claim's fleet no longer exists");
    return load_aws(ctx, cj);
}

void claim_job_cleanup(struct claim_job *cj)
{
    json_decref(cj->claim);
    json_decref(cj->fleet);
    memset(cj, 0, sizeof *cj);
}

static const json_t *rotation(const json_t *fleet)
{
    return json_object_get(json_object_get(fleet, "settings"), "rotation");
}

double claim_rotation_period_s(const json_t *fleet)
{
    const json_t *v = json_object_get(rotation(fleet), "periodDays");
    double d = json_is_number(v) ? json_number_value(v) : 0;
    return d > 0 ? d * 86400.0 : 0;
}

static long rotation_int(const json_t *fleet, const char *name, long dflt)
{
    const json_t *v = json_object_get(rotation(fleet), name);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : dflt;
}

long claim_rotation_grace_s(const json_t *fleet)
{
    return rotation_int(fleet, "graceSeconds", 3600);
}

long claim_rotation_retention_s(const json_t *fleet)
{
    return rotation_int(fleet, "retentionSeconds", 7L * 86400);
}

void claim_set_result(struct job_ctx *ctx, const struct claim_job *cj)
{
    json_t *r =
        json_pack("{s:s, s:s?, s:s?}", "claimId", cj->id, "state", claim_field(cj, CLAIM_F_STATE),
                  "certificateId", claim_field(cj, CLAIM_F_CERT_ID));
    char *t = json_dumps(r, JSON_COMPACT);
    if (t)
        job_ctx_set_result(ctx, t);
    free(t);
    json_decref(r);
}
