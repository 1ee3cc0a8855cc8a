/*
 * claim_create.h - the claim.create job: make a claim's certificate and
 * attach the fleet's claim policy.
 */
#ifndef FW_JOBS_HANDLERS_CLAIM_CREATE_H
#define FW_JOBS_HANDLERS_CLAIM_CREATE_H

#include <jansson.h>

struct job_ctx;

/* claim.create {"claimId"}. Registered in register.c. */
int claim_create_handler(struct job_ctx *ctx, json_t *payload, void *ud);

/* The creation of claim id as steps of the calling job (rotation makes its
 * successor this way). Step names carry the claim id, so one job can
 * create several claims. Returns 0 when the claim is active (or already
 * was), else the FW_E* the handler returns (the job's error is set; when
 * no retry can help, the claim is marked failed). */
int claim_create_steps(struct job_ctx *ctx, const char *id);

#endif
