/*
 * scheduler.c - ticks recurring schedules and reaps expired leases.
 *
 * One thread per process (when asked for). Each turn: install what the job
 * types registered and is not installed yet (registry.h), run every schedule
 * that is due (the tick script lets exactly one process win each slot;
 * the losers count a lost race), and, when the cluster-wide reaper gate
 * is free, run one reaper pass. It then sleeps until the next due
 * schedule, the next reaper turn, or 1 s, whichever comes first.
 */
#include "scheduler.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "queue.h"
#include "queue_run.h"
#include "registry.h"
#include "runtime_internal.h"
#include "schedule.h"
#include "service/core/clock.h"
#include "service/core/log.h"
#include "service/redis/store_conn.h"

#define SCHEDULER_BATCH 16

void scheduler_job_id(const char *name, long long slot_ms, char *out, unsigned long outlen)
{
    snprintf(out, outlen, "s_%s_%lld", name, slot_ms);
}

static void tick_one(struct jobs_runtime *rt, const char *name, long long due, long long now)
{
    struct schedule_spec spec = {0, -1};
    char daily[8] = "";
    if (queue_sched_spec(name, &spec.every_s, daily) != 0)
        return;
    if (daily[0] && schedule_parse_daily(daily, &spec.daily_min) != 0)
        return;
    if (daily[0])
        spec.every_s = 0;
    if (schedule_spec_check(&spec) != 0)
        return;
    long long next = schedule_next_ms(&spec, now > due ? now : due);
    char id[JOB_ID_MAX];
    scheduler_job_id(name, due, id, sizeof id);
    int rc = queue_tick(name, due, next, id);
    if (rc == 1)
        atomic_fetch_add(&rt->ticks[0], 1);
    else if (rc == 2)
        atomic_fetch_add(&rt->ticks[1], 1);
    else if (rc == 0)
        atomic_fetch_add(&rt->ticks[2], 1);
}

/* Runs due schedules; returns ms until the next one (<= 1000). */
static long long run_schedules(struct jobs_runtime *rt)
{
    char names[SCHEDULER_BATCH][72];
    long long dues[SCHEDULER_BATCH], now = 0, next = -1;
    int n = queue_sched_due(names, dues, SCHEDULER_BATCH, &now, &next);
    if (n < 0)
        return 1000;
    for (int i = 0; i < n && !atomic_load(&rt->stop_sched); i++)
        tick_one(rt, names[i], dues[i], now);
    if (n == SCHEDULER_BATCH)
        return 0;
    if (next < 0 || next - now > 1000)
        return 1000;
    return next - now;
}

static void reap_once(void)
{
    const struct jobs_settings *s = jobs_settings();
    if (queue_gate("reaper:lock", s->reaper_ms) != 1)
        return;
    long long requeued = 0, dead = 0, trimmed = 0;
    if (queue_reap(s->max_stalls, s->dead_ttl_ms, &requeued, &dead, &trimmed) != 0)
        return;
    if (requeued || dead) {
        log_event(LOG_WARN, "reaper returned jobs whose lease expired",
                  LOG_INT("requeued", requeued), LOG_INT("dead", dead),
                  LOG_INT("trimmed", trimmed));
    }
}

void *scheduler__main(void *arg)
{
    struct jobs_runtime *rt = arg;
    long long reap_every = jobs_settings()->reaper_ms, next_reap = 0;
    int installing = 1;
    while (!atomic_load(&rt->stop_sched)) {
        if (installing)
            installing = jobs_installers_run() > 0;
        long long sleep_ms = run_schedules(rt);
        if (atomic_load(&rt->stop_sched))
            break; /* each step may wait out a command timeout: none more once told to end */
        long long now = clock_mono_ms();
        if (now >= next_reap) {
            reap_once();
            next_reap = now + reap_every / 2; /* try twice per interval; the gate keeps it to one */
        }
        if (next_reap - now < sleep_ms)
            sleep_ms = next_reap - now;
        if (sleep_ms > 0)
            runtime__sleep(rt, sleep_ms, &rt->stop_sched);
    }
    store_conn_close();
    return NULL;
}
