/*
 * retry.c - retry decisions and backoff (see retry.h for the policy).
 *
 * Pure: the random draw is an argument so tests can pin the jitter.
 */
#include "retry.h"

#include "service/core/err.h"

enum retry_action retry_decide(enum job_fail_class cls, int attempts, int max_attempts, int runs)
{
    switch (cls) {
    case JOB_FAIL_ACCESS:
    case JOB_FAIL_VALIDATION:
    case JOB_FAIL_NOTFOUND:
    case JOB_FAIL_CONFLICT:
    case JOB_FAIL_LIMIT:
    case JOB_FAIL_CREDENTIALS: return RETRY_DEAD;
    case JOB_FAIL_THROTTLED:
    case JOB_FAIL_SETTLING:
        if (runs - attempts < RETRY_FREE_MAX)
            return RETRY_FREE;
        break;
    default: break;
    }
    return attempts < max_attempts ? RETRY_COUNTED : RETRY_DEAD;
}

long long retry_backoff_ms(int n, long long base_ms, long long cap_ms, unsigned rnd)
{
    if (n < 1)
        n = 1;
    long long ceiling = base_ms;
    for (int i = 1; i < n && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    if (ceiling <= 0)
        return 0;
    return (long long)(rnd % (unsigned long long)(ceiling + 1));
}

enum job_fail_class retry_class_of(int fw_err)
{
    switch (fw_err) {
    case FW_ETHROTTLED: return JOB_FAIL_THROTTLED;
    case FW_EINVAL:
    case FW_EBADJSON:
    case FW_EUNPROCESSABLE:
    case FW_ETOOBIG: return JOB_FAIL_VALIDATION;
    case FW_ENOTFOUND: return JOB_FAIL_NOTFOUND;
    case FW_EFORBIDDEN:
    case FW_EUNAUTH: return JOB_FAIL_ACCESS;
    case FW_ECONFLICT: return JOB_FAIL_CONFLICT;
    default: return JOB_FAIL_TRANSIENT;
    }
}

const char *retry_class_name(enum job_fail_class cls)
{
    static const char *const names[] = {"none",        "throttling", "transient", "access",
                                        "validation",  "notfound",   "conflict",  "limit",
                                        "credentials", "other",      "settling"};
    unsigned i = (unsigned)cls;
    return i < sizeof names / sizeof names[0] ? names[i] : "other";
}
