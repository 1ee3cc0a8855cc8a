/*
 * retry.h - what to do with a failed attempt, and when to try again.
 * Pure functions, unit-tested.
 *
 * Policy by failure class (job_error.h; handlers map AWS errors onto it):
 * throttling, transient (5xx, timeouts, connection errors) and unknown
 * failures are retried;
 * throttling and settling (a dependency catching up with a change the job
 * made) do not use up an attempt (up to RETRY_FREE_MAX of them together,
 * so a permanently throttled job still ends); access, validation,
 * not-found, conflict, limit and credential errors go dead at once.
 * Backoff is capped exponential with full jitter: a uniform draw in
 * [0, min(cap, base * 2^n)].
 */
#ifndef FW_JOBS_RETRY_H
#define FW_JOBS_RETRY_H

#include "jobs/job_error.h"

#define RETRY_FREE_MAX 50

enum retry_action { RETRY_DEAD = 0, RETRY_COUNTED, RETRY_FREE };

/* Decides for a failure of class cls. attempts counts this attempt;
 * runs counts every start (throttled ones too). */
enum retry_action retry_decide(enum job_fail_class cls, int attempts, int max_attempts, int runs);

/* Backoff before retry number n (n >= 1) in ms: a uniform draw from
 * [0, min(cap_ms, base_ms * 2^(n-1))] using rnd (any 32-bit random). */
long long retry_backoff_ms(int n, long long base_ms, long long cap_ms, unsigned rnd);

/* The class a handler's bare return code implies when it set no error:
 * FW_ETHROTTLED -> throttling; FW_EINVAL/FW_EBADJSON/FW_EUNPROCESSABLE ->
 * validation; FW_ENOTFOUND -> not found; FW_EFORBIDDEN/FW_EUNAUTH -> access;
 * FW_ECONFLICT -> conflict; anything else -> transient. */
enum job_fail_class retry_class_of(int fw_err);

/* "throttling", "transient", "access", ...; never NULL. */
const char *retry_class_name(enum job_fail_class cls);

#endif
