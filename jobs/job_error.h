/*
 * job_error.h - why a job attempt failed, in the job runtime's own terms.
 *
 * The runtime knows nothing of AWS: a handler describes its failure with a
 * struct job_error, whose class decides retry or dead (retry.h), and the
 * rest is shown in the job's error list. Handlers map their dependency's
 * errors onto it (AWS errors: jobs/handlers/awsctx.h).
 */
#ifndef FW_JOBS_JOB_ERROR_H
#define FW_JOBS_JOB_ERROR_H

enum job_fail_class {
    JOB_FAIL_NONE = 0,
    JOB_FAIL_THROTTLED,   /* "throttling": retried; does not use up an attempt */
    JOB_FAIL_TRANSIENT,   /* "transient": retried with backoff */
    JOB_FAIL_ACCESS,      /* "access": dead at once */
    JOB_FAIL_VALIDATION,  /* "validation": dead at once */
    JOB_FAIL_NOTFOUND,    /* "notfound": dead at once */
    JOB_FAIL_CONFLICT,    /* "conflict": dead at once */
    JOB_FAIL_LIMIT,       /* "limit": dead at once */
    JOB_FAIL_CREDENTIALS, /* "credentials": dead at once */
    JOB_FAIL_OTHER,       /* "other": retried with backoff */
    JOB_FAIL_SETTLING     /* "settling": a dependency has not caught up with a change the job
                           * made (IAM eventual consistency, a policy detached moments ago):
                           * retried like a throttle, without using up an attempt */
};

struct job_error {
    enum job_fail_class cls;
    int unreachable; /* the peer gave no answer at all (no connection): the attempt waits
                      * like a throttled one instead of using up an attempt */
    int http_status; /* the peer's HTTP status, 0 when none */
    char code[64];   /* the peer's error code, e.g. "AccessDenied" */
    char message[512];
    char request_id[64]; /* the peer's request id, when it gave one */
    char operation[64];  /* e.g. "iot:CreateRoleAlias" */
};

#endif
