/*
 * claim_rotate.c - claim.rotate, claim.retire and claim.autorotate.
 *
 * Rotation order (DESIGN.md "Claims and keys"): the successor is created
 * and its policy attached first (claim_create_steps, inside this job);
 * only then does the old claim become "rotating" - still ACTIVE at AWS so
 * devices being flashed with it keep working - and a delayed claim.retire
 * is enqueued for the end of the grace period. claim.retire sets the old
 * certificate INACTIVE and enqueues a delayed claim.delete for the end of
 * the retention period. Every step is recorded, and the follow-up jobs are
 * unique per claim, so a retried job enqueues nothing twice.
 *
 * claim.autorotate first sweeps the fleets with a rotation period and gives
 * each active claim without a due time one (claims made before the period
 * was set), then enqueues claim.rotate for the claims that are due, then
 * fails the claims left creating without a creation job
 * (service/domain/claims_stuck.h).
 */
#include "claim_rotate.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#include "aws/iot.h"
#include "claim_common.h"
#include "service/domain/claim_fields.h"
#include "claim_create.h"
#include "service/domain/claims.h"
#include "service/domain/claims_stuck.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/domain/store_fleet.h"

#define SCHEDULE_NAME "claims.autorotate"

static long scan_interval_s(void)
{
    return config_get()->rotation_scan_s;
}

static atomic_int s_installed;

int claim_rotate_schedule_install(void)
{
    int rc = jobs_schedule_upsert(SCHEDULE_NAME, "claim.autorotate", "{}", scan_interval_s(), 0);
    if (!rc)
        atomic_store(&s_installed, 1);
    return rc;
}

static void ensure_schedule(void)
{
    if (!atomic_load(&s_installed) && claim_rotate_schedule_install())
        log_msg(LOG_WARN, "could not create the automatic claim rotation schedule");
}

static double uniform01(void)
{
    unsigned int u = 0;
    if (RAND_bytes((unsigned char *)&u, sizeof u) != 1)
        return 0.5;
    return u / 4294967296.0;
}

void claim_rotate_schedule_first(const char *id, const json_t *fleet, int is_successor)
{
    double period_s = claim_rotation_period_s(fleet);
    if (period_s <= 0)
        return;
    double frac = is_successor ? 1.0 : 0.5 + 0.5 * uniform01();
    long long due = claim_now_ms() + (long long)(period_s * 1000.0 * frac);
    if (store_claim_rotation_due(id, due))
        log_msg(LOG_WARN, "could not record a claim's rotation due time");
    ensure_schedule();
}

/* Marks the old claim rotating (once: the step keeps the first grace end). */
static int start_grace(struct job_ctx *ctx, struct claim_job *old, long grace_s, long long *until)
{
    char *res = 0;
    if (job_ctx_step_result(ctx, "rotating", &res) == 0) {
        json_t *o = json_loads(res, 0, 0);
        *until = json_integer_value(json_object_get(o, "graceUntil"));
        json_decref(o);
        free(res);
        return 0;
    }
    char step[64];
    long long t = claim_now_ms();
    *until = t + grace_s * 1000LL;
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_int(&kv, CLAIM_F_ROTATING_AT, t);
    claim_kv_int(&kv, CLAIM_F_GRACE_UNTIL, *until);
    int rc = store_claim_transition(old->id, CLAIM_ROTATING, &kv, 0);
    if (rc == FW_ECONFLICT)
        return claim_fail_msg(ctx, "ClaimNotActive",
                              "the claim left state active while its successor was made");
    if (rc)
        return rc;
    store_claim_rotation_due(old->id, 0);
    snprintf(step, sizeof step, "{\"graceUntil\":%lld}", *until);
    return job_ctx_step_done(ctx, "rotating", step);
}

/* claim_create_steps does nothing to a successor past creating, and reports success: only an
 * active one may take over (one that failed, or was deleted, leaves the old claim as it is). */
static int successor_active(struct job_ctx *ctx, const char *succ)
{
    struct claim_job s;
    int rc = claim_job_load(ctx, succ, 0, &s);
    if (!rc && claim_state(&s) != CLAIM_ACTIVE)
        rc = claim_fail_msg(ctx, "SuccessorNotActive",
                            "the successor claim is not active (it failed or was removed); "
                            "rotating again makes a new one");
    claim_job_cleanup(&s);
    return rc;
}

