/*
 * runtime.c - starts and stops the workers, the heartbeat and the
 * scheduler/reaper thread; renders the jobs metrics.
 *
 * The heartbeat renews, every lease/3, the lease of each job this process
 * runs (one script for all of them) and passes "lease lost" and "cancel
 * requested" back to the handlers through their ctx flags. Shutdown order:
 * stop claiming and end the scheduler -> wait up to the grace period ->
 * take the jobs still running over and give back their leases (lua finish
 * "release": no attempt used) -> stop the heartbeat -> join, all by a
 * deadline (jobs_runtime_stop).
 */
#include "runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"
#include "queue_run.h"
#include "runtime_internal.h"
#include "worker.h"
#include "service/core/clock.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/core/metrics.h"
#include "service/core/service.h"
#include "service/redis/script_group.h"
#include "service/redis/store_conn.h"

#define RT_MAX_WORKERS 64

static const long long s_bounds_ms[RT_HIST_BUCKETS] = {5,   10,   25,   50,   100,   250,
                                                       500, 1000, 2500, 5000, 10000, 30000};

void runtime__sleep(struct jobs_runtime *rt, long long ms, atomic_int *flag)
{
    struct timespec until = clock_after(CLOCK_MONOTONIC, ms);
    pthread_mutex_lock(&rt->sleep_lock);
    while (!atomic_load(flag))
        if (pthread_cond_timedwait(&rt->sleep_cond, &rt->sleep_lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&rt->sleep_lock);
}

static void raise_flag(struct jobs_runtime *rt, atomic_int *flag)
{
    pthread_mutex_lock(&rt->sleep_lock);
    atomic_store(flag, 1);
    pthread_cond_broadcast(&rt->sleep_cond);
    pthread_mutex_unlock(&rt->sleep_lock);
}

void runtime__observe(struct jobs_runtime *rt, int type_index, long long ms,
                      enum rt_outcome outcome)
{
    if (outcome != RT_NO_OUTCOME)
        atomic_fetch_add(&rt->outcomes[outcome], 1);
    if (type_index < 0 || type_index >= JOBS_MAX_TYPES)
        return;
    int b = 0;
    while (b < RT_HIST_BUCKETS && ms > s_bounds_ms[b])
        b++;
    atomic_fetch_add(&rt->run_hist[type_index][b], 1);
    atomic_fetch_add(&rt->run_sum_ms[type_index], ms);
}

/* ---- heartbeat ---- */

struct hb_snapshot {
    int n;
    char ids[RT_MAX_WORKERS][JOB_ID_MAX];
    char tokens[RT_MAX_WORKERS][QUEUE_TOKEN_MAX];
    const char *idp[RT_MAX_WORKERS];
    const char *tokp[RT_MAX_WORKERS];
};

static void hb_collect(struct jobs_runtime *rt, struct hb_snapshot *s)
{
    s->n = 0;
    pthread_mutex_lock(&rt->lock);
    for (int i = 0; i < rt->nworkers; i++) {
        struct job_ctx *ctx = rt->workers[i].current;
        if (!ctx)
            continue;
        snprintf(s->tokens[s->n], QUEUE_TOKEN_MAX, "%s", worker__token(ctx));
        snprintf(s->ids[s->n], JOB_ID_MAX, "%s", job_ctx_id(ctx));
        s->idp[s->n] = s->ids[s->n];
        s->tokp[s->n] = s->tokens[s->n];
        s->n++;
    }
    pthread_mutex_unlock(&rt->lock);
}

/* Renew callback: flags the ctx running job id, if it still runs here. */
static void hb_flag(void *ud, const char *id, const char *token, int lost)
{
    struct jobs_runtime *rt = ud;
    pthread_mutex_lock(&rt->lock);
    for (int i = 0; i < rt->nworkers; i++) {
        struct job_ctx *ctx = rt->workers[i].current;
        if (ctx && strcmp(job_ctx_id(ctx), id) == 0 && strcmp(worker__token(ctx), token) == 0)
            worker__flag(ctx, lost, !lost);
    }
    pthread_mutex_unlock(&rt->lock);
}

static void *hb_main(void *arg)
{
    struct jobs_runtime *rt = arg;
    long long lease = jobs_settings()->lease_ms;
    struct hb_snapshot *s = xcalloc(1, sizeof *s);
    while (!atomic_load(&rt->stop_heartbeat)) {
        runtime__sleep(rt, lease / 3, &rt->stop_heartbeat);
        hb_collect(rt, s);
        if (s->n > 0 && queue_renew(s->idp, s->tokp, s->n, lease, hb_flag, rt) != 0)
            log_msg(LOG_WARN, "lease heartbeat failed; will retry");
    }
    free(s);
    store_conn_close();
    return NULL;
}

/* ---- metrics ---- */

static void collect_cluster(struct buf *out)
{
    struct jobs_counts c;
    memset(&c, 0, sizeof c);
    if (jobs_counts(&c) != 0)
        return;
    buf_puts(out, "# HELP fleetwarden_jobs_queue_depth Jobs ready to run, per lane.\n"
                  "# TYPE fleetwarden_jobs_queue_depth gauge\n");
    for (int i = 0; i < JOB_NLANES; i++)
        buf_printf(out, "fleetwarden_jobs_queue_depth{lane=\"%s\"} %lld\n", job_lane_name(i),
                   c.lane_depth[i]);
    buf_puts(
        out,
        "# HELP fleetwarden_jobs Jobs known to Redis, per state.\n# TYPE fleetwarden_jobs gauge\n");
    for (int i = 0; i < 7; i++)
        buf_printf(out, "fleetwarden_jobs{state=\"%s\"} %lld\n", jobs_state_name(i), c.by_state[i]);
    buf_printf(out, "# TYPE fleetwarden_jobs_delayed gauge\nfleetwarden_jobs_delayed %lld\n",
               c.delayed);
    buf_printf(out, "# TYPE fleetwarden_jobs_leased gauge\nfleetwarden_jobs_leased %lld\n",
               c.running);
    buf_printf(out, "# TYPE fleetwarden_jobs_dead gauge\nfleetwarden_jobs_dead %lld\n", c.dead);
    buf_printf(
        out, "# TYPE fleetwarden_jobs_retries_total counter\nfleetwarden_jobs_retries_total %lld\n",
        c.retries);
    buf_printf(out,
               "# TYPE fleetwarden_jobs_rate_limit_waits_total counter\n"
               "fleetwarden_jobs_rate_limit_waits_total %lld\n",
               c.rlwaits);
    buf_printf(out,
               "# TYPE fleetwarden_jobs_poison_total counter\nfleetwarden_jobs_poison_total %lld\n",
               c.poison);
}

static void collect_hist(struct jobs_runtime *rt, struct buf *out)
{
    buf_puts(out, "# HELP fleetwarden_job_run_seconds Handler run time per attempt, this process.\n"
                  "# TYPE fleetwarden_job_run_seconds histogram\n");
    for (int t = 0; t < jobs_registry_count(); t++) {
        const char *type = jobs_registry_at(t)->type;
        long long cum = 0;
        for (int b = 0; b <= RT_HIST_BUCKETS; b++) {
            cum += atomic_load(&rt->run_hist[t][b]);
            if (b < RT_HIST_BUCKETS)
                buf_printf(out, "fleetwarden_job_run_seconds_bucket{type=\"%s\",le=\"%g\"} %lld\n",
                           type, (double)s_bounds_ms[b] / 1000.0, cum);
            else
                buf_printf(out,
                           "fleetwarden_job_run_seconds_bucket{type=\"%s\",le=\"+Inf\"} %lld\n",
                           type, cum);
        }
        buf_printf(out, "fleetwarden_job_run_seconds_sum{type=\"%s\"} %.3f\n", type,
                   (double)atomic_load(&rt->run_sum_ms[t]) / 1000.0);
        buf_printf(out, "fleetwarden_job_run_seconds_count{type=\"%s\"} %lld\n", type, cum);
    }
}

static void collect(struct buf *out, void *ud)
{
    struct jobs_runtime *rt = ud;
    static const char *const names[] = {"succeeded", "retried",  "dead",
                                        "canceled",  "deferred", "released"};
    collect_cluster(out);
    collect_hist(rt, out);
    buf_puts(out, "# TYPE fleetwarden_job_attempts_total counter\n");
    _Static_assert(sizeof names / sizeof names[0] == RT_NO_OUTCOME, "a name per counted outcome");
    for (int i = 0; i < RT_NO_OUTCOME; i++)
        buf_printf(out, "fleetwarden_job_attempts_total{outcome=\"%s\"} %lld\n", names[i],
                   (long long)atomic_load(&rt->outcomes[i]));
    buf_printf(out,
               "# TYPE fleetwarden_job_late_completions_rejected_total counter\n"
               "fleetwarden_job_late_completions_rejected_total %lld\n",
               (long long)atomic_load(&rt->late_rejected));
    buf_puts(out, "# TYPE fleetwarden_schedule_ticks_total counter\n");
    static const char *const tick_names[] = {"enqueued", "skipped", "lost"};
    for (int i = 0; i < 3; i++)
        buf_printf(out, "fleetwarden_schedule_ticks_total{result=\"%s\"} %lld\n", tick_names[i],
                   (long long)atomic_load(&rt->ticks[i]));
}

/* ---- start and stop ---- */

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    if (pthread_create(t, NULL, fn, arg) != 0) {
        log_msg(LOG_ERROR, "cannot start a jobs thread");
        abort();
    }
}

