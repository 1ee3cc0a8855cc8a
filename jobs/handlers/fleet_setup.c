/*
 * fleet_setup.c - fleet.setup: the
 * guide's steps in order, each looking before it creates (fleet.plan and
 * fleet.reconcile, in fleet_reconcile.c, run the same steps).
 *
 * setup records every finished step twice: in the job (job_ctx_step_done, so a
 * retry after kill -9 skips it) and in the fleet (resources.KEY, visible on
 * GET). A step that was interrupted between its AWS call and its record
 * finds the resource on the next attempt, sees it match, and records it
 * then; the "creating" mark written before each create keeps the origin
 * right. plan runs the same steps read-only; reconcile runs them again,
 * ignoring recorded steps, repairing every difference and listing what it
 * found. Load: one fleet at a time per job (unique per fleet).
 */
#include "fleet_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sts.h"
#include "awsctx.h"
#include "service/domain/claims.h"
#include "fleet_iam.h"
#include "fleet_iot.h"
#include "fleet_run.h"
#include "jobs/job.h"
#include "jobs/ratelimit.h"
#include "jobs/retry.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/domain/store.h"
#include "service/domain/store_claim.h"
#include "service/domain/claim_fields.h"
#include "service/domain/store_fleet.h"

typedef int(fleet_step_fn)(struct fleet_run *r);

struct fleet_step {
    const char *key;
    fleet_step_fn *fn;
    const char *family; /* rate-limit family (jobs/ratelimit.h), one token per step */
};

static int first_claim(struct fleet_run *r);

static const struct fleet_step s_steps[] = {
    {"tokenExchangeRole", fleet_iam_tes_role, "iam"},
    {"tokenExchangePolicy", fleet_iam_tes_policy, "iam"},
    {"tokenExchangeRoleAttachment", fleet_iam_tes_attach, "iam"},
    {"roleAlias", fleet_iot_role_alias, "iot-rolealias"},
    {"thingPolicy", fleet_iot_thing_policy, "iot-policy"},
    {"provisioningRole", fleet_iam_prov_role, "iam"},
    {"provisioningRoleAttachment", fleet_iam_prov_attach, "iam"},
    {"thingGroups", fleet_iot_thing_groups, "iot-describe"},
    {"template", fleet_iot_template, "iot-template"},
    {"claimPolicy", fleet_iot_claim_policy, "iot-policy"},
    {"endpoints", fleet_iot_endpoints, "iot-describe"},
    {"firstClaim", first_claim, 0},
};

#define NSTEPS ((int)(sizeof s_steps / sizeof s_steps[0]))

int fleet_setup_client(struct fleet_run *r)
{
    const json_t *ar = json_object_get(r->fleet, "assumeRole");
    r->aws = awsctx_client(r->region, json_string_value(json_object_get(ar, "roleArn")),
                           json_string_value(json_object_get(ar, "externalId")), &r->err);
    return r->aws ? 0 : awsctx_fail(r->ctx, &r->err);
}

void fleet_setup_attach(struct fleet_run *r, json_t *fleet)
{
    r->fleet = fleet;
    r->spec = json_object_get(fleet, "spec");
    r->name = json_string_value(json_object_get(fleet, "name"));
    r->region = json_string_value(json_object_get(fleet, "region"));
    json_t *res = json_object_get(fleet, "resources");
    r->resources = json_is_object(res) ? json_deep_copy(res) : json_object();
    r->plan = json_array();
    r->findings = json_array();
    r->repaired = json_array();
}

int fleet_setup_open(struct fleet_run *r, struct job_ctx *ctx, const json_t *payload, int mode)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->mode = (enum fleet_mode)mode;
    const char *name = json_string_value(json_object_get(payload, "fleet"));
    json_t *fleet = 0;
    int rc = name ? store_fleet_get(name, &fleet) : FW_EINVAL;
    if (rc)
        return rc;
    if ((rc = fleet_run_check_generation(ctx, payload, fleet, "fleet", name)) != 0) {
        json_decref(fleet); /* r->fleet stays NULL: nothing is written to the new fleet */
        return rc;
    }
    fleet_setup_attach(r, fleet);
    r->adopt = json_is_true(json_object_get(r->spec, "adopt"));
    return fleet_setup_client(r);
}

void fleet_setup_close(struct fleet_run *r)
{
    json_decref(r->fleet);
    json_decref(r->resources);
    json_decref(r->plan);
    json_decref(r->findings);
    json_decref(r->repaired);
    memset(r, 0, sizeof *r);
}

int fleet_setup_account(struct fleet_run *r)
{
    struct sts_caller_identity id = {0};
    if (sts_get_caller_identity(r->aws, &id, &r->err))
        return fleet_run_fail(r, 0, 0);
    snprintf(r->account, sizeof r->account, "%s", id.account ? id.account : "");
    sts_caller_identity_cleanup(&id);
    const char *known = json_string_value(json_object_get(r->fleet, "accountId"));
    if (r->mode == FLEET_MODE_PLAN || (known && !strcmp(known, r->account)))
        return 0;
    json_t *v = json_string(r->account);
    int rc = store_fleet_set(r->name, "accountId", v);
    json_decref(v);
    return rc == FW_ENOTFOUND ? FW_ECANCELED : rc;
}

/* The id of the fleet's newest claim into cid ("" for none). The list leaves out the claims of
 * an earlier fleet of the same name (deleted, then made again; another fleetUid): they are not
 * this fleet's first claim. A page that found only those carries a cursor: go on. */
