/*
 * fleet_run.h - one run of a fleet handler over the guide's steps, shared
 * by fleet.setup, fleet.plan and fleet.reconcile (fleet_setup.c) and the
 * step modules (fleet_iam.c, fleet_iot.c). Internal to jobs/handlers.
 *
 * Every step looks before it creates and then, by mode:
 *   PLAN       reads only and appends {resource, name, action
 *              (create|exists-matches|exists-differs|missing), difference}
 *              to run->plan;
 *   SETUP      creates what is missing; accepts what matches; stops with a
 *              CONFLICT job error on a difference unless adopt, then updates;
 *   RECONCILE  creates what is missing and updates what differs when this
 *              fleet created it (record origin "created"); a resource it did
 *              not create (found "existing", "adopted" or with no record) is
 *              shared or another's: its difference is listed in
 *              run->findings with "notRepaired" (why) and left as it is, as
 *              two fleets may want different documents in it (artifact
 *              buckets, role alias name, credential duration). Every drift
 *              is listed in run->findings, every repair in run->repaired.
 * A resource's record (resources.KEY in the fleet) has name, arn, state,
 * origin ("created" by this fleet, "adopted" = existed and was updated,
 * "existing" = existed and matched, so possibly shared) and error.
 */
#ifndef FW_JOBS_HANDLERS_FLEET_RUN_H
#define FW_JOBS_HANDLERS_FLEET_RUN_H

#include <jansson.h>

#include "aws/awserr.h"

struct aws_client;
struct job_ctx;

enum fleet_mode { FLEET_MODE_PLAN = 0, FLEET_MODE_SETUP, FLEET_MODE_RECONCILE };

struct fleet_run {
    struct job_ctx *ctx;
    struct aws_client *aws; /* borrowed from awsctx (this thread) */
    enum fleet_mode mode;
    const char *name;   /* the fleet; borrowed from fleet */
    json_t *fleet;      /* the fleet document (owned) */
    const json_t *spec; /* fleet.spec (borrowed from fleet) */
    json_t *resources;  /* the records as this run knows them (owned) */
    const char *region;
    char account[16];
    int adopt;
    int unrepaired;   /* RECONCILE: findings left as they are (notRepaired) */
    json_t *plan;     /* PLAN: array of entries */
    json_t *findings; /* RECONCILE: drift found */
    json_t *repaired; /* RECONCILE: what was repaired */
    struct aws_api_error err;
};

/* spec.PART.KEY as a string, or NULL. */
const char *fleet_run_spec_str(const struct fleet_run *r, const char *part, const char *key);
/* resources.KEY.FIELD as a string, or NULL. */
const char *fleet_run_res_str(const struct fleet_run *r, const char *key, const char *field);
/* The origin a found, matching resource gets: "created" when this fleet's
 * record says it created it (a crash between create and record), else
 * "existing". */
const char *fleet_run_found_origin(const struct fleet_run *r, const char *key);

/* SETUP, RECONCILE: writes {name, state "creating", origin "created"} before
 * the create call so a crash right after it still knows who made the
 * resource. The write is a compare-and-set on the fleet's version that
 * refuses a fleet in state deleting (FleetDeleting, see fleet_run_guard):
 * a create never starts after DELETE /v1/fleets/{name} was accepted. */
int fleet_run_mark_creating(struct fleet_run *r, const char *key, const char *name);
/* Records a resource (takes rec; adds state "ready" and error null when
 * absent): run->resources, the fleet record (not in PLAN) and the job's
 * step result (SETUP). 0 or the job_ctx_step_done code to return. */
int fleet_run_record(struct fleet_run *r, const char *key, json_t *rec);

/* A missing resource: 1 = create it now; 0 = PLAN, recorded as "create". */
int fleet_run_missing(struct fleet_run *r, const char *key, const char *name);
/* A resource that matches: PLAN notes "exists-matches". */
void fleet_run_matches(struct fleet_run *r, const char *key, const char *name);
/* A resource that differs (diff says how): 1 = update it (adopt, or
 * reconcile of a resource this fleet created); 0 = leave it (PLAN, recorded;
 * RECONCILE of a resource this fleet did not create, listed as a finding
 * with notRepaired); FW_ECONFLICT with the job error set (SETUP without
 * adopt). */
int fleet_run_differs(struct fleet_run *r, const char *key, const char *name, const char *diff);
/* A resource that cannot be made (e.g. a thing group that must exist):
 * PLAN records "missing" with why and returns 0; else sets a CONFLICT job
 * error and returns FW_ECONFLICT. */
int fleet_run_blocked(struct fleet_run *r, const char *key, const char *name, const char *why);

/* SETUP, RECONCILE: 0 when the fleet is not being deleted; else sets the job
 * error FleetDeleting (validation: dead at once) and returns FW_EINVAL, so
 * the run stops before its next AWS call: a teardown is removing what it
 * would make (a resource made now would stay at AWS, owned by no fleet).
 * FW_ECANCELED when the fleet is gone; a store error as it is. */
int fleet_run_guard(struct fleet_run *r);
/* Sets the fleet's state and error (error NULL = null) unless the fleet is
 * being deleted (a compare-and-set on its version): 0, FW_ECANCELED when
 * it is deleting or gone (nothing written), or a store error. */
int fleet_run_set_state(struct fleet_run *r, const char *state, const char *error);

/* 0 when the job (payload "uid") was made for record doc (generation.h);
 * else sets the job error StaleJob (validation: dead at once) naming what
 * ("fleet", "template") and name, and returns FW_EINVAL. The caller then
 * writes nothing to the record: it belongs to another generation. */
int fleet_run_check_generation(struct job_ctx *ctx, const json_t *payload, const json_t *doc,
                               const char *what, const char *name);

/* A resource an administrator manages (iamRoles "precreated"): PLAN
 * notes action "unmanaged" with why; else it is recorded with origin
 * "precreated" (so teardown keeps it). 0 or the record's error. */
int fleet_run_unmanaged(struct fleet_run *r, const char *key, const char *name, const char *why);
/* 1 when the fleet's IAM roles are pre-created (spec.iamRoles). */
int fleet_run_precreated(const struct fleet_run *r);

/* Fails the run with run->err (job error, resource record error).
 * Returns the FW_E* code to return from the handler. */
int fleet_run_fail(struct fleet_run *r, const char *key, const char *name);

/* Adds "changedAt" (epoch ms) and "changedBy" (this job) to rec: this run
 * created or changed the resource (IAM roles and their attachments, whose
 * changes AWS IoT sees only after a while: fleet_settle.h). */
void fleet_run_changed(const struct fleet_run *r, json_t *rec);

/* fleet_run_fail for a call that uses an IAM role: when the refusal is one
 * IAM's eventual consistency explains and this job changed one of the
 * records keys (NULL-terminated) less than FLEETWARDEN_IAM_SETTLE_S ago,
 * the attempt fails as settling instead (retried later, no attempt used up). */
int fleet_run_fail_iam(struct fleet_run *r, const char *key, const char *name,
                       const char *const *keys);

#endif
