/*
 * worker.c - worker threads and the handler context.
 *
 * Each worker loops: claim (one script: promote due jobs, pop by lane
 * order, lease + fencing token), run the handler, finish (one script,
 * fenced). When nothing is ready it blocks on the wake list (its own
 * blocking connection) until an enqueue pushes a marker or the earliest
 * delayed job (or rate-limit pump) is due, so idle workers cost one BLPOP
 * (and the claim pipelined behind it) per second at most; waits under
 * WORKER_SHORT_WAIT_MS are slept locally.
 *
 * Lanes: job_lane_order() rotates which lane is looked at first so bulk
 * is never starved. Leases are renewed by the runtime's heartbeat thread,
 * which also raises ctx->lost / ctx->cancel. Invariants: a worker touches
 * only its own ctx, except the two atomic flags; rt->lock guards the
 * worker's current pointer so the heartbeat never reads a freed ctx.
 */
#include "worker.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "queue.h"
#include "queue_run.h"
#include "ratelimit.h"
#include "retry.h"
#include "runtime_internal.h"
#include "service/core/clock.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/redis/store_conn.h"

/* The next job, claimed in the same script call that finished this one. */
struct next_claim {
    struct queue_next_req req;
    int want; /* 1: ask for the next job with the finish */
    int got;  /* -1 not asked, 0 none ready, 1 job holds one */
    struct queue_claimed job;
    long long due_ms, now_ms; /* when got == 0: earliest delayed job, Redis time */
};

struct job_ctx {
    struct jobs_worker *w;
    struct next_claim *next; /* the worker's; see finish() */
    struct queue_claimed *job;
    const struct job_type_entry *type; /* NULL for an unknown type */
    atomic_int cancel;                 /* cancel requested (heartbeat or step reply) */
    atomic_int lost;                   /* lease lost or given back: stop */
    atomic_int taken_over;             /* the stop gives the lease back: write no failure */
    char *result;                      /* owned JSON text */
    struct job_error err;              /* valid when has_err */
    int has_err;
};

const char *job_ctx_id(const struct job_ctx *ctx)
{
    return ctx->job->id;
}
const char *job_ctx_type(const struct job_ctx *ctx)
{
    return ctx->job->type;
}
int job_ctx_attempt(const struct job_ctx *ctx)
{
    return ctx->job->attempts;
}
int job_ctx_max_attempts(const struct job_ctx *ctx)
{
    return ctx->job->max_attempts;
}
int job_ctx_runs(const struct job_ctx *ctx)
{
    return ctx->job->runs;
}
struct fw_service *job_ctx_service(const struct job_ctx *ctx)
{
    return ctx->w->rt->svc;
}

void worker__flag(struct job_ctx *ctx, int lost, int cancel)
{
    if (lost)
        atomic_store(&ctx->lost, 1);
    if (cancel)
        atomic_store(&ctx->cancel, 1);
}

void worker__take_over(struct job_ctx *ctx)
{
    atomic_store(&ctx->taken_over, 1);
    atomic_store(&ctx->lost, 1);
}

const char *worker__token(const struct job_ctx *ctx)
{
    return ctx->job->token;
}

int job_ctx_cancel_requested(struct job_ctx *ctx)
{
    if (atomic_load(&ctx->cancel) || atomic_load(&ctx->lost))
        return 1;
    if (queue_cancel_flag(ctx->job->id) == 1)
        atomic_store(&ctx->cancel, 1);
    return atomic_load(&ctx->cancel);
}

/* Maps a fenced step answer onto the ctx flags. */
static int step_answer(struct job_ctx *ctx, int rc)
{
    if (rc == FW_ECANCELED)
        atomic_store(&ctx->cancel, 1);
    else if (rc == FW_ECONFLICT)
        atomic_store(&ctx->lost, 1);
    if (rc == 0 && atomic_load(&ctx->lost))
        return FW_ECONFLICT;
    return rc;
}

int job_ctx_step_done(struct job_ctx *ctx, const char *step, const char *result_json)
{
    return step_answer(ctx, queue_step(ctx->job->id, ctx->job->token, "done", step,
                                       result_json ? result_json : "null", NULL));
}

int job_ctx_step_result(struct job_ctx *ctx, const char *step, char **out)
{
    return queue_step_get(ctx->job->id, step, out);
}

