/*
 * fleet_reconcile.h - the fleet.plan and fleet.reconcile job handlers.
 *
 * fleet.plan: payload {"spec": SPEC} (fleet_spec.h; the fleet need not
 * exist); reads only; result {"fleet", "accountId", "resources":
 * [{resource, name, action (create|exists-matches|exists-differs|missing),
 * difference}]}.
 * fleet.reconcile: payload {"fleet": NAME, "deactivateUnknownClaimCertificates"
 * (optional, true)}; reads back what AWS holds, repairs every difference it
 * may, lists the claim policy's certificates no claim holds
 * (fleet_claimcerts.h); result {"fleet", "findings", "repaired"},
 * also stored as the fleet's lastReconcile {at, findings, repaired}.
 */
#ifndef FW_JOBS_HANDLERS_FLEET_RECONCILE_H
#define FW_JOBS_HANDLERS_FLEET_RECONCILE_H

#include <jansson.h>

struct job_ctx;

int fleet_plan_run(struct job_ctx *ctx, json_t *payload, void *ud);
int fleet_reconcile_run(struct job_ctx *ctx, json_t *payload, void *ud);

#endif
