/*
 * fleet_verify.c - the fleet.verify job: a verification (verify.h) with
 * the job's steps as its journal, the report as the job's result and the
 * fleet's lastVerify, and for a scheduled run that fails, an incident
 * with the fleet's webhook, as a watch breach gets.
 *
 * Payload: {"fleet", "uid", "parameters"?, "claimId"?, "scheduled"?}.
 * A verification that finds a broken setup succeeds as a job (its result
 * says "failed" and why); the job itself fails only when the fleet is not
 * ready (dead at once) or AWS did not answer (retried; the next attempt
 * removes what this one made first).
 */
#include "fleet_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsctx.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/service.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"
#include "verify.h"
#include "watch_eval.h"

static int j_get(void *ud, const char *key, char **out)
{
    return job_ctx_step_result(ud, key, out);
}

static int j_put(void *ud, const char *key, const char *json)
{
    return job_ctx_step_done(ud, key, json);
}

static int j_canceled(void *ud)
{
    return job_ctx_cancel_requested(ud);
}

static void j_progress(void *ud, int done, int total, const char *step)
{
    job_ctx_progress(ud, done, total, step);
}

/* lastVerify on the fleet (a fleet deleted meanwhile is left alone). */
static void record_last(const char *fleet, const json_t *report, const char *job)
{
    char at[32];
    store_format_time(store_now_ms(), at);
    json_t *last = verify_last(report, job, at);
    store_fleet_set(fleet, "lastVerify", last);
    json_decref(last);
}

/* A scheduled verification that failed opens (or updates) the fleet's
 * verification incident and fires its webhook once. */
static void alert(const char *fleet, const json_t *report, const char *job)
{
    char subject[200], id[INCIDENT_ID_MAX];
    snprintf(subject, sizeof subject, "fleet:%s", fleet);
    json_t *finding = verify_last(report, job, "");
    json_object_del(finding, "at");
    json_object_set_new(finding, "rule", json_string("verification"));
    json_object_set(finding, "steps", json_object_get(report, "steps"));
    int created = 0;
    if (watch_eval_alert(fleet, subject, "verification", finding, store_now_ms(), id, &created))
        log_msg(LOG_WARN, "a failed scheduled verification could not open its incident");
    json_decref(finding);
}

static void finished(struct job_ctx *ctx, const char *fleet, json_t *report, int scheduled)
{
    record_last(fleet, report, job_ctx_id(ctx));
    int failed = strcmp(json_string_value(json_object_get(report, "result")), "passed") != 0;
    if (failed && scheduled)
        alert(fleet, report, job_ctx_id(ctx));
    log_event(failed ? LOG_WARN : LOG_INFO, "fleet verification finished", LOG_STR("fleet", fleet),
              LOG_STR("result", failed ? "failed" : "passed"));
    char *text = json_dumps(report, JSON_COMPACT);
    job_ctx_set_result(ctx, text ? text : "{}");
    free(text);
}

static int failed_job(struct job_ctx *ctx, int rc, const struct aws_api_error *err)
{
    if (rc == FW_ECANCELED || (rc == FW_ECONFLICT && !err->code[0]))
        return rc; /* canceled, or the lease was lost: nothing to describe */
    if (!strcmp(err->code, "FleetNotReady") || !strcmp(err->code, "StaleJob") ||
        !strcmp(err->code, "EndpointRefused")) {
        job_ctx_set_error_msg(ctx, JOB_FAIL_VALIDATION, err->code, "%s", err->message);
        return rc;
    }
    if (err->code[0])
        return awsctx_fail(ctx, err);
    job_ctx_set_error_msg(ctx, JOB_FAIL_TRANSIENT, "VerifyFailed", "%s", fw_strerror(rc));
    return rc;
}

int fleet_verify_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    const char *fleet = json_string_value(json_object_get(payload, "fleet"));
    if (!fleet) {
        job_ctx_set_error_msg(ctx, JOB_FAIL_VALIDATION, "BadPayload", "the payload names no fleet");
        return FW_EINVAL;
    }
    struct verify_settings st;
    verify_settings_load(&job_ctx_service(ctx)->cfg, &st);
    struct verify_request rq = {fleet,
                                json_string_value(json_object_get(payload, "uid")),
                                json_object_get(payload, "parameters"),
                                json_string_value(json_object_get(payload, "claimId")),
                                job_ctx_id(ctx),
                                job_ctx_attempt(ctx) >= job_ctx_max_attempts(ctx),
                                &st};
    struct verify_journal j = {j_get, j_put, j_canceled, j_progress, ctx};
    json_t *report = 0;
    struct aws_api_error err;
    int rc = verify_run(&rq, &j, &report, &err);
    if (!rc)
        finished(ctx, fleet, report, json_is_true(json_object_get(payload, "scheduled")));
    json_decref(report);
    return rc ? failed_job(ctx, rc, &err) : 0;
}
