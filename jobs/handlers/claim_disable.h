/*
 * claim_disable.h - claim.disable and claim.enable, both on the critical
 * lane so that switching off a misused claim overtakes queued bulk work.
 */
#ifndef FW_JOBS_HANDLERS_CLAIM_DISABLE_H
#define FW_JOBS_HANDLERS_CLAIM_DISABLE_H

#include <jansson.h>

struct job_ctx;

/* claim.disable {"claimId", "reason", "revoke", "replace"}. */
int claim_disable_handler(struct job_ctx *ctx, json_t *payload, void *ud);
/* claim.enable {"claimId"}. */
int claim_enable_handler(struct job_ctx *ctx, json_t *payload, void *ud);

#endif
