/*
 * fleet_verify.h - the fleet.verify job (see fleet_verify.c, verify.h).
 */
#ifndef FW_JOBS_HANDLERS_FLEET_VERIFY_H
#define FW_JOBS_HANDLERS_FLEET_VERIFY_H

#include <jansson.h>

struct job_ctx;

/* fleet.verify {"fleet", "uid", "parameters"?, "claimId"?, "scheduled"?}. */
int fleet_verify_handler(struct job_ctx *ctx, json_t *payload, void *ud);

#endif