int job_ctx_progress(struct job_ctx *ctx, int done, int total, const char *step)
{
    char d[16], t[16];
    snprintf(d, sizeof d, "%d", done);
    snprintf(t, sizeof t, "%d", total);
    return step_answer(ctx, queue_step(ctx->job->id, ctx->job->token, "progress", d,
                                       total < 0 ? "" : t, step ? step : ""));
}

void job_ctx_set_result(struct job_ctx *ctx, const char *result_json)
{
    free(ctx->result);
    ctx->result = result_json ? xstrdup(result_json) : NULL;
}

void job_ctx_set_error(struct job_ctx *ctx, const struct job_error *err)
{
    ctx->err = *err;
    ctx->has_err = 1;
}

void job_ctx_set_error_msg(struct job_ctx *ctx, enum job_fail_class cls, const char *code,
                           const char *fmt, ...)
{
    memset(&ctx->err, 0, sizeof ctx->err);
    ctx->err.cls = cls;
    snprintf(ctx->err.code, sizeof ctx->err.code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err.message, sizeof ctx->err.message, fmt, ap);
    va_end(ap);
    ctx->has_err = 1;
}

/* ---- one attempt ---- */

static void set_current(struct jobs_worker *w, struct job_ctx *ctx)
{
    pthread_mutex_lock(&w->rt->lock);
    w->current = ctx;
    pthread_mutex_unlock(&w->rt->lock);
}

/* The error object kept in the job's error list (the script adds "at"). */
static char *error_json(const struct job_ctx *ctx, int rc)
{
    json_t *e = json_object();
    enum job_fail_class cls = ctx->has_err ? ctx->err.cls : retry_class_of(rc);
    json_object_set_new(e, "class", json_string(retry_class_name(cls)));
    json_object_set_new(
        e, "code", json_string(ctx->has_err && ctx->err.code[0] ? ctx->err.code : fw_err_name(rc)));
    json_object_set_new(e, "message",
                        json_string(ctx->has_err ? ctx->err.message : fw_strerror(rc)));
    json_object_set_new(e, "attempt", json_integer(ctx->job->attempts));
    if (ctx->has_err && ctx->err.http_status)
        json_object_set_new(e, "httpStatus", json_integer(ctx->err.http_status));
    if (ctx->has_err && ctx->err.request_id[0])
        json_object_set_new(e, "requestId", json_string(ctx->err.request_id));
    if (ctx->has_err && ctx->err.operation[0])
        json_object_set_new(e, "operation", json_string(ctx->err.operation));
    char *s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return s;
}

/* One fenced finish script; also claims the worker's next job when asked. */
static int finish(struct job_ctx *ctx, const char *outcome, const char *a1, const char *a2,
                  const char *a3)
{
    struct next_claim *n = ctx->next;
    int rc = queue_finish_next(ctx->job, outcome, a1, a2, a3, n->want ? &n->req : NULL, &n->job,
                               &n->due_ms, &n->now_ms);
    if (rc < 0)
        return rc;
    n->got = n->want ? rc : -1;
    return 0;
}

/* Writes a failed attempt's outcome: retry (counted or free) or dead. */
static enum rt_outcome conclude_failure(struct job_ctx *ctx, int rc, int *frc)
{
    const struct jobs_settings *s = jobs_settings();
    const struct queue_claimed *j = ctx->job;
    enum job_fail_class cls = ctx->has_err ? ctx->err.cls : retry_class_of(rc);
    /* The peer (AWS) unreachable (no connection, no answer): wait for it like for a throttle,
     * without using up an attempt, so an outage of minutes does not kill every job (each retry
     * is idempotent; RETRY_FREE_MAX still ends a job that never gets through). */
    int unreachable = ctx->has_err && ctx->err.unreachable;
    enum retry_action act =
        retry_decide(unreachable ? JOB_FAIL_THROTTLED : cls, j->attempts, j->max_attempts, j->runs);
    char *err = error_json(ctx, rc);
    char a2[24], reason[160];
    enum rt_outcome out = RT_RETRIED;
    if (act == RETRY_DEAD) {
        snprintf(a2, sizeof a2, "%lld", s->dead_ttl_ms);
        if (j->attempts >= j->max_attempts && cls != JOB_FAIL_ACCESS && cls != JOB_FAIL_VALIDATION)
            snprintf(reason, sizeof reason, "attempts exhausted (%d of %d)", j->attempts,
                     j->max_attempts);
        else
            snprintf(reason, sizeof reason, "%s error: not retried", retry_class_name(cls));
        *frc = finish(ctx, "dead", err, a2, reason);
        out = RT_DEAD;
    } else {
        unsigned rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            rnd = (unsigned)clock_mono_ms();
        int n = act == RETRY_FREE ? j->runs - j->attempts + 1 : j->attempts;
        snprintf(a2, sizeof a2, "%lld",
                 retry_backoff_ms(n, s->retry_base_ms, s->retry_cap_ms, rnd));
        *frc = finish(ctx, "retry", err, a2, act == RETRY_COUNTED ? "1" : "0");
    }
    free(err);
    return out;
}

