/*
 * queue.h - the job queue's public API: enqueue, read, list, cancel,
 * retry, wait and recurring schedules. Used by routes/ (any HTTP thread),
 * by handlers (to enqueue follow-up jobs) and by the runtime.
 *
 * Every function uses the calling thread's Redis connection
 * (store_conn_get) and is thread-safe. Every state change is one Lua
 * script (jobs/lua/, run by the Redis runner service/redis/script.h), so a
 * crash between two calls never loses or duplicates a job. Errors (the one
 * mapping of service/redis/reply.h): FW_EUNAVAILABLE when Redis cannot be
 * reached, FW_EREDIS when it answers an error (logged); others as stated.
 *
 * Redis layout (P = FLEETWARDEN_PREFIX, default "fw:"):
 *   P job:ID          HASH   the job: short fields, see jobs/job_record.h
 *   P q:LANE          LIST   ready jobs per lane (LPUSH in, RPOP out)
 *   P delayed         ZSET   scheduled and retrying jobs by due ms
 *   P running         ZSET   "ID|TOKEN" of each running job by lease deadline ms
 *                            (the fencing token; lua/prelude.lua lease_member)
 *   P dead            ZSET   dead jobs by finish ms
 *   P st:STATE        ZSET   queued, scheduled, failed jobs, score = creation sequence
 *   P st:STATE:B      ZSET   succeeded, dead, canceled jobs whose sequence without
 *                            its last two digits is B (<= 100 entries: compact)
 *   P sd:STATE        ZSET   the buckets B in use of a finished state
 *   P seq             STRING creation sequence
 *   P uniq:TYPE:RES   STRING the active job of a unique (type, resource)
 *   P sched:NAME      HASH   schedule; P sched:due ZSET name -> next due ms
 *   P rl:FAMILY       HASH   token bucket (tokens, ts, rate, burst, grants)
 *   P rlq:FAMILY      ZSET   jobs waiting unreserved for a token (lane rank, seq)
 *   P rlpump          ZSET   family -> ms its pump hands out the next token
 *   P wake            LIST   wake-up markers for idle workers (<= 64)
 *   P stats           HASH   counters: retries, rlwaits, poison
 *   P reaper:lock     STRING SET NX PX gate: one reaper run per interval
 *   P trim:...        STRING the reaper's index-trimming cursors
 *   P events:log      STREAM every state change, capped ~10,000: the event
 *                            feed (no pub/sub channels); a job's change as
 *                            fields s (state digit) i (id) t (type) r
 *                            (resource), its time the entry id's ms; an
 *                            incident's as JSON in field e
 */
#ifndef FW_JOBS_QUEUE_H
#define FW_JOBS_QUEUE_H

#include <jansson.h>

#include "job.h"
#include "service/core/buf.h"

/* Settings from FLEETWARDEN_* (read once, read-only afterwards). */
struct jobs_settings {
    long long job_ttl_ms;    /* FLEETWARDEN_JOB_TTL s, finished jobs (default 7 d) */
    long long dead_ttl_ms;   /* FLEETWARDEN_DEAD_TTL s, dead jobs (default 30 d) */
    long long lease_ms;      /* FLEETWARDEN_JOB_LEASE_MS (default 30000) */
    long long reaper_ms;     /* FLEETWARDEN_REAPER_MS (default 5000) */
    long long retry_base_ms; /* FLEETWARDEN_RETRY_BASE_MS (default 1000) */
    long long retry_cap_ms;  /* FLEETWARDEN_RETRY_CAP_MS (default 300000) */
    int max_stalls;          /* FLEETWARDEN_MAX_STALLS (default 3) */
};

/* The settings, from config_get() (service/core/config.c) on first use. */
const struct jobs_settings *jobs_settings(void);

/* Enqueues a job. Lane, max attempts and uniqueness default from the
 * registered type (registry.h), if any. out_id gets the job's id; *existed
 * (may be NULL) is 1 when an existing job was returned instead: the job
 * with the caller's id (spec->id), or the active job of a unique (type,
 * resource). Returns 0, FW_EINVAL / FW_EBADJSON / FW_ETOOBIG for a bad spec
 * (a payload key naming a secret is FW_EINVAL), FW_EREDIS. The HTTP
 * Idempotency-Key is not the queue's business (routes/idempotency.h). */
int jobs_enqueue(const struct job_spec *spec, char out_id[JOB_ID_MAX], int *existed);

/* The job as API JSON (new reference in *out). 0, FW_ENOTFOUND, Redis errors. */
int jobs_get(const char *id, json_t **out);

struct jobs_filter {
    const char *state;    /* NULL = any */
    const char *type;     /* NULL = any */
    const char *resource; /* NULL = any */
};

/* A page of jobs, newest first. cursor NULL or "" starts at the newest.
 * *items is a new JSON array; next gets the next cursor ("" at the end).
 * 0, FW_EINVAL (bad state or cursor), Redis errors. */
int jobs_list(const struct jobs_filter *f, int limit, const char *cursor, json_t **items,
              char next[32]);

/* The same page as JSON text: appends "[job,...]" to items, byte for byte
 * what json_out_compact of jobs_list's array gives, without building it.
 * 0, FW_EINVAL, Redis errors, FW_ETOOBIG (items' cap). */
int jobs_list_text(const struct jobs_filter *f, int limit, const char *cursor, struct buf *items,
                   char next[32]);

/* Cancels a job. A queued, scheduled or failed (waiting) job is canceled
 * at once (*immediate = 1); a running job gets its cancel flag and stops
 * at its next step (*immediate = 0). 0, FW_ENOTFOUND, FW_ECONFLICT (already
 * finished), Redis errors. */
int jobs_cancel(const char *id, int *immediate);

/* Runs a dead, canceled or failed job again now with a fresh attempt
 * budget. 0, FW_ENOTFOUND, FW_ECONFLICT (state does not allow it, or another
 * active job holds its resource), Redis errors. */
int jobs_retry(const char *id);

/* Creates or updates a recurring schedule named name (1..64 of
 * [A-Za-z0-9._-]) that enqueues a job of type with payload every every_s
 * seconds (every_s > 0) or daily at "HH:MM" UTC (daily non-NULL). An
 * unchanged timing keeps the next due time. 0, FW_EINVAL, Redis errors. */
int jobs_schedule_upsert(const char *name, const char *type, const char *payload_json, long every_s,
                         const char *daily);
/* The same for a schedule whose jobs hold resource (NULL = none): each is
 * unique per (type, resource), and a tick while any job of (type, resource)
 * is active is skipped, as one while the previous run is. */
int jobs_schedule_upsert_for(const char *name, const char *type, const char *payload_json,
                             const char *resource, long every_s, const char *daily);

/* Removes schedule name (jobs it already enqueued run on). 0,
 * FW_ENOTFOUND, FW_EINVAL (bad name), Redis errors. */
int jobs_schedule_delete(const char *name);

/* Counters for metrics: queue depth per lane, jobs per state (index
 * sizes), delayed, running, dead, and the stats hash. 0 or Redis errors. */
struct jobs_counts {
    long long lane_depth[JOB_NLANES];
    long long by_state[7]; /* in job_state_name order */
    long long delayed, running, dead;
    long long retries, rlwaits, poison;
};
int jobs_counts(struct jobs_counts *out);
/* State name by index 0..6 (for jobs_counts.by_state). */
const char *jobs_state_name(int i);

#endif
