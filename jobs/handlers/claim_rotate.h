/*
 * claim_rotate.h - rotation: claim.rotate (successor first, then the old
 * claim "rotating" until its grace period ends), claim.retire (end of the
 * grace period: INACTIVE, then claim.delete after the retention period)
 * and claim.autorotate (the recurring scan that rotates claims of fleets
 * with settings.rotation.periodDays).
 */
#ifndef FW_JOBS_HANDLERS_CLAIM_ROTATE_H
#define FW_JOBS_HANDLERS_CLAIM_ROTATE_H

#include <jansson.h>

struct job_ctx;

/* claim.rotate {"claimId", "successorId", "graceSeconds" (-1 = fleet's)}. */
int claim_rotate_handler(struct job_ctx *ctx, json_t *payload, void *ud);
/* claim.retire {"claimId"}. */
int claim_retire_handler(struct job_ctx *ctx, json_t *payload, void *ud);
/* claim.autorotate {}: enqueues claim.rotate (bulk lane) for every claim
 * whose automatic rotation is due, and fails the claims left creating
 * without a creation job (service/domain/claims_stuck.h). Result {"rotationsEnqueued",
 * "stuckClaimsFailed"}. */
int claim_autorotate_handler(struct job_ctx *ctx, json_t *payload, void *ud);

/*
 * Called when a claim becomes active: when its fleet rotates every P
 * (settings.rotation.periodDays), records its rotation due time and makes
 * sure the recurring scan exists (every FLEETWARDEN_ROTATION_SCAN_S
 * seconds, default 60). Due times are spread: a first-generation claim is
 * due at a uniformly random point in [P/2, P) after activation, so claims
 * made together do not all rotate at once; a successor is due P after its
 * activation, which keeps that spread for later generations.
 */
void claim_rotate_schedule_first(const char *id, const json_t *fleet, int is_successor);

/* Creates (or keeps) the recurring claim.autorotate schedule. Run by the
 * scheduler thread until it succeeds (an installer, register.c) and on
 * activation; 0, or the jobs_schedule_upsert error. */
int claim_rotate_schedule_install(void);

#endif
