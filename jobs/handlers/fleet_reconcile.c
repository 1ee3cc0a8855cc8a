/*
 * fleet_reconcile.c - fleet.plan (what setup would do, read-only) and
 * fleet.reconcile (compare AWS with the fleet's desired state and repair).
 *
 * Both run the setup steps (fleet_setup.c) in another mode. A plan needs
 * no fleet record: the spec travels in the payload, so a dry run on a
 * fresh account and on a set-up one answer the same way setup would act.
 * Reconcile repairs only what the fleet created (record origin "created").
 * A shared resource has no one desired state: the token exchange policy
 * lists each fleet's artifact buckets, the thing policy names each fleet's
 * role alias, the alias has each fleet's credential duration. Rewriting one
 * for this fleet would break the others (and the next reconcile of another
 * fleet would flip it back), so a difference in a resource the fleet did
 * not create is listed with notRepaired and left as it is.
 *
 * After the steps, the claim policy's targets that no claim record holds
 * (a Redis snapshot restored after they were made) are listed, and with
 * deactivateUnknownClaimCertificates deactivated (fleet_claimcerts.h).
 *
 * A fleet that failed (or whose setup was canceled before it ran) and that
 * a reconcile leaves with nothing to repair becomes ready; with findings
 * it may not repair it is failed, the error naming the first.
 */
#include "fleet_reconcile.h"

#include <string.h>

#include "fleet_claimcerts.h"
#include "fleet_run.h"
#include "fleet_setup.h"
#include "service/core/err.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"

int fleet_plan_run(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct fleet_run r;
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    r.mode = FLEET_MODE_PLAN;
    const json_t *spec = json_object_get(payload, "spec");
    if (!json_is_object(spec) || !json_is_string(json_object_get(spec, "name")))
        return FW_EINVAL;
    fleet_setup_attach(&r, json_pack("{s:O, s:O, s:O, s:O?}", "name", json_object_get(spec, "name"),
                                     "region", json_object_get(spec, "region"), "spec", spec,
                                     "assumeRole", json_object_get(spec, "assumeRole")));
    int rc = fleet_setup_client(&r);
    if (!rc)
        rc = fleet_setup_steps(&r);
    if (!rc)
        fleet_setup_result(&r, json_pack("{s:s, s:s, s:O}", "fleet", r.name, "accountId", r.account,
                                         "resources", r.plan));
    fleet_setup_close(&r);
    return rc;
}

static int store_last(struct fleet_run *r)
{
    char at[32];
    store_format_time(store_now_ms(), at);
    json_t *o = json_pack("{s:{s:s, s:O, s:O}}", "lastReconcile", "at", at, "findings", r->findings,
                          "repaired", r->repaired);
    int rc = store_fleet_update(r->name, o, 0, 0);
    json_decref(o);
    return rc == FW_ENOTFOUND ? 0 : rc;
}

/* The fleet's state after a reconcile that ran every step; a ready fleet keeps its state (what
 * is left is in lastReconcile). */
static int settle_state(struct fleet_run *r)
{
    const char *st = json_string_value(json_object_get(r->fleet, "state"));
    if (!st || (strcmp(st, "failed") && strcmp(st, "provisioning")))
        return 0;
    int rc;
    if (!r->unrepaired) {
        rc = fleet_run_set_state(r, "ready", 0);
    } else {
        const json_t *f = 0;
        for (size_t i = 0; !f && i < json_array_size(r->findings); i++)
            if (json_object_get(json_array_get(r->findings, i), "notRepaired"))
                f = json_array_get(r->findings, i);
        const char *key = json_string_value(json_object_get(f, "resource")),
                   *name = json_string_value(json_object_get(f, "name")),
                   *diff = json_string_value(json_object_get(f, "difference"));
        char why[900];
        snprintf(why, sizeof why,
                 "reconcile: %s %s differs (%s) and is not this fleet's to change; see "
                 "lastReconcile",
                 key ? key : "?", name ? name : "?", diff ? diff : "?");
        rc = fleet_run_set_state(r, "failed", why);
    }
    return rc == FW_ECANCELED ? 0 : rc; /* deleting or gone: the teardown's now */
}

int fleet_reconcile_run(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct fleet_run r;
    long long started_ms = store_now_ms();
    int rc = fleet_setup_open(&r, ctx, payload, FLEET_MODE_RECONCILE);
    if (rc == FW_ENOTFOUND && !r.fleet) {
        fleet_setup_close(&r);
        return FW_ENOTFOUND;
    }
    if (!rc)
        rc = fleet_setup_steps(&r);
    if (!rc)
        rc = fleet_claimcerts_check(
            &r, json_is_true(json_object_get(payload, "deactivateUnknownClaimCertificates")),
            started_ms);
    if (!rc)
        rc = store_last(&r);
    if (!rc)
        rc = settle_state(&r);
    if (!rc)
        fleet_setup_result(&r, json_pack("{s:s, s:O, s:O}", "fleet", r.name, "findings", r.findings,
                                         "repaired", r.repaired));
    fleet_setup_close(&r);
    return rc;
}
