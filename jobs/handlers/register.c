/*
 * register.c - the list of job types and their handlers, lanes, attempts
 * and uniqueness. One line per type: add yours to s_types.
 */
#include "register.h"

#include <stddef.h>

#include "claim_create.h"
#include "claim_delete.h"
#include "claim_disable.h"
#include "claim_rotate.h"
#include "fleet_reconcile.h"
#include "fleet_setup.h"
#include "fleet_teardown.h"
#include "fleet_verify.h"
#include "jobs/registry.h"
#include "service/core/err.h"
#include "template_jobs.h"
#include "service/domain/watch_schedule.h"
#include "watch_cycle.h"
#include "webhook_deliver.h"

struct handler_type {
    const char *type;
    job_handler_fn *fn;
    struct job_type_opts opts; /* lane, max_attempts, unique_per_resource, rate_family, ud */
};

static const struct handler_type s_types[] = {
    /* fleets and templates: one setup/teardown/reconcile per fleet, one job per template */
    {"fleet.setup", fleet_setup_run, {JOB_LANE_DEFAULT, 8, 1, 0, 0}},
    {"fleet.plan", fleet_plan_run, {JOB_LANE_DEFAULT, 3, 0, 0, 0}},
    {"fleet.teardown", fleet_teardown_run, {JOB_LANE_DEFAULT, 8, 1, 0, 0}},
    {"fleet.reconcile", fleet_reconcile_run, {JOB_LANE_DEFAULT, 5, 1, 0, 0}},
    /* fleet verification: one at a time per fleet; a retry first removes what the last attempt made
     */
    {"fleet.verify", fleet_verify_handler, {JOB_LANE_DEFAULT, 4, 1, 0, 0}},
    {"template.create", template_create_run, {JOB_LANE_DEFAULT, 5, 1, 0, 0}},
    {"template.update", template_update_run, {JOB_LANE_DEFAULT, 5, 0, 0, 0}},
    {"template.version", template_version_run, {JOB_LANE_DEFAULT, 5, 0, 0, 0}},
    {"template.delete", template_delete_run, {JOB_LANE_DEFAULT, 5, 1, 0, 0}},
    /* claims: disable/enable on the critical lane; creation rate-limited per certificate */
    {"claim.create", claim_create_handler, {JOB_LANE_DEFAULT, 10, 1, "iot-cert-create", 0}},
    {"claim.rotate", claim_rotate_handler, {JOB_LANE_DEFAULT, 10, 1, "iot-cert-create", 0}},
    {"claim.retire", claim_retire_handler, {JOB_LANE_DEFAULT, 10, 1, "iot-cert-update", 0}},
    {"claim.delete", claim_delete_handler, {JOB_LANE_DEFAULT, 10, 1, "iot-cert-update", 0}},
    {"claim.disable", claim_disable_handler, {JOB_LANE_CRITICAL, 10, 0, "iot-cert-update", 0}},
    {"claim.enable", claim_enable_handler, {JOB_LANE_CRITICAL, 10, 0, "iot-cert-update", 0}},
    {"claim.autorotate", claim_autorotate_handler, {JOB_LANE_DEFAULT, 3, 0, 0, 0}},
    /* misuse watch: cycles may overlap safely; webhooks retry 8 times */
    {"watch.cycle", watch_cycle_handler, {JOB_LANE_DEFAULT, 5, 1, 0, 0}},
    {"webhook.deliver", webhook_deliver_handler, {JOB_LANE_DEFAULT, 8, 1, 0, 0}},
    {0, 0, {0, 0, 0, 0, 0}},
};

const char *handlers_type_at(int i)
{
    int n = (int)(sizeof s_types / sizeof s_types[0]);
    return i >= 0 && i < n ? s_types[i].type : 0;
}

int handlers_register_all(void)
{
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++) {
        if (!s_types[i].type)
            continue;
        int rc = jobs_register(s_types[i].type, s_types[i].fn, &s_types[i].opts);
        if (rc)
            return rc;
    }
    /* The recurring schedules, installed by the scheduler thread once Redis answers (and kept in
     * Redis once created): a Redis that is down at start-up neither holds start-up up nor leaves
     * a fresh deployment without them until its next start. */
    if (jobs_register_installer("the watch.cycle schedule", watch_schedule_install) ||
        jobs_register_installer("the claims.autorotate schedule", claim_rotate_schedule_install))
        return FW_EINVAL;
    return 0;
}
