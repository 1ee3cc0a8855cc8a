/*
 * fleet_settle.h - waiting for AWS to catch up with a change the job made.
 *
 * IAM is eventually consistent: for a while after a role is created, its
 * trust policy or MaxSessionDuration changed or a policy attached to it,
 * AWS IoT may refuse to use it (CreateRoleAlias, CreateProvisioningTemplate,
 * UpdateProvisioningTemplate answer InvalidRequestException "... cannot be
 * assumed ..." or an access error). AWS IoT's DeletePolicy can be refused
 * (DeleteConflictException) "up to five minutes after a policy is
 * detached". Both are waited out through the job: the attempt fails with
 * class AWS_ERRC_SETTLING (retried with backoff, no attempt used up) until
 * the bounded time after the change the job recorded has passed.
 *
 * Configuration (read once): FLEETWARDEN_IAM_SETTLE_S (default 120,
 * 0..900) and FLEETWARDEN_POLICY_DELETE_WAIT_S (default 330, 0..3600).
 */
#ifndef FW_JOBS_HANDLERS_FLEET_SETTLE_H
#define FW_JOBS_HANDLERS_FLEET_SETTLE_H

#include "aws/awserr.h"

/* Seconds after this job changed a role during which IoT's refusals are retried. */
long fleet_settle_iam_s(void);
/* Seconds after this job detached a policy during which DeleteConflict is retried. */
long fleet_settle_policy_delete_s(void);

/* 1 when err is AWS IoT refusing a role it cannot (yet) assume: an access
 * error, or InvalidRequestException naming a role. */
int fleet_settle_iam_refusal(const struct aws_api_error *err);

/* 1 when since_ms (epoch ms, > 0) is less than wait_s before now_ms. */
int fleet_settle_within(long long since_ms, long wait_s, long long now_ms);

/* Turns err into a settling failure: class AWS_ERRC_SETTLING, retryable,
 * the message saying what the job waits for. */
void fleet_settle_mark(struct aws_api_error *err, const char *what);

#endif