static int enqueue_retire(const char *id, long long run_at_ms)
{
    char res[64], jid[JOB_ID_MAX], payload[80];
    snprintf(res, sizeof res, "claim:%s", id);
    snprintf(payload, sizeof payload, "{\"claimId\":\"%s\"}", id);
    struct job_spec spec = {
        .type = "claim.retire", .payload_json = payload, .resource = res, .run_at_ms = run_at_ms};
    return jobs_enqueue(&spec, jid, 0);
}

int claim_rotate_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct claim_job old;
    const char *succ = json_string_value(json_object_get(payload, "successorId"));
    json_t *g = json_object_get(payload, "graceSeconds");
    long long until = 0;
    int rc = claim_job_load(ctx, json_string_value(json_object_get(payload, "claimId")), 0, &old);
    if (!rc && !store_claim_id_valid(succ))
        rc = claim_fail_msg(ctx, "BadPayload", "the job's successorId is not a claim id");
    if (!rc && claim_state(&old) != CLAIM_ACTIVE && claim_state(&old) != CLAIM_ROTATING) {
        struct claim_kv kv;
        claim_kv_init(&kv, CLAIM_BY_SET);
        claim_kv_str(&kv, CLAIM_F_ERROR,
                     "rotation abandoned: the predecessor was no longer active");
        store_claim_transition(succ, CLAIM_FAILED, &kv, 0);
        rc = claim_fail_msg(ctx, "ClaimNotActive", "only an active claim can be rotated");
    }
    rc = rc ? rc : claim_create_steps(ctx, succ);
    rc = rc ? rc : successor_active(ctx, succ);
    if (!rc) {
        long grace = json_is_integer(g) && json_integer_value(g) >= 0
                         ? (long)json_integer_value(g)
                         : claim_rotation_grace_s(old.fleet);
        rc = start_grace(ctx, &old, grace, &until);
    }
    rc = rc ? rc : enqueue_retire(old.id, until);
    if (!rc) {
        claim_job_reload(&old);
        claim_set_result(ctx, &old);
    }
    claim_job_cleanup(&old);
    return rc;
}

/* Grace over: the old certificate goes INACTIVE. */
static int deactivate(struct job_ctx *ctx, struct claim_job *cj)
{
    struct aws_api_error err;
    awserr_clear(&err);
    const char *cert = claim_field(cj, CLAIM_F_CERT_ID);
    if (cert && iot_update_certificate(cj->aws, cert, "INACTIVE", &err) &&
        err.cls != AWS_ERRC_NOTFOUND)
        return claim_fail_aws(ctx, &err);
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_int(&kv, CLAIM_F_INACTIVE_AT, claim_now_ms());
    int rc = store_claim_transition(cj->id, CLAIM_INACTIVE, &kv, 0);
    return rc == FW_ECONFLICT ? 0 : rc;
}

int claim_retire_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct claim_job cj;
    int rc = claim_job_load(ctx, json_string_value(json_object_get(payload, "claimId")), 1, &cj);
    if (!rc && claim_state(&cj) == CLAIM_ROTATING)
        rc = deactivate(ctx, &cj);
    if (!rc && claim_state(&cj) != CLAIM_DELETED) {
        long long at = claim_now_ms() + claim_rotation_retention_s(cj.fleet) * 1000LL;
        rc = claims__enqueue_retention_delete(cj.id, at);
        rc = rc == FW_ECONFLICT ? 0 : rc;
    }
    if (!rc) {
        claim_job_reload(&cj);
        claim_set_result(ctx, &cj);
    }
    claim_job_cleanup(&cj);
    return rc;
}

/* Whether active claim c may be rotated automatically as far as its successor goes. None, one
 * still creating (claim.rotate is unique per claim: a rotation still running is the one found, one
 * that ended early is resumed) or one that can no longer take over (failed, deleted, gone, since
 * disabled or revoked: claim_successor.lua makes a new one): yes. An active one: only when this
 * claim never went rotating (a rotation that stopped before; it is finished), not when the claim
 * was enabled again after its rotation (the operator's call). Skipping every claim with a
 * successor stopped its automatic rotations for good after one failed. */
