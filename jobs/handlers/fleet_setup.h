/*
 * fleet_setup.h - the fleet.setup job handler (job_handler_fn,
 * jobs/registry.h) and the step runner fleet.plan and fleet.reconcile
 * share (fleet_reconcile.h).
 *
 * Payload {"fleet": NAME}. Result {"fleet", "state", "resources"}.
 */
#ifndef FW_JOBS_HANDLERS_FLEET_SETUP_H
#define FW_JOBS_HANDLERS_FLEET_SETUP_H

#include <jansson.h>

struct job_ctx;

int fleet_setup_run(struct job_ctx *ctx, json_t *payload, void *ud);

/* Shared with fleet_teardown.c: loads the fleet named in payload into r
 * (document, spec, region, AWS client). 0; FW_ENOTFOUND when the fleet is
 * gone; FW_EINVAL (job error StaleJob, r->fleet NULL) when the job was made
 * for an earlier fleet of the same name (generation.h); an AWS failure (job
 * error set). */
struct fleet_run;
int fleet_setup_open(struct fleet_run *r, struct job_ctx *ctx, const json_t *payload, int mode);
void fleet_setup_close(struct fleet_run *r);
/* Reads the account id (sts GetCallerIdentity) into r->account. */
int fleet_setup_account(struct fleet_run *r);
/* Takes fleet (a document, owned from now on) as the run's fleet. */
void fleet_setup_attach(struct fleet_run *r, json_t *fleet);
/* The AWS client for the fleet's region and assumed role (job error set on failure). */
int fleet_setup_client(struct fleet_run *r);
/* The account id, then every step in order for r->mode. */
int fleet_setup_steps(struct fleet_run *r);
/* job_ctx_set_result with result (stolen). */
void fleet_setup_result(struct fleet_run *r, json_t *result);

#endif