static void init_sync(struct jobs_runtime *rt)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->sleep_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&rt->lock, NULL);
    pthread_mutex_init(&rt->sleep_lock, NULL);
}

struct jobs_runtime *jobs_runtime_start(struct fw_service *svc, int nworkers,
                                        int run_scheduler_and_reaper)
{
    struct jobs_runtime *rt = xcalloc(1, sizeof *rt);
    rt->svc = svc;
    rt->nworkers = nworkers < 0 ? 0 : nworkers > RT_MAX_WORKERS ? RT_MAX_WORKERS : nworkers;
    rt->aux = run_scheduler_and_reaper;
    init_sync(rt);
    (void)jobs_settings();
    if (svc && svc->metrics)
        metrics_add_collector(svc->metrics, collect, rt);
    rt->workers = xcalloc((size_t)(rt->nworkers ? rt->nworkers : 1), sizeof *rt->workers);
    for (int i = 0; i < rt->nworkers; i++) {
        struct jobs_worker *w = &rt->workers[i];
        w->rt = rt;
        w->index = i;
        start_thread(&w->thread, worker__main, w);
    }
    start_thread(&rt->hb_thread, hb_main, rt);
    if (rt->aux)
        start_thread(&rt->aux_thread, scheduler__main, rt);
    log_event(LOG_INFO, "jobs runtime started", LOG_INT("workers", rt->nworkers),
              LOG_BOOL("scheduler", rt->aux));
    return rt;
}