static int successor_allows(const json_t *c)
{
    const char *succ = claim_field_str(c, CLAIM_F_SUCCESSOR);
    const char *rotated = claim_field_str(c, CLAIM_F_ROTATING_AT);
    json_t *s = 0;
    if (!succ || !succ[0])
        return 1;
    int rc = store_claim_get(succ, &s);
    if (rc)
        return rc == FW_ENOTFOUND;
    const char *st = claim_field_str(s, CLAIM_F_STATE);
    int ok = !(st && !strcmp(st, "active") && rotated && rotated[0]);
    json_decref(s);
    return ok;
}

/* Enqueues the rotation of one due claim; skips what cannot rotate. */
static void rotate_due(const char *id)
{
    json_t *f = 0;
    char succ[CLAIM_ID_MAX], jid[JOB_ID_MAX];
    if (store_claim_get(id, &f))
        return;
    const char *st = claim_field_str(f, CLAIM_F_STATE);
    const char *ks = claim_field_str(f, CLAIM_F_KEY_SOURCE);
    if (st && !strcmp(st, "active") && ks && strcmp(ks, "csr") && successor_allows(f)) {
        if (claims_enqueue_rotate(id, -1, 0, 0, 0, "bulk", succ, jid, sizeof jid))
            log_msg(LOG_WARN, "could not enqueue an automatic claim rotation");
    }
    json_decref(f);
}

/* Due time for an active claim found by the sweep: as at activation, or,
 * when that is past, spread over the next min(period, 1 h). */
static long long sweep_due(const json_t *c, double period_s)
{
    const char *a = claim_field_str(c, CLAIM_F_ACTIVATED);
    const char *pred = claim_field_str(c, CLAIM_F_PREDECESSOR);
    long long now = claim_now_ms(), act = a ? strtoll(a, 0, 10) : now;
    double u = uniform01();
    long long due = act + (long long)(period_s * 1000.0 * (pred && pred[0] ? 1.0 : 0.5 + 0.5 * u));
    if (due < now)
        due = now + (long long)(u * (period_s < 3600 ? period_s : 3600) * 1000.0);
    return due;
}

/* Gives every active claim of a rotating fleet a due time if it has none
 * (claims made before the fleet's rotation period was set). */
static void sweep_fleet(const char *fleet, double period_s)
{
    char *cursor = 0;
    do {
        json_t *items = 0;
        char *next = 0;
        if (store_claim_list(fleet, "active", 500, cursor, &items, &next))
            break;
        size_t i;
        json_t *c;
        json_array_foreach(items, i, c)
        {
            const char *ks = claim_field_str(c, CLAIM_F_KEY_SOURCE);
            if (ks && strcmp(ks, "csr") && successor_allows(c))
                store_claim_rotation_due_nx(claim_field_str(c, CLAIM_F_ID), sweep_due(c, period_s));
        }
        json_decref(items);
        free(cursor);
        cursor = next;
    } while (cursor);
    free(cursor);
}

static void sweep(void)
{
    json_t *names = 0;
    if (store_fleet_list_names(&names))
        return;
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *fleet = 0;
        if (store_fleet_get(json_string_value(n), &fleet))
            continue;
        double p = claim_rotation_period_s(fleet);
        if (p > 0)
            sweep_fleet(json_string_value(n), p);
        json_decref(fleet);
    }
    json_decref(names);
}

int claim_autorotate_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)payload;
    (void)ud;
    json_t *ids = 0;
    int total = 0, rc;
    sweep();
    do {
        rc = store_claim_rotation_take(claim_now_ms(), 200, &ids);
        size_t i, n = rc ? 0 : json_array_size(ids);
        json_t *v;
        json_array_foreach(ids, i, v) rotate_due(json_string_value(v));
        total += (int)n;
        json_decref(ids);
        ids = 0;
        if (n < 200)
            break;
    } while (!job_ctx_cancel_requested(ctx));
    int stuck = 0;
    if (!rc)
        rc = claims_fail_stuck(&stuck);
    char r[80];
    snprintf(r, sizeof r, "{\"rotationsEnqueued\":%d,\"stuckClaimsFailed\":%d}", total, stuck);
    job_ctx_set_result(ctx, r);
    return rc;
}