/* Writes the attempt's outcome, fenced by the token. */
static enum rt_outcome conclude(struct job_ctx *ctx, int rc)
{
    const struct jobs_settings *s = jobs_settings();
    const struct queue_claimed *j = ctx->job;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", s->job_ttl_ms);
    int frc = 0;
    enum rt_outcome out;
    if (rc == 0) {
        frc = finish(ctx, "succeeded", ctx->result ? ctx->result : "null", ttl, NULL);
        out = RT_SUCCEEDED;
    } else if (atomic_load(&ctx->taken_over)) {
        /* The stop ended this attempt and gives its lease back (runtime.c, release_running): the
         * failure is the stop's, not the job's. Written first, it would be a counted retry; after
         * the release, a "late completion" warning. Nothing is written. */
        return RT_NO_OUTCOME;
    } else if (atomic_load(&ctx->cancel) && !atomic_load(&ctx->lost)) {
        /* Cancel was requested: a failed attempt ends the job, it is not retried. */
        frc = finish(ctx, "canceled", NULL, ttl, NULL);
        out = RT_CANCELED;
    } else {
        out = conclude_failure(ctx, rc, &frc);
    }
    if (frc == FW_ECONFLICT) {
        log_event(LOG_WARN, "late completion rejected: the lease was lost", LOG_STR("job", j->id),
                  LOG_STR("token", j->token));
        atomic_fetch_add(&ctx->w->rt->late_rejected, 1);
    } else if (frc) {
        log_msg(LOG_ERROR, "could not record a job outcome; the reaper will retry the job");
    }
    return out;
}

static int unknown_type(struct job_ctx *ctx)
{
    job_ctx_set_error_msg(ctx, JOB_FAIL_TRANSIENT, "UnknownJobType",
                          "no handler for job type \"%s\" in this process", ctx->job->type);
    return FW_EINVAL;
}

/* Takes the type's rate-limit token; 1 when the job was parked instead. */
static int rate_gate(struct job_ctx *ctx)
{
    if (!ctx->type || !ctx->type->family[0] || ctx->job->rlpaid)
        return 0;
    double rate, burst;
    ratelimit_lookup(ctx->type->family, &rate, &burst);
    long long wait = queue_rl_defer(ctx->job->id, ctx->job->token, ctx->type->family, rate, burst);
    if (wait == 0)
        return 0;
    if (wait > 0)
        runtime__observe(ctx->w->rt, -1, 0, RT_DEFERRED);
    return 1; /* parked, canceled, lost, or Redis down: in each case do not run now */
}

static void run_job(struct jobs_worker *w, struct queue_claimed *job, struct next_claim *next)
{
    struct job_ctx ctx = {.w = w, .next = next, .job = job, .type = jobs_registry_find(job->type)};
    set_current(w, &ctx);
    if (rate_gate(&ctx)) {
        set_current(w, NULL);
        return;
    }
    long long t0 = clock_mono_ms();
    int rc;
    if (!ctx.type) {
        rc = unknown_type(&ctx);
    } else {
        json_t *payload = json_loads(job->payload, 0, NULL);
        if (!payload)
            payload = json_object();
        rc = ctx.type->fn(&ctx, payload, ctx.type->opts.ud);
        json_decref(payload);
    }
    enum rt_outcome out = conclude(&ctx, rc);
    set_current(w, NULL);
    int ti = ctx.type ? (int)(ctx.type - jobs_registry_at(0)) : -1;
    runtime__observe(w->rt, ti, clock_mono_ms() - t0, out);
    free(ctx.result);
}