int jobs_runtime_workers_alive(struct jobs_runtime *rt)
{
    int n = 0;
    for (int i = 0; rt && i < rt->nworkers; i++)
        n += !atomic_load(&rt->workers[i].exited);
    return n;
}

int jobs_runtime_ready(struct jobs_runtime *rt, char *why, size_t whylen)
{
    int alive = jobs_runtime_workers_alive(rt);
    if (!rt || alive == rt->nworkers)
        return 1;
    snprintf(why, whylen, "%d of %d job workers are running", alive, rt->nworkers);
    return 0;
}

/* A stop's tail after the grace (docs/OPERATIONS.md, Upgrades): lease releases start within
 * the first STOP_RELEASE_MS and every thread is joined by STOP_TAIL_MS. One release is bounded by
 * store_conn.c's timeouts (connect 1 s, command 5 s), so the releases end by STOP_TAIL_MS too. */
#define STOP_RELEASE_MS 6000
#define STOP_TAIL_MS 12000
/* A release that failed after this long waited out the command timeout: Redis does not answer,
 * and each further try would wait as long. A faster failure (a dropped connection, a failover)
 * is tried once more, on a new connection. */
#define STOP_NO_ANSWER_MS 4000

/* Gives back one lease: 0, FW_ECONFLICT (not ours any more) or a Redis error; *silent when
 * Redis did not answer. */
