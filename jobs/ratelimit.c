/*
 * ratelimit.c - the per-family rate table and blocking acquire.
 *
 * The table is read-only; FLEETWARDEN_RATE_<FAMILY> overrides were read and
 * checked at start-up (service/core/config.c) and are looked up here.
 */
#include "ratelimit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue_run.h"
#include "service/core/config.h"
#include "service/core/err.h"

/* AWS default quotas (Service Quotas / IoT Core and IAM docs), requests/s. */
const struct ratelimit_default ratelimit_defaults[] = {
    {"iot-cert-create", 10, "iot:CreateKeysAndCertificate (10), iot:CreateCertificateFromCsr (15)"},
    {"iot-cert-update", 10, "iot:UpdateCertificate, iot:DeleteCertificate"},
    {"iot-policy-attach", 15, "iot:AttachPolicy, iot:DetachPolicy"},
    {"iot-policy", 10, "iot:CreatePolicy, iot:CreatePolicyVersion, iot:DeletePolicy"},
    {"iot-template", 10, "iot:*ProvisioningTemplate*"},
    {"iot-rolealias", 10, "iot:CreateRoleAlias, iot:DescribeRoleAlias"},
    {"iot-describe", 10, "iot:DescribeEndpoint, iot:Describe*, iot:List*"},
    {"iot-thing-group", 10, "iot:DeleteThingGroup"},
    {"iam", 10, "iam:CreateRole, iam:CreatePolicy, iam:AttachRolePolicy, iam:Get*"},
    {"sts", 50, "sts:GetCallerIdentity"},
    {"iot-dataplane", 10,
     "fleet verification as a device: MQTT connect, the fleet provisioning MQTT API, the "
     "credentials provider (a conservative pick: AWS's data-plane quotas are per account and "
     "higher)"},
    {"iot-thing", 10, "iot:DeleteThing, iot:DetachThingPrincipal, iot:RemoveThingFromThingGroup"},
    {"cloudwatch", 50, "cloudwatch:GetMetricData, cloudwatch:ListMetrics"},
    {NULL, 0, NULL},
};

#define RATELIMIT_FALLBACK 10.0

void ratelimit_family_var(const char *family, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = family; *p && n + 1 < outlen; p++)
        out[n++] = (*p == '-' || *p == '.') ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

void ratelimit_lookup(const char *family, double *rate, double *burst)
{
    *rate = RATELIMIT_FALLBACK;
    for (const struct ratelimit_default *d = ratelimit_defaults; d->family; d++)
        if (strcmp(d->family, family) == 0)
            *rate = d->rate;
    *burst = *rate < 1 ? 1 : *rate;
    char name[CONFIG_RATE_FAMILY_MAX];
    ratelimit_family_var(family, name, sizeof name);
    const struct fw_config *c = config_get();
    for (int i = 0; i < c->nrates; i++) {
        if (!strcmp(c->rates[i].family, name)) {
            *rate = c->rates[i].rate;
            *burst = c->rates[i].burst;
        }
    }
}

int ratelimit_acquire(const char *family)
{
    double rate, burst;
    ratelimit_lookup(family, &rate, &burst);
    long long wait_ms = queue_rl_take(family, rate, burst);
    if (wait_ms < 0)
        return (int)wait_ms;
    if (wait_ms > 0) {
        struct timespec ts = {(time_t)(wait_ms / 1000), (long)(wait_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}
