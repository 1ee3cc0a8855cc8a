/*
 * fleet_settle.c - the settle times and what a settling refusal looks like.
 */
#include "fleet_settle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/core/log.h"

static long s_iam_s = 120, s_delete_s = 330;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static long env_seconds(const char *name, long dflt, long max)
{
    const char *v = getenv(name);
    char *end = 0;
    if (!v || !*v)
        return dflt;
    long x = strtol(v, &end, 10);
    if (*end || x < 0 || x > max) {
        log_msg(LOG_WARN, "%s must be 0..%ld seconds; using %ld", name, max, dflt);
        return dflt;
    }
    return x;
}

static void load(void)
{
    s_iam_s = env_seconds("FLEETWARDEN_IAM_SETTLE_S", 120, 900);
    s_delete_s = env_seconds("FLEETWARDEN_POLICY_DELETE_WAIT_S", 330, 3600);
}

long fleet_settle_iam_s(void)
{
    pthread_once(&s_once, load);
    return s_iam_s;
}

long fleet_settle_policy_delete_s(void)
{
    pthread_once(&s_once, load);
    return s_delete_s;
}

int fleet_settle_iam_refusal(const struct aws_api_error *err)
{
    if (err->cls == AWS_ERRC_ACCESS)
        return 1;
    return !strcmp(err->code, "InvalidRequestException") && strcasestr(err->message, "role") != 0;
}

int fleet_settle_within(long long since_ms, long wait_s, long long now_ms)
{
    return since_ms > 0 && now_ms - since_ms < (long long)wait_s * 1000;
}

void fleet_settle_mark(struct aws_api_error *err, const char *what)
{
    err->cls = AWS_ERRC_SETTLING;
    err->retryable = 1;
    awserr_append(err, "%s", what);
}
