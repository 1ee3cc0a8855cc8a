/*
 * retry.c - standard-mode retry decisions, backoff and the shared quota.
 *
 * Mirrors botocore's retries/standard.py so that our behaviour under
 * throttling matches what operators know from the AWS CLI: max attempts 3
 * by default, full jitter, a 500-token quota per client family that stops
 * retry storms when a service is down. Only the quota has state; it is
 * guarded by its own mutex because worker threads share it.
 */
#include "aws/retry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/mem.h"

struct aws_retry_quota {
    pthread_mutex_t lock;
    int capacity;
    int available; /* protected by lock */
};

static int parse_attempts(const char *s, int *out)
{
    char *end = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 100)
        return FW_EINVAL;
    *out = (int)v;
    return 0;
}

static int parse_mode(const char *s, enum aws_retry_mode *out)
{
    if (strcmp(s, "standard") == 0)
        *out = AWS_RETRY_MODE_STANDARD;
    else if (strcmp(s, "legacy") == 0)
        *out = AWS_RETRY_MODE_LEGACY;
    else if (strcmp(s, "adaptive") == 0)
        *out = AWS_RETRY_MODE_ADAPTIVE;
    else
        return FW_EINVAL;
    return 0;
}

static const char *env(aws_retry_getenv_fn *fn, void *ud, const char *name)
{
    const char *v = fn ? fn(name, ud) : getenv(name);
    return (v && *v) ? v : 0;
}

int aws_retry_settings_from_env(struct aws_retry_settings *out, aws_retry_getenv_fn *getenv_fn,
                                void *ud, const char **bad_var)
{
    out->mode = AWS_RETRY_MODE_STANDARD;
    const char *mode = env(getenv_fn, ud, "AWS_RETRY_MODE");
    if (mode && parse_mode(mode, &out->mode)) {
        if (bad_var)
            *bad_var = "AWS_RETRY_MODE";
        return FW_EINVAL;
    }
    /* botocore's legacy mode makes 5 attempts unless told otherwise. */
    out->max_attempts = out->mode == AWS_RETRY_MODE_LEGACY ? 5 : AWS_RETRY_DEFAULT_MAX_ATTEMPTS;
    const char *attempts = env(getenv_fn, ud, "AWS_MAX_ATTEMPTS");
    if (attempts && parse_attempts(attempts, &out->max_attempts)) {
        if (bad_var)
            *bad_var = "AWS_MAX_ATTEMPTS";
        return FW_EINVAL;
    }
    return 0;
}

enum aws_retry_kind aws_retry_classify(const struct aws_api_error *err)
{
    if (!err)
        return AWS_RETRY_NONE;
    switch (err->cls) {
    case AWS_ERRC_THROTTLING: return AWS_RETRY_THROTTLE;
    case AWS_ERRC_TRANSIENT:
        return strcmp(err->code, AWSERR_TIMEOUT) == 0 ? AWS_RETRY_TIMEOUT : AWS_RETRY_TRANSIENT;
    default: return AWS_RETRY_NONE;
    }
}

long aws_retry_backoff_ms(int attempt, double rand01)
{
    if (attempt < 1)
        attempt = 1;
    if (rand01 < 0)
        rand01 = 0;
    if (rand01 >= 1)
        rand01 = 0.999999;
    long ceiling_ms = AWS_RETRY_MAX_BACKOFF_MS;
    if (attempt <= 15) {
        long exp_ms = 1000L << (attempt - 1);
        if (exp_ms < ceiling_ms)
            ceiling_ms = exp_ms;
    }
    return (long)(rand01 * (double)ceiling_ms);
}

struct aws_retry_quota *aws_retry_quota_new(int capacity)
{
    struct aws_retry_quota *q = xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    q->capacity = capacity > 0 ? capacity : AWS_RETRY_QUOTA_INITIAL;
    q->available = q->capacity;
    return q;
}

void aws_retry_quota_free(struct aws_retry_quota *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    free(q);
}

int aws_retry_quota_acquire(struct aws_retry_quota *q, enum aws_retry_kind kind)
{
    int cost = kind == AWS_RETRY_TIMEOUT ? AWS_RETRY_QUOTA_TIMEOUT_COST : AWS_RETRY_QUOTA_COST;
    int taken = 0;
    pthread_mutex_lock(&q->lock);
    if (q->available >= cost) {
        q->available -= cost;
        taken = cost;
    }
    pthread_mutex_unlock(&q->lock);
    return taken;
}

void aws_retry_quota_release(struct aws_retry_quota *q, int taken)
{
    int refund = taken > 0 ? taken : AWS_RETRY_QUOTA_NO_RETRY_REFUND;
    pthread_mutex_lock(&q->lock);
    q->available += refund;
    if (q->available > q->capacity)
        q->available = q->capacity;
    pthread_mutex_unlock(&q->lock);
}

int aws_retry_quota_available(struct aws_retry_quota *q)
{
    pthread_mutex_lock(&q->lock);
    int n = q->available;
    pthread_mutex_unlock(&q->lock);
    return n;
}

int aws_retry_should(const struct aws_retry_settings *s, struct aws_retry_quota *q, int attempt,
                     const struct aws_api_error *err, int *taken)
{
    *taken = 0;
    enum aws_retry_kind kind = aws_retry_classify(err);
    if (kind == AWS_RETRY_NONE || attempt >= s->max_attempts)
        return 0;
    if (s->mode == AWS_RETRY_MODE_LEGACY || !q)
        return 1;
    *taken = aws_retry_quota_acquire(q, kind);
    return *taken > 0;
}