static int newest_claim(const char *fleet, char cid[CLAIM_ID_MAX])
{
    char *cursor = 0;
    int rc;
    cid[0] = 0;
    do {
        json_t *items = 0;
        char *next = 0;
        rc = store_claim_list(fleet, 0, 1, cursor, &items, &next);
        free(cursor);
        cursor = next;
        const json_t *c = json_array_get(items, 0);
        if (!rc && c)
            snprintf(cid, CLAIM_ID_MAX, "%s", claim_field_str(c, CLAIM_F_ID));
        json_decref(items);
    } while (!rc && !cid[0] && cursor);
    free(cursor);
    return rc;
}

/* The first claim certificate, through the claims module's job. A claim
 * the fleet already has (an earlier attempt enqueued it, then died) is
 * taken as the first one instead of making another. A reconcile makes it
 * when the fleet has no firstClaim record (its setup failed or was
 * canceled before this step) and it found nothing it may not repair: the
 * fleet becomes ready then (fleet_reconcile.c) with what setup would have
 * given it. A ready fleet always has the record; a claim deleted since is
 * not made again. */
static int first_claim(struct fleet_run *r)
{
    if (r->mode == FLEET_MODE_PLAN)
        return 0;
    if (r->mode == FLEET_MODE_RECONCILE &&
        (json_object_get(r->resources, "firstClaim") || r->unrepaired ||
         !fleet_run_missing(r, "firstClaim", 0)))
        return 0;
    char cid[CLAIM_ID_MAX] = "", jid[JOB_ID_MAX] = "";
    int rc = newest_claim(r->name, cid);
    if (!rc && !cid[0])
        rc = claims_enqueue_create(r->name, "generated", cid, sizeof cid, jid, sizeof jid);
    if (rc) {
        job_ctx_set_error_msg(r->ctx, JOB_FAIL_TRANSIENT, "FirstClaim",
                              "could not enqueue the first claim: %s", fw_strerror(rc));
        return rc;
    }
    return fleet_run_record(r, "firstClaim",
                            json_pack("{s:s, s:s?, s:s}", "claimId", cid, "jobId", jid[0] ? jid : 0,
                                      "origin", "created"));
}

/* SETUP: a step recorded by an earlier attempt is taken from the job. */
static int recorded(struct fleet_run *r, const char *key)
{
    char *text = 0;
    if (r->mode != FLEET_MODE_SETUP || job_ctx_step_result(r->ctx, key, &text))
        return 0;
    json_t *rec = json_loads(text, 0, 0);
    free(text);
    if (rec)
        json_object_set_new(r->resources, key, rec);
    return rec != 0;
}

int fleet_setup_steps(struct fleet_run *r)
{
    /* A fleet DELETE put in state deleting is the teardown's: checked before each step, and
     * atomically with the "creating" mark before each create (fleet_run_mark_creating). */
    int rc = fleet_run_guard(r);
    if (!rc)
        rc = fleet_setup_account(r);
    for (int i = 0; !rc && i < NSTEPS; i++) {
        if (recorded(r, s_steps[i].key))
            continue;
        if ((rc = fleet_run_guard(r)) != 0)
            break;
        if (r->mode != FLEET_MODE_PLAN &&
            (rc = job_ctx_progress(r->ctx, i, NSTEPS, s_steps[i].key)) != 0)
            break;
        if (s_steps[i].family && (rc = ratelimit_acquire(s_steps[i].family)) != 0)
            break;
        rc = s_steps[i].fn(r);
        if (!rc && job_ctx_cancel_requested(r->ctx))
            rc = FW_ECANCELED;
    }
    if (!rc && r->mode != FLEET_MODE_PLAN)
        rc = job_ctx_progress(r->ctx, NSTEPS, NSTEPS, "done");
    return rc;
}

/* Never over a fleet that DELETE put in state deleting (the teardown's now). */
static void set_state(struct fleet_run *r, const char *state, const char *error)
{
    fleet_run_set_state(r, state, error);
}

/* After a failed attempt: "failed" when no retry will follow, a cancel included (the fleet stayed
 * provisioning, which neither DELETE nor reconcile accepts). */
static void after_failure(struct fleet_run *r, int rc)
{
    if (rc == FW_ECANCELED) {
        set_state(r, "failed", "the setup job was canceled");
        return;
    }
    enum job_fail_class cls = awsctx_fail_class(&r->err, rc);
    if (rc == FW_ECONFLICT)
        cls = JOB_FAIL_CONFLICT;
    if (retry_decide(cls, job_ctx_attempt(r->ctx), job_ctx_max_attempts(r->ctx),
                     job_ctx_runs(r->ctx)) != RETRY_DEAD)
        return;
    set_state(r, "failed", r->err.message[0] ? r->err.message : fw_strerror(rc));
}

void fleet_setup_result(struct fleet_run *r, json_t *result)
{
    char *text = json_dumps(result, JSON_COMPACT);
    job_ctx_set_result(r->ctx, text ? text : "{}");
    free(text);
    json_decref(result);
}

int fleet_setup_run(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct fleet_run r;
    int rc = fleet_setup_open(&r, ctx, payload, FLEET_MODE_SETUP);
    if (rc == FW_ENOTFOUND && !r.fleet) {
        job_ctx_set_result(ctx, "{\"skipped\":\"the fleet was deleted\"}");
        return 0;
    }
    if (!rc)
        rc = fleet_setup_steps(&r);
    if (!rc) {
        set_state(&r, "ready", 0);
        fleet_setup_result(&r, json_pack("{s:s, s:s, s:O}", "fleet", r.name, "state", "ready",
                                         "resources", r.resources));
    } else if (r.fleet) {
        after_failure(&r, rc);
    }
    fleet_setup_close(&r);
    return rc;
}
