/*
 * worker.h - what a job handler sees: the job context.
 *
 * A struct job_ctx lives for one attempt on one worker thread and is only
 * valid inside the handler call. Its functions are named job_ctx_*; the
 * bare job_* names (job.h) are the job record's vocabulary (lanes, states,
 * ids, payload rules), which needs no running job. Functions that talk to Redis use the
 * worker thread's connection. Step results make a retried handler resume
 * where it stopped:
 *
 *     char *arn = NULL;
 *     if (job_ctx_step_result(ctx, "create-role", &arn) == FW_ENOTFOUND) {
 *         ... call AWS (look up before create) ...
 *         rc = job_ctx_step_done(ctx, "create-role", "{\"arn\":\"...\"}");
 *         if (rc) return rc;          // FW_ECANCELED or FW_ECONFLICT: stop
 *     }
 */
#ifndef FW_JOBS_WORKER_H
#define FW_JOBS_WORKER_H

#include "jobs/job_error.h"

struct job_ctx;
struct fw_service;

/* The job's id and type; borrowed for the call. */
const char *job_ctx_id(const struct job_ctx *ctx);
const char *job_ctx_type(const struct job_ctx *ctx);
/* This attempt's number (1-based; throttled runs not counted) and the max. */
int job_ctx_attempt(const struct job_ctx *ctx);
int job_ctx_max_attempts(const struct job_ctx *ctx);
/* Every start of the job, throttled and stalled ones included (1-based). */
int job_ctx_runs(const struct job_ctx *ctx);
struct fw_service *job_ctx_service(const struct job_ctx *ctx);

/* 1 when cancel was requested (or the lease was lost): stop and return
 * FW_ECANCELED. Checks Redis at most once per call. */
int job_ctx_cancel_requested(struct job_ctx *ctx);

/* Records a finished step and its result (a JSON value; NULL = null),
 * fenced by the job's token. 0: go on. FW_ECANCELED: recorded, but cancel
 * was requested: return FW_ECANCELED. FW_ECONFLICT: the lease was lost (the
 * job belongs to another worker now): return at once. FW_EUNAVAILABLE or
 * FW_EREDIS (Redis not reachable, or it answered an error). */
int job_ctx_step_done(struct job_ctx *ctx, const char *step, const char *result_json);
/* A step's recorded result: 0 with *out a malloc'd JSON text (free it),
 * FW_ENOTFOUND when the step has not finished, FW_EUNAVAILABLE, FW_EREDIS. */
int job_ctx_step_result(struct job_ctx *ctx, const char *step, char **out);
/* Progress shown in the API (total < 0: unknown). Same returns as step_done. */
int job_ctx_progress(struct job_ctx *ctx, int done, int total, const char *step);

/* The job's result (a JSON value, copied) when the handler returns 0. */
void job_ctx_set_result(struct job_ctx *ctx, const char *result_json);
/* Describes the failure for the retry policy and the job's error list
 * (copied; its class decides retry or dead). */
void job_ctx_set_error(struct job_ctx *ctx, const struct job_error *err);
/* The same from parts (no AWS error at hand). */
void job_ctx_set_error_msg(struct job_ctx *ctx, enum job_fail_class cls, const char *code,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
