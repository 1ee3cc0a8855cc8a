/*
 * claim_common.h - what the claim.* handlers share: loading a claim with
 * its fleet and AWS client, failing a job with a clear error, and the
 * fleet's rotation settings.
 */
#ifndef FW_JOBS_HANDLERS_CLAIM_COMMON_H
#define FW_JOBS_HANDLERS_CLAIM_COMMON_H

#include <jansson.h>

#include "aws/awserr.h"
#include "service/domain/store_claim.h"

struct aws_client;
struct job_ctx;

/* A claim being worked on. Owned fields are released by claim_job_cleanup. */
struct claim_job {
    char id[CLAIM_ID_MAX];
    json_t *claim;          /* record fields (store_claim_get); owned */
    json_t *fleet;          /* fleet document; owned; NULL when the fleet is gone */
    struct aws_client *aws; /* the worker thread's client; borrowed (awsctx) */
    const char *policy;     /* claim policy name, borrowed from fleet; NULL when unknown */
};

/* Loads claim id, its fleet and the AWS client for the fleet's region and
 * role. With need_aws 0 only the records are loaded. On failure the job's
 * error is set and the FW_E* to return is returned (a missing claim or
 * fleet is a validation error: no retry). */
int claim_job_load(struct job_ctx *ctx, const char *id, int need_aws, struct claim_job *cj);
/* Reloads the claim record only. */
int claim_job_reload(struct claim_job *cj);
void claim_job_cleanup(struct claim_job *cj);

/* A record field or NULL when absent or empty; borrowed from cj->claim. */
const char *claim_field(const struct claim_job *cj, enum claim_field f);
/* The record's state (enum claim_state), -1 when unknown. */
int claim_state(const struct claim_job *cj);

/* Fleet settings.rotation values with defaults: periodDays (0 = no
 * automatic rotation; fractions allowed), graceSeconds (3600),
 * retentionSeconds (604800). */
double claim_rotation_period_s(const json_t *fleet);
long claim_rotation_grace_s(const json_t *fleet);
long claim_rotation_retention_s(const json_t *fleet);

/* Sets the job's error from err and returns the FW_E* code. */
int claim_fail_aws(struct job_ctx *ctx, const struct aws_api_error *err);
/* Sets a validation error (no retry) with code and message; returns FW_EINVAL. */
int claim_fail_msg(struct job_ctx *ctx, const char *code, const char *msg);

/* "{"claimId":...,"state":...,"certificateId":...}" as the job result. */
void claim_set_result(struct job_ctx *ctx, const struct claim_job *cj);

/* Milliseconds since the epoch (the store's clock). */
long long claim_now_ms(void);

#endif