static int release_one(const char *id, const char *token, long long until_ms, int *silent)
{
    int rc = FW_EUNAVAILABLE;
    for (int t = 0; t < 2 && rc == FW_EUNAVAILABLE && !*silent && clock_mono_ms() < until_ms; t++) {
        long long t0 = clock_mono_ms();
        rc = queue_release(id, token);
        *silent = rc == FW_EUNAVAILABLE && clock_mono_ms() - t0 >= STOP_NO_ANSWER_MS;
    }
    return rc;
}

/* Gives back the leases of the jobs still running (after the grace), trying until until_ms
 * (clock_mono_ms). The leases not given back are left to expire: the reaper requeues them, as
 * for a process that crashed. */
static void release_running(struct jobs_runtime *rt, long long until_ms)
{
    struct hb_snapshot *s = xcalloc(1, sizeof *s);
    hb_collect(rt, s);
    pthread_mutex_lock(&rt->lock);
    for (int i = 0; i < rt->nworkers; i++)
        if (rt->workers[i].current)
            worker__take_over(rt->workers[i].current);
    pthread_mutex_unlock(&rt->lock);
    int silent = 0, left = 0;
    for (int i = 0; i < s->n; i++) {
        int rc = silent ? FW_EUNAVAILABLE : release_one(s->ids[i], s->tokens[i], until_ms, &silent);
        if (rc == 0) {
            atomic_fetch_add(&rt->outcomes[RT_RELEASED], 1);
            log_event(LOG_WARN, "shutdown: lease given back", LOG_STR("job", s->ids[i]));
        } else if (rc != FW_ECONFLICT) {
            left++;
        }
    }
    if (left)
        log_event(LOG_WARN,
                  silent ? "shutdown: redis did not answer, leases left to expire"
                         : "shutdown: leases not given back, left to expire",
                  LOG_INT("leases", left));
    free(s);
}

/* Joins a thread, waiting at most until the deadline (clock_mono_ms); 1 when joined.
 * pthread_timedjoin_np takes wall-clock time: the deadline is turned into it at each call, so
 * a clock step moves no deadline. (Not pthread_clockjoin_np: ThreadSanitizer does not see that
 * join as one, and reports every later use of what the thread touched as a race.) */
static int join_by(pthread_t t, long long until_ms)
{
    struct timespec until = clock_after(CLOCK_REALTIME, until_ms - clock_mono_ms());
    return pthread_timedjoin_np(t, NULL, &until) == 0;
}

void jobs_runtime_begin_stop(struct jobs_runtime *rt)
{
    if (!rt)
        return;
    raise_flag(rt, &rt->stopping);
    /* The scheduler is not needed for the running jobs to finish: it ends meanwhile. */
    raise_flag(rt, &rt->stop_sched);
}

void jobs_runtime_stop(struct jobs_runtime *rt, long long grace_ms)
{
    if (!rt)
        return;
    jobs_runtime_begin_stop(rt);
    long long waited = 0;
    while (jobs_runtime_workers_alive(rt) > 0 && waited < grace_ms) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        waited += 50;
    }
    long long tail_end = clock_mono_ms() + STOP_TAIL_MS;
    if (jobs_runtime_workers_alive(rt) > 0)
        release_running(rt, tail_end - STOP_TAIL_MS + STOP_RELEASE_MS);
    int all = 1;
    for (int i = 0; i < rt->nworkers; i++)
        all &= join_by(rt->workers[i].thread, tail_end);
    raise_flag(rt, &rt->stop_heartbeat); /* no lease left to renew */
    all &= join_by(rt->hb_thread, tail_end);
    if (rt->aux)
        all &= join_by(rt->aux_thread, tail_end);
    store_conn_close();
    if (all)
        redis_script_group_close(); /* no worker left to use it */
    log_event(LOG_INFO, "jobs runtime stopped", LOG_BOOL("leaked_threads", !all));
    if (!all)
        return; /* a handler ignored cancel: leave rt to the exiting process */
    pthread_mutex_destroy(&rt->lock);
    pthread_mutex_destroy(&rt->sleep_lock);
    pthread_cond_destroy(&rt->sleep_cond);
    free(rt->workers);
    free(rt);
}
