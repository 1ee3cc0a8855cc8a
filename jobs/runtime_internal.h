/*
 * runtime_internal.h - the runtime's state, shared by runtime.c,
 * worker.c and scheduler.c (not for other modules).
 */
#ifndef FW_JOBS_RUNTIME_INTERNAL_H
#define FW_JOBS_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "registry.h"

struct job_ctx;
struct jobs_runtime;

#define RT_HIST_BUCKETS 12

struct jobs_worker {
    struct jobs_runtime *rt;
    int index;
    pthread_t thread;
    unsigned long picks;     /* jobs claimed; touched only by this worker's thread */
    struct job_ctx *current; /* the running attempt; guarded by rt->lock */
    atomic_int exited;       /* 1 once the thread left its loop */
};

/* RT_NO_OUTCOME: the attempt ended without writing one (the stop took it over); not counted. */
enum rt_outcome {
    RT_SUCCEEDED = 0,
    RT_RETRIED,
    RT_DEAD,
    RT_CANCELED,
    RT_DEFERRED,
    RT_RELEASED,
    RT_NO_OUTCOME
};

struct jobs_runtime {
    struct fw_service *svc;
    int nworkers;
    struct jobs_worker *workers;
    int aux; /* 1: the scheduler/reaper thread runs */
    pthread_t hb_thread;
    pthread_t aux_thread;
    atomic_int stopping;        /* 1: workers claim no new job */
    atomic_int stop_sched;      /* 1: the scheduler/reaper ends (raised with stopping) */
    atomic_int stop_heartbeat;  /* 1: the heartbeat ends (after the workers: their leases) */
    pthread_mutex_t lock;       /* guards workers[].current and the ctx they point at */
    pthread_mutex_t sleep_lock; /* guards nothing but the wait on sleep_cond */
    pthread_cond_t sleep_cond;  /* signalled when a stop flag is raised */
    /* Process-local metrics (atomics, no lock). Index = registry index. */
    atomic_llong run_hist[JOBS_MAX_TYPES][RT_HIST_BUCKETS + 1];
    atomic_llong run_sum_ms[JOBS_MAX_TYPES];
    atomic_llong outcomes[RT_NO_OUTCOME]; /* counted outcomes, by enum rt_outcome */
    atomic_llong late_rejected;           /* completions refused by the fencing token */
    atomic_llong ticks[3];                /* schedule ticks: enqueued, skipped, lost race */
};

/* Sleeps up to ms, returning early when *flag becomes non-zero. */
void runtime__sleep(struct jobs_runtime *rt, long long ms, atomic_int *flag);
/* Records a finished attempt of registry entry index type_index. */
void runtime__observe(struct jobs_runtime *rt, int type_index, long long ms,
                      enum rt_outcome outcome);

/* worker.c: the worker thread body (arg = struct jobs_worker *). */
void *worker__main(void *arg);
/* worker.c: flags the ctx of a running attempt (under rt->lock). */
void worker__flag(struct job_ctx *ctx, int lost, int cancel);
/* worker.c: the stop takes a running attempt over (under rt->lock): the handler is told its
 * lease is gone, and a failure it returns is not written, since the stop gives the lease back. */
void worker__take_over(struct job_ctx *ctx);
/* worker.c: the id and token of a running attempt (under rt->lock). */
const char *worker__token(const struct job_ctx *ctx);

/* scheduler.c: the scheduler/reaper thread body (arg = rt). */
void *scheduler__main(void *arg);

#endif
