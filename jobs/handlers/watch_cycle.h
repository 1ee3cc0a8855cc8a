/*
 * watch_cycle.h - the watch.cycle job: one misuse-watch pass over every
 * fleet (see watch_collect.h and watch_eval.h), recurring through the
 * scheduler and on demand (POST /v1/watch/run).
 *
 * Configuration: FLEETWARDEN_WATCH_INTERVAL seconds between scheduled
 * cycles (default 300; 0 = no schedule, cycles only on demand; 60..86400).
 */
#ifndef FW_JOBS_HANDLERS_WATCH_CYCLE_H
#define FW_JOBS_HANDLERS_WATCH_CYCLE_H

#include <jansson.h>

#include "jobs/registry.h"

#define WATCH_SCHEDULE_NAME "watch.cycle"
#define WATCH_RESOURCE "watch"

struct metrics;

/* job_handler_fn of "watch.cycle" (payload {} or {"reason": "..."}). */
int watch_cycle_handler(struct job_ctx *ctx, json_t *payload, void *ud);

/* FLEETWARDEN_WATCH_INTERVAL (read once): seconds, 0 = off. */
long watch_interval_s(void);

/* Creates or updates the recurring schedule (or leaves it when the
 * interval is 0). Uses the calling thread's Redis connection. 0, or the
 * jobs_schedule_upsert error. */
int watch_schedule_install(void);

/* Registers the watch counters (cycles, CloudWatch calls, incidents
 * opened by rule, actions taken) with the /metrics collector. Call before
 * threads start. NULL m is a no-op. */
void watch_metrics_register(struct metrics *m);

#endif