/* ---- the loop ---- */

/* Redis checks blocking timeouts on its timer (hz 10): a BLPOP may return up
 * to ~100 ms late. So the BLPOP ends that much before the due time and the
 * rest is slept here, and a job (or a rate-limit pump, prelude.lua
 * rl_pump) is claimed on time. */
#define WORKER_SHORT_WAIT_MS 100

/* Where a worker's loop stands between jobs. */
enum { GOT_NOTHING = -1, GOT_NONE_READY = 0, GOT_JOB = 1 };

/* Claims now. GOT_JOB (next->job filled), GOT_NONE_READY (next->due_ms and
 * now_ms say when to look again) or GOT_NOTHING (Redis errors; slept). */
static int claim(struct jobs_worker *w, struct next_claim *next)
{
    int order[JOB_NLANES];
    job_lane_order(w->picks, order);
    int rc = queue_claim(order, next->req.lease_ms, &next->job, &next->due_ms, &next->now_ms);
    if (rc < 0)
        runtime__sleep(w->rt, 500, &w->rt->stopping);
    return rc < 0 ? GOT_NOTHING : rc;
}

/* Waits until an enqueue wakes us, the next delayed job is due
 * (next->due_ms) or 1 s, and claims as the wait ends (sent with it): as
 * claim(). A wait shorter than WORKER_SHORT_WAIT_MS is slept here and
 * answers GOT_NOTHING (claim now). */
static int idle_wait(struct jobs_worker *w, struct redisContext **blk, struct next_claim *next)
{
    long long timeout = 1000, due = next->due_ms, now = next->now_ms;
    if (due > 0 && due - now < timeout) {
        timeout = due - now;
        if (timeout < WORKER_SHORT_WAIT_MS) {
            runtime__sleep(w->rt, timeout > 0 ? timeout : 1, &w->rt->stopping);
            return GOT_NOTHING;
        }
        timeout -= WORKER_SHORT_WAIT_MS; /* wake early; the rest is slept precisely */
    }
    if (!*blk)
        *blk = store_conn_open(2000);
    int order[JOB_NLANES];
    job_lane_order(w->picks, order);
    int rc = *blk ? queue_wait_claim(*blk, timeout, order, next->req.lease_ms, &next->job,
                                     &next->due_ms, &next->now_ms)
                  : FW_EUNAVAILABLE;
    if (rc >= 0)
        return rc;
    store_conn_free(*blk);
    *blk = NULL;
    runtime__sleep(w->rt, 200, &w->rt->stopping);
    return GOT_NOTHING;
}

void *worker__main(void *arg)
{
    struct jobs_worker *w = arg;
    struct jobs_runtime *rt = w->rt;
    struct redisContext *blk = NULL;
    struct next_claim next = {.req = {.lease_ms = jobs_settings()->lease_ms}};
    int got = GOT_NOTHING;
    for (;;) {
        if (atomic_load(&rt->stopping)) {
            if (got == GOT_JOB) { /* claimed with the last finish or wait: give it back untouched */
                queue_finish(next.job.id, next.job.token, "release", NULL, NULL, NULL);
                free(next.job.payload);
            }
            break;
        }
        if (got == GOT_NOTHING)
            got = claim(w, &next);
        else if (got == GOT_NONE_READY)
            got = idle_wait(w, &blk, &next);
        /* A job claimed as the stop began (an enqueue woke the wait) goes back at the top. */
        if (got != GOT_JOB || atomic_load(&rt->stopping))
            continue;
        struct queue_claimed job = next.job;
        w->picks++;
        job_lane_order(w->picks, next.req.order);
        next.want = !atomic_load(&rt->stopping);
        next.got = -1;
        run_job(w, &job, &next);
        free(job.payload);
        got = next.got == 1 ? GOT_JOB : next.got == 0 ? GOT_NONE_READY : GOT_NOTHING;
    }
    store_conn_free(blk);
    store_conn_close();
    atomic_store(&w->exited, 1);
    return NULL;
}
