/*
 * claims_stuck.c - claims left in state creating without a creation job (claims_stuck.h).
 *
 * A claim is written, in state creating, before its claim.create job is enqueued
 * (service/domain/claims.c), so that the POST can show it at once. A request that loses Redis or
 * its process between the two leaves a claim creating with no job: its client was answered 503
 * (or nothing), and with an Idempotency-Key its retry, within the key's lifetime, resumes that
 * claim. Nothing was made at AWS for it, but it counts as a live claim: it can be neither
 * disabled nor deleted, and DELETE /v1/fleets/{name} refuses while it is there. Once no retry
 * can resume it, failing it is what its client was told, and lets it be deleted.
 *
 * Only a claim of which no creation job exists at all is failed: a job that exists, finished or
 * not, is the claim's business (a dead claim.create fails its claim itself), and a job that
 * cannot be read is never taken as absent.
 */
#include "service/domain/claims_stuck.h"

#include <string.h>
#include <jansson.h>

#include "jobs/job.h"
#include "jobs/queue.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/domain/claim_fields.h"
#include "service/domain/claims.h"
#include "service/domain/store_claim.h"
#include "service/domain/store.h"
#include "service/domain/store_claim_index.h"

#define STUCK_BATCH 100
#define STUCK_BATCHES 10 /* a scan looks at 1,000 claims at most */

/* 1 when job id was never made or is gone (FW_ENOTFOUND); an error reading it is not "gone". */
static int job_absent(const char *id)
{
    if (!id || !*id)
        return 1;
    json_t *j = 0;
    int rc = jobs_get(id, &j);
    json_decref(j);
    return rc == FW_ENOTFOUND;
}

/* 1 when claim id is still creating and no claim.create job of it exists. */
static int creation_lost(const char *id)
{
    json_t *c = 0;
    if (store_claim_get(id, &c))
        return 0;
    const char *st = claim_field_str(c, CLAIM_F_STATE);
    int lost = st && !strcmp(st, "creating") && job_absent(claim_field_str(c, CLAIM_F_JOB));
    json_decref(c);
    if (lost) {
        char jid[JOB_ID_MAX];
        claims_create_job_id(id, jid, sizeof jid);
        lost = job_absent(jid);
    }
    return lost;
}

int claims_fail_creating(const char *id, const char *why)
{
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_str(&kv, CLAIM_F_ERROR, why);
    int rc = store_claim_transition(id, CLAIM_FAILED, &kv, 0);
    if (!rc)
        log_event(LOG_WARN, "claim left creating: marked failed", LOG_STR("claimId", id),
                  LOG_STR("why", why));
    return rc;
}

static int fail_claim(const char *id)
{
    return claims_fail_creating(id,
                                "its creation job was never queued (the request that made it was "
                                "cut short); nothing was made at AWS");
}

/* One batch of up to STUCK_BATCH candidates from offset: *seen how many were looked at, *failed
 * incremented by those failed. 0, or the query's error. */
static int fail_batch(long long before_ms, long offset, int *seen, int *failed)
{
    json_t *ids = 0;
    int rc = store_claim_index_before("creating", before_ms, offset, STUCK_BATCH, &ids);
    if (rc)
        return rc;
    size_t i;
    json_t *v;
    *seen = (int)json_array_size(ids);
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        if (creation_lost(id) && !fail_claim(id))
            ++*failed;
    }
    json_decref(ids);
    return 0;
}

int claims_fail_stuck(int *failed)
{
    *failed = 0;
    long long age_ms = ((long long)config_get()->idem_ttl_s + CLAIM_STUCK_MARGIN_S) * 1000LL;
    long long before = store_now_ms() - age_ms;
    /* Claims that are old but not lost (a creation job of theirs exists) stay in the set: the walk
     * goes past them, and a failed claim leaves it, so the offset grows by what stayed. */
    long offset = 0;
    for (int b = 0; b < STUCK_BATCHES; b++) {
        int seen = 0, before_failed = *failed;
        int rc = fail_batch(before, offset, &seen, failed);
        if (rc)
            return rc;
        offset += seen - (*failed - before_failed);
        if (seen < STUCK_BATCH)
            break;
    }
    return 0;
}
