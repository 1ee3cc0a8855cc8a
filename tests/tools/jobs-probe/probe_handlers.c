/*
 * probe_handlers.c - job handlers used by the integration tests.
 *
 *   test.noop         succeeds at once
 *   test.sleep        {"ms":N} sleeps N ms in 20 ms slices, honouring cancel
 *   test.steps        {"n":N,"ms":M} N steps of M ms; each finished step is
 *                     appended as "jobid:step-i" to the Redis list
 *                     P test:effects, then recorded with job_ctx_step_done, so a
 *                     retry after kill -9 skips finished steps
 *   test.fail         {"class":"throttling","times":K,"code":"X","ms":M} fails K
 *                     runs with that class, then succeeds; each failing run
 *                     first sleeps M ms without looking at cancel (a call
 *                     that hangs, then fails)
 *   test.ratelimited  rate family "test"; appends its start time (ms) to
 *                     P test:rl and its job id to P test:rlids
 *   test.unique       like test.sleep, unique per resource
 *   test.record       appends its job id to P test:runs (exactly-once checks)
 *
 * Test code: it talks to Redis directly (hiredis) for its side effects.
 */
#include "probe_handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "jobs/registry.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/redis/store_conn.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rpush(const char *list, const char *value)
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    redisReply *r = redisCommand(c, "RPUSH %s%s %s", store_prefix(), list, value);
    if (!r) {
        store_conn_broken();
        return FW_EREDIS;
    }
    freeReplyObject(r);
    return 0;
}

static int h_noop(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)payload;
    (void)ud;
    job_ctx_set_result(ctx, "{\"ok\":true}");
    return 0;
}

static int h_sleep(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    long ms = (long)json_integer_value(json_object_get(payload, "ms"));
    for (long slept = 0; slept < ms; slept += 20) {
        sleep_ms(20);
        if (slept % 200 == 0 && job_ctx_cancel_requested(ctx))
            return FW_ECANCELED;
    }
    job_ctx_set_result(ctx, "{\"slept\":true}");
    return 0;
}

static int one_step(struct job_ctx *ctx, int i, long ms)
{
    char name[32], effect[200], result[64];
    snprintf(name, sizeof name, "step-%d", i);
    char *prev = NULL;
    int rc = job_ctx_step_result(ctx, name, &prev);
    free(prev);
    if (rc == 0)
        return 0; /* finished by an earlier attempt: skip */
    sleep_ms(ms);
    snprintf(effect, sizeof effect, "%s:%s", job_ctx_id(ctx), name);
    rc = rpush("test:effects", effect);
    if (rc)
        return rc;
    snprintf(result, sizeof result, "{\"i\":%d}", i);
    return job_ctx_step_done(ctx, name, result);
}

static int h_steps(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    int n = (int)json_integer_value(json_object_get(payload, "n"));
    long ms = (long)json_integer_value(json_object_get(payload, "ms"));
    for (int i = 1; i <= n; i++) {
        int rc = one_step(ctx, i, ms);
        if (rc)
            return rc;
        job_ctx_progress(ctx, i, n, "step");
    }
    job_ctx_set_result(ctx, "{\"steps\":\"done\"}");
    return 0;
}

static enum job_fail_class class_of(const char *s)
{
    static const char *const names[] = {"none",        "throttling", "transient", "access",
                                        "validation",  "notfound",   "conflict",  "limit",
                                        "credentials", "other"};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return (enum job_fail_class)i;
    return JOB_FAIL_TRANSIENT;
}

static int h_fail(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    int times = (int)json_integer_value(json_object_get(payload, "times"));
    const char *cls = json_string_value(json_object_get(payload, "class"));
    const char *code = json_string_value(json_object_get(payload, "code"));
    if (job_ctx_runs(ctx) > times) {
        job_ctx_set_result(ctx, "{\"recovered\":true}");
        return 0;
    }
    sleep_ms((long)json_integer_value(json_object_get(payload, "ms")));
    job_ctx_set_error_msg(ctx, class_of(cls), code ? code : "TestFailure", "test failure %d of %d",
                          job_ctx_runs(ctx), times);
    return FW_EAWS;
}

static int h_ratelimited(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)payload;
    (void)ud;
    char v[32];
    snprintf(v, sizeof v, "%lld", wall_ms());
    job_ctx_set_result(ctx, "{\"ok\":true}");
    int rc = rpush("test:rl", v);
    return rc ? rc : rpush("test:rlids", job_ctx_id(ctx));
}

static int h_record(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)payload;
    (void)ud;
    return rpush("test:runs", job_ctx_id(ctx));
}

void probe_handlers_register(void)
{
    struct job_type_opts fail = {.lane = JOB_LANE_DEFAULT, .max_attempts = 3};
    struct job_type_opts rl = {.lane = JOB_LANE_DEFAULT, .rate_family = "test"};
    struct job_type_opts uniq = {.lane = JOB_LANE_DEFAULT, .unique_per_resource = 1};
    jobs_register("test.noop", h_noop, NULL);
    jobs_register("test.sleep", h_sleep, NULL);
    jobs_register("test.steps", h_steps, NULL);
    jobs_register("test.fail", h_fail, &fail);
    jobs_register("test.ratelimited", h_ratelimited, &rl);
    jobs_register("test.unique", h_sleep, &uniq);
    jobs_register("test.record", h_record, NULL);
}
