/*
 * registry.h - job types and their handlers.
 *
 * Register every type before jobs_runtime_start() (and before routes may
 * enqueue it); the table is read-only afterwards, so lookups need no lock.
 *
 * A handler runs one attempt of one job on a worker thread. It must be
 * re-runnable: after a crash at any line the next attempt converges on the
 * same outcome (record each finished step with job_ctx_step_done and skip
 * steps whose job_ctx_step_result exists). See worker.h for the ctx API.
 */
#ifndef FW_JOBS_REGISTRY_H
#define FW_JOBS_REGISTRY_H

#include <jansson.h>

#include "job.h"

struct job_ctx;

/* One attempt. payload is borrowed for the call. Returns 0 (success; set
 * a result with job_ctx_set_result) or a negative FW_E* code; describe an AWS
 * failure with job_ctx_set_error so the retry policy sees its class. Return
 * FW_ECANCELED when a step call said the job was canceled. */
typedef int(job_handler_fn)(struct job_ctx *ctx, json_t *payload, void *ud);

struct job_type_opts {
    int lane;                /* enum job_lane (default JOB_LANE_DEFAULT when opts is NULL) */
    int max_attempts;        /* 0 = 5 */
    int unique_per_resource; /* 1: at most one active job per (type, resource) */
    const char *rate_family; /* token bucket taken before each attempt (ratelimit.h), or NULL */
    void *ud;                /* passed to the handler */
};

#define JOBS_MAX_TYPES 64
#define JOBS_DEFAULT_MAX_ATTEMPTS 5

/* Registers (or replaces) the handler of type. opts may be NULL. Not
 * thread-safe: call at start-up. 0, FW_EINVAL (bad type, table full). */
int jobs_register(const char *type, job_handler_fn *fn, const struct job_type_opts *opts);

struct job_type_entry {
    char type[JOB_TYPE_MAX];
    job_handler_fn *fn;
    struct job_type_opts opts;
    char family[32]; /* copy of opts.rate_family ("" = none) */
};

/* A piece of Redis state this process's job types need before they are useful (a recurring
 * schedule). Not run at start-up: the scheduler thread runs each until it returns 0, once per
 * turn, so a Redis that is down or slow at start-up delays it instead of holding start-up (and
 * SIGTERM) up. install returns 0 or an FW_E* code; what names it in the log. Register at
 * start-up, like the types. 0, FW_EINVAL (table full). */
typedef int(jobs_installer_fn)(void);
int jobs_register_installer(const char *what, jobs_installer_fn *install);
/* Runs, in order, the installers that have not succeeded yet (the scheduler thread only), up to
 * the first that fails (Redis is then down or silent: one command timeout per turn, not one per
 * installer); logs a failure once per installer. Returns how many are still to do. */
int jobs_installers_run(void);

/* The entry of type, or NULL when it was never registered. Borrowed. */
const struct job_type_entry *jobs_registry_find(const char *type);
/* Number of registered types and the i-th (for metrics). */
int jobs_registry_count(void);
const struct job_type_entry *jobs_registry_at(int i);

#endif
