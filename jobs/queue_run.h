/*
 * queue_run.h - the worker side of the queue: claim, heartbeat, steps,
 * finish, reap, rate-limit tokens, schedule ticks and wake-ups.
 *
 * For jobs/ only (worker.c, scheduler.c, ratelimit.c, runtime.c). Each
 * call is one script (one round trip) on the calling thread's connection,
 * except the finishes, which go grouped with the other threads' on the
 * process's shared connections (service/redis/script_group.h), and the
 * idle wait, on the connection the caller gives. Calls that change a running job carry its fencing
 * token and return FW_ECONFLICT when the token no longer owns the job (lease lost): a late
 * completion is rejected, never applied. "Redis errors" below are FW_EUNAVAILABLE (not reachable)
 * and FW_EREDIS (an error answer, logged).
 */
#ifndef FW_JOBS_QUEUE_RUN_H
#define FW_JOBS_QUEUE_RUN_H

#include "job.h"

struct redisContext;

#define QUEUE_TOKEN_MAX 32

struct queue_claimed {
    char id[JOB_ID_MAX];
    char token[QUEUE_TOKEN_MAX]; /* fencing token, "seq.runs" */
    char type[JOB_TYPE_MAX];
    char *payload; /* owned; free() */
    int attempts;  /* counted attempts including this one */
    int max_attempts;
    int runs;   /* every start, including throttled ones */
    int rlpaid; /* 1: a rate-limit token was already reserved */
    /* The job's fields that never change and that finishing it needs, as the claim read them,
     * so that a finish need not read them back (queue_finish_next). */
    char created[24];                /* creation time, epoch ms */
    char resource[JOB_RESOURCE_MAX]; /* "" = none */
    char uniq[2];                    /* "1": holds the lock of a unique (type, resource) */
};

/* Claims the next job looking at the lanes in order. 1 with *out filled,
 * 0 when none is ready (*next_due_ms = the earliest delayed job or -1, and
 * *now_ms = Redis time), or Redis errors. */
int queue_claim(const int order[JOB_NLANES], long long lease_ms, struct queue_claimed *out,
                long long *next_due_ms, long long *now_ms);

/* Finishes a running job known by its id and token. outcome is "succeeded",
 * "dead", "canceled", "retry", "defer" or "release"; a1..a3 as in
 * lua/finish.lua (NULL = ""). 0, FW_ECONFLICT (token lost), Redis errors. */
int queue_finish(const char *id, const char *token, const char *outcome, const char *a1,
                 const char *a2, const char *a3);

/* Gives a running job's lease back (queue_finish with "release") on the calling thread's own
 * connection, not with the workers' grouped finishes: a stop must not wait behind theirs. */
int queue_release(const char *id, const char *token);

/* The claim half of queue_finish_next: lane order, lease. */
struct queue_next_req {
    int order[JOB_NLANES];
    long long lease_ms;
};

/* queue_finish of the claimed job, and, when req is non-NULL, the worker's
 * next claim in the same round trip. 1: finished and *next claimed; 0:
 * finished (no job ready: *next_due_ms and *now_ms as for queue_claim);
 * FW_ECONFLICT (token lost: nothing done, nothing claimed), Redis errors. */
int queue_finish_next(const struct queue_claimed *job, const char *outcome, const char *a1,
                      const char *a2, const char *a3, const struct queue_next_req *req,
                      struct queue_claimed *next, long long *next_due_ms, long long *now_ms);

/* Records a finished step (kind "done": a1 name, a2 result JSON) or
 * progress (kind "progress": a1 done, a2 total, a3 step). 0, FW_ECANCELED
 * (recorded; cancel was requested), FW_ECONFLICT (lease lost), Redis errors. */
int queue_step(const char *id, const char *token, const char *kind, const char *a1, const char *a2,
               const char *a3);
/* A step's recorded result (malloc'd JSON text in *out). 0, FW_ENOTFOUND, Redis errors. */
int queue_step_get(const char *id, const char *step, char **out);
/* 1 when cancel was requested, 0 when not, or Redis errors. */
int queue_cancel_flag(const char *id);

/* Heartbeat: renews the leases of n (id, token) pairs. For each pair that
 * needs attention, cb(ud, id, token, lost) runs: lost = 1 when the lease is lost,
 * 0 when cancel was requested. 0 or Redis errors. */
typedef void(queue_renew_fn)(void *ud, const char *id, const char *token, int lost);
int queue_renew(const char *const *ids, const char *const *tokens, int n, long long lease_ms,
                queue_renew_fn *cb, void *ud);

/* Takes the cluster-wide gate key P name for ttl_ms (SET NX PX). 1 taken,
 * 0 held by someone else, Redis errors. */
int queue_gate(const char *name, long long ttl_ms);
/* One reaper pass (lua/reap.lua). Counts into the out arguments (may be NULL). */
int queue_reap(int max_stalls, long long dead_ttl_ms, long long *requeued, long long *dead,
               long long *trimmed);

/* Reserves a rate-limit token for a running job; defers the job when the
 * token is not due yet. 0 run now, > 0 deferred for that many ms,
 * FW_ECONFLICT (token lost), Redis errors. */
long long queue_rl_defer(const char *id, const char *token, const char *family, double rate,
                         double burst);
/* Reserves a token outside a job's start; ms to wait, or Redis errors. */
long long queue_rl_take(const char *family, double rate, double burst);

/* Schedules due at or before now: up to max names with their due ms.
 * Returns how many, or Redis errors. *now_ms gets Redis time; *next_ms the
 * earliest due time after them (-1 when there is none). */
int queue_sched_due(char names[][72], long long *dues, int max, long long *now_ms,
                    long long *next_ms);
/* The timing of schedule name (every_s, daily "HH:MM" or ""). 0, FW_ENOTFOUND, Redis errors. */
int queue_sched_spec(const char *name, long *every_s, char daily[8]);
/* The tick script. 0 lost race, 1 enqueued, 2 skipped, or Redis errors. */
int queue_tick(const char *name, long long expected_due_ms, long long next_due_ms,
               const char *job_id);

/* Blocks on the wake list on connection c (a store_conn_open one) for at
 * most timeout_ms, then claims as queue_claim does, the claim sent with the
 * wait (pipelined: Redis runs it as the wait ends, one round trip less per
 * wake-up). The claim is the same script with the same lease: a worker
 * that dies before reading the answer leaves a leased job, exactly as after
 * queue_claim. Returns as queue_claim; on Redis errors free c. */
int queue_wait_claim(struct redisContext *c, long long timeout_ms, const int order[JOB_NLANES],
                     long long lease_ms, struct queue_claimed *out, long long *next_due_ms,
                     long long *now_ms);

#endif
