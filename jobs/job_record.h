/*
 * job_record.h - the job hash as it is stored in Redis (P job:ID), and its
 * expansion into the named fields the renderers read (job_render, job_text).
 *
 * Every finished job is kept until its TTL, so the stored record is made
 * small: one- or two-letter field names, a field at its default value is
 * not stored, the state is one digit, and the start and finish times are
 * ms after the creation time. The scripts (jobs/lua/) write this table;
 * job_record_expand is the one reader.
 *
 *   field  named field (JOB_REC_*)   stored
 *   t      type                      always
 *   s      state                     always, as a digit: 0 queued 1 scheduled 2 running
 *                                    3 succeeded 4 failed 5 dead 6 canceled
 *   q      seq                       always: creation sequence, the score in the indexes
 *   c      created                   always: epoch ms (Redis time)
 *   m      max                       always: max attempts
 *   l      lane                      when not "default"
 *   p      payload                   when not "{}"
 *   a      attempts                  when not 0 (counted attempts)
 *   n      runs                      when not 0 (every start)
 *   k      stalls                    when not 0
 *   R      resource                  when there is one
 *   u      uniq                      "1" for a type unique per resource
 *   S      sched                     the schedule that made the job
 *   x      cancel                    "1" once cancel was requested
 *   b      started                   ms after c, once started
 *   f      finished                  ms after c, once finished
 *   N      next                      epoch ms of the next run, while waiting
 *   r      result                    JSON, once succeeded
 *   e      errors                    JSON array of the last errors
 *   w      reason                    why it is dead
 *   T L W  token, lease, worker      while running (fencing token, lease deadline ms)
 *   rp     rlpaid                    "1" while it holds a rate-limit token
 *   rw     rlwait                    the rate-limit family it waits for, unreserved
 *   pd pt ps  pdone ptotal pstep     progress
 *   s:NAME s:NAME                    a finished step's result JSON (kept as it is)
 *
 * Pure (no Redis, no clock); unit-tested in tests/unit/jobs/job_record_test.c.
 */
#ifndef FW_JOBS_JOB_RECORD_H
#define FW_JOBS_JOB_RECORD_H

#include <stddef.h>

/* The state digit of a state name ('0'..'6'), or 0 for an unknown name. */
char job_record_state_code(const char *name);
/* The state name of a stored digit, or NULL. */
const char *job_record_state_name(const char *code);

#define JOB_RECORD_MAX_FIELDS 256 /* named fields incl. steps; more steps are left out */

/* The named fields of one stored job, as alternating names and values for
 * job_render / job_render_text. Values point into the stored reply or into
 * this struct, so it lives no longer than the reply it was made from. */
struct job_fields {
    const char *kv[2 * JOB_RECORD_MAX_FIELDS];
    size_t n; /* entries used in kv (names + values) */
    char started[24], finished[24];
};

/* Expands the stored fields (alternating short names and values, as
 * HGETALL answers) of job id into out: long names, defaults filled in,
 * state names, absolute times. 0, or -1 when the record has no state (a
 * hash that is not a job, or was half-written by an older layout). */
int job_record_expand(const char *id, const char *const *stored, size_t nstored,
                      struct job_fields *out);

#endif
