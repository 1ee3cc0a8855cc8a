/*
 * awsctx.h - the AWS clients job handlers use: one per worker thread and
 * (region, assumed role), created on first use and kept.
 *
 * An aws_client is not thread-safe (aws/client.h), so each worker thread
 * owns its clients in a thread-local cache; they are freed when the thread
 * exits. With a role ARN the client signs with temporary credentials from
 * sts:AssumeRole (made by the thread's plain client of the same region,
 * optional external id), refreshed five minutes before they expire. This
 * is how one fleetwarden manages fleets in several AWS accounts.
 *
 * Only jobs/handlers/ use this (service/ and routes/ never call aws/).
 */
#ifndef FW_JOBS_HANDLERS_AWSCTX_H
#define FW_JOBS_HANDLERS_AWSCTX_H

#include "aws/awserr.h"
#include "jobs/job_error.h"

struct aws_client;
struct job_ctx;

#define AWSCTX_REGION_MAX 32
#define AWSCTX_ARN_MAX 2048
#define AWSCTX_EXTERNAL_ID_MAX 1224

/*
 * The calling thread's client for region (NULL = AWS_REGION, else
 * us-east-1) acting as role_arn (NULL or "" = the service's own
 * credentials) with external_id (NULL or "" = none). Borrowed: valid on
 * this thread until the next awsctx_client call with another key evicts
 * it (the cache holds 8) or the thread exits; never free it.
 * Returns NULL with err filled (may be NULL) when the client cannot be
 * built or the role cannot be assumed (err->cls then tells whether a
 * retry may help: AccessDenied is AWS_ERRC_ACCESS).
 */
struct aws_client *awsctx_client(const char *region, const char *role_arn, const char *external_id,
                                 struct aws_api_error *err);

/* Frees the calling thread's cached clients now (tests; threads free
 * theirs when they exit). */
void awsctx_thread_cleanup(void);

/*
 * Describes err on the job (job_ctx_set_error: the class decides retry or
 * dead) and returns the FW_E* code the handler should return
 * (awserr_to_fw, never 0 even for an empty err).
 */
int awsctx_fail(struct job_ctx *ctx, const struct aws_api_error *err);

/* The job runtime's failure class for an AWS error class (the same meaning, by name). */
enum job_fail_class awsctx_job_class(enum aws_err_class cls);
/* The class a failed attempt will be judged by: err's when it has one, else the one the
 * handler's return code rc implies (retry_class_of). */
enum job_fail_class awsctx_fail_class(const struct aws_api_error *err, int rc);
/* err as the job runtime sees it (an answer-less ConnectionError is "unreachable"). */
void awsctx_job_error(const struct aws_api_error *err, struct job_error *out);

#endif
