/*
 * watch_eval.h - the second half of a watch cycle: run each fleet's rules
 * over the data read by watch_collect, open or update incidents, take the
 * fleet's action through the claims engineer's critical-lane jobs, queue
 * the webhook, and write back registrations, totals and moving averages.
 */
#ifndef FW_JOBS_HANDLERS_WATCH_EVAL_H
#define FW_JOBS_HANDLERS_WATCH_EVAL_H

#include <jansson.h>

#include "service/domain/store_watch.h"
#include "watch_collect.h"

#define WATCH_RESULT_LIST_MAX 100 /* entries kept per list in the cycle's result */

struct watch_eval_out {
    json_t *opened;  /* incident ids opened by this cycle (new array, the first 100) */
    json_t *updated; /* open incidents seen again (the first 100) */
    json_t *actions; /* {"incidentId","claimId","type","job"|"skipped"} (the first 100) */
    size_t nopened, nupdated, nactions; /* the full counts */
};

/* Evaluates every claim and template of the plan; job_id names the cycle
 * (recorded in findings; a retried cycle does not count a claim's moving
 * average twice). out's arrays are new references. 0 or a store error
 * (the cycle is retried; incidents whose action is still pending get it
 * on the retry). */
int watch_eval_run(struct watch_plan *p, const char *job_id, long long now_ms,
                   struct watch_eval_out *out);

/* Opens (or updates) the incident of (fleet, subject, rule) for an alert
 * that takes no claim action - a failed scheduled fleet verification - and,
 * when it opens, queues the fleet's webhook (settings.watch.webhook): the
 * path a watch breach takes. finding is borrowed. *created 1 when opened now.
 * 0 or a store error. */
int watch_eval_alert(const char *fleet, const char *subject, const char *rule,
                     const json_t *finding, long long now_ms, char id[INCIDENT_ID_MAX],
                     int *created);

#endif
