/*
 * fleet_settle.c - the settle times and what a settling refusal looks like.
 */
#include "fleet_settle.h"

#include <string.h>
#include <strings.h>

#include "service/core/config.h"

long fleet_settle_iam_s(void)
{
    return config_get()->iam_settle_s;
}

long fleet_settle_policy_delete_s(void)
{
    return config_get()->policy_delete_wait_s;
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
