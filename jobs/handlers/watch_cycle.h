/*
 * watch_cycle.h - the watch.cycle job: one misuse-watch pass over every
 * fleet (see watch_collect.h and watch_eval.h), recurring through the
 * scheduler and on demand (POST /v1/watch/run).
 *
 * The schedule (FLEETWARDEN_WATCH_INTERVAL) is service/domain/watch_schedule.h.
 */
#ifndef FW_JOBS_HANDLERS_WATCH_CYCLE_H
#define FW_JOBS_HANDLERS_WATCH_CYCLE_H

#include <jansson.h>

#include "jobs/registry.h"

struct metrics;

/* job_handler_fn of "watch.cycle" (payload {} or {"reason": "..."}). */
int watch_cycle_handler(struct job_ctx *ctx, json_t *payload, void *ud);

/* Registers the watch counters (cycles, CloudWatch calls, incidents
 * opened by rule, actions taken) with the /metrics collector. Call before
 * threads start. NULL m is a no-op. */
void watch_metrics_register(struct metrics *m);

#endif
