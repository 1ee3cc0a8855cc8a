/*
 * claim_delete.h - claim.delete: detach the claim policy, deactivate and
 * delete the certificate, erase any key, state deleted.
 */
#ifndef FW_JOBS_HANDLERS_CLAIM_DELETE_H
#define FW_JOBS_HANDLERS_CLAIM_DELETE_H

#include <jansson.h>

struct job_ctx;

/* claim.delete {"claimId"}. */
int claim_delete_handler(struct job_ctx *ctx, json_t *payload, void *ud);

#endif
