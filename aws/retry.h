/*
 * retry.h - the AWS SDK "standard" retry mode, as pure decisions.
 *
 * What to retry is decided from the error class (awserr.c); how long to wait
 * is full-jitter exponential backoff, rand * min(20 s, 2^(attempt-1) s); how
 * many retries the client may spend is a token bucket (500 tokens, 5 per
 * retry, 10 per retried timeout, refunded on success) shared by every
 * client that holds the same struct aws_retry_quota. The random source and the
 * sleep are passed in, so tests run with no clock.
 *
 * AWS_RETRY_MODE=legacy uses no quota and 5 attempts by default;
 * "adaptive" is accepted and behaves as standard: the client-side rate
 * limiter of the SDKs' adaptive mode is not implemented here (the job
 * queue's per-operation token buckets in Redis pace all workers instead).
 */
#ifndef FW_AWS_RETRY_H
#define FW_AWS_RETRY_H

#include "aws/awserr.h"

#define AWS_RETRY_DEFAULT_MAX_ATTEMPTS 3
#define AWS_RETRY_MAX_BACKOFF_MS 20000
#define AWS_RETRY_QUOTA_INITIAL 500
#define AWS_RETRY_QUOTA_COST 5
#define AWS_RETRY_QUOTA_TIMEOUT_COST 10
#define AWS_RETRY_QUOTA_NO_RETRY_REFUND 1

enum aws_retry_mode { AWS_RETRY_MODE_STANDARD = 0, AWS_RETRY_MODE_LEGACY, AWS_RETRY_MODE_ADAPTIVE };

/* What an error allows. */
enum aws_retry_kind {
    AWS_RETRY_NONE = 0,  /* do not retry */
    AWS_RETRY_THROTTLE,  /* throttling code or HTTP 429 */
    AWS_RETRY_TRANSIENT, /* 5xx, transient code, connection error */
    AWS_RETRY_TIMEOUT    /* our own timeout: costs more quota */
};

struct aws_retry_settings {
    int max_attempts; /* total attempts, first included; >= 1 */
    enum aws_retry_mode mode;
};

/* A quota shared by clients; thread-safe. */
struct aws_retry_quota;

typedef const char *(aws_retry_getenv_fn)(const char *name, void *ud);

/* Reads AWS_MAX_ATTEMPTS (default 3) and AWS_RETRY_MODE (standard, legacy,
 * adaptive). 0, or FW_EINVAL naming a bad value in *bad_var (borrowed). */
int aws_retry_settings_from_env(struct aws_retry_settings *out, aws_retry_getenv_fn *getenv_fn,
                                void *ud, const char **bad_var);

/* Pure: what kind of retry the error allows, ignoring attempts and quota. */
enum aws_retry_kind aws_retry_classify(const struct aws_api_error *err);

/* Pure: backoff before retry number `attempt` (1 = the first retry) given a
 * uniform random number in [0, 1). */
long aws_retry_backoff_ms(int attempt, double rand01);

struct aws_retry_quota *aws_retry_quota_new(int capacity);
void aws_retry_quota_free(struct aws_retry_quota *q);
/* Takes the cost of one retry of this kind. Returns the tokens taken (> 0),
 * or 0 when the quota is exhausted (then do not retry). */
int aws_retry_quota_acquire(struct aws_retry_quota *q, enum aws_retry_kind kind);
/* After a success: returns `taken` tokens of the last retry, or the small
 * no-retry refund when taken is 0. Never above capacity. */
void aws_retry_quota_release(struct aws_retry_quota *q, int taken);
int aws_retry_quota_available(struct aws_retry_quota *q);

/* The whole decision after a failed attempt (1-based): 1 to retry, with the
 * quota tokens taken in *taken; 0 to give up. mode LEGACY uses no quota. */
int aws_retry_should(const struct aws_retry_settings *s, struct aws_retry_quota *q, int attempt,
                     const struct aws_api_error *err, int *taken);

#endif
