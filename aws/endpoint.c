/*
 * endpoint.c - where each AWS service lives, per region and partition.
 *
 * The rules are a small table (see endpoint.h): every supported service
 * is either regional (HOST_PREFIX.REGION.DOMAIN, signed for the region) or
 * global per partition (one host, signed for the partition's home region).
 * Region strings come from configuration, so they are checked for the
 * shape of a real region before they become part of a host name. Override
 * URLs from the environment are parsed strictly: they end up in the Host
 * header we sign and in the URL curl connects to.
 */
#include "aws/endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/core/err.h"

struct partition {
    const char *name;
    const char *domain;
    const char *iam_host;   /* the global IAM endpoint */
    const char *iam_region; /* and the region it is signed for */
};

static const struct partition s_partitions[] = {
    {"aws", "amazonaws.com", "iam.amazonaws.com", "us-east-1"},
    {"aws-cn", "amazonaws.com.cn", "iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
    {"aws-us-gov", "amazonaws.com", "iam.us-gov.amazonaws.com", "us-gov-west-1"},
};

struct service_rule {
    const char *name;        /* endpoint_service_name() */
    const char *env_suffix;  /* AWS_ENDPOINT_URL_<suffix> */
    const char *host_prefix; /* regional hosts: PREFIX.REGION.DOMAIN */
    const char *signing_name;
};

static const struct service_rule s_services[AWS_SVC_COUNT_] = {
    /* "iot" is the signing name of AWS's current IoT model; "execute-api",
     * that of older models, is still accepted by AWS. */
    [AWS_SVC_IOT] = {"iot", "IOT", "iot", "iot"},
    [AWS_SVC_IAM] = {"iam", "IAM", NULL, "iam"},
    [AWS_SVC_STS] = {"sts", "STS", "sts", "sts"},
    [AWS_SVC_CLOUDWATCH] = {"cloudwatch", "CLOUDWATCH", "monitoring", "monitoring"},
};

/* Regions that used the global STS endpoint under the "legacy" setting. */
static const char *const s_sts_legacy_regions[] = {
    "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1",
    "eu-central-1",   "eu-north-1", "eu-west-1",      "eu-west-2",      "eu-west-3",
    "sa-east-1",      "us-east-1",  "us-east-2",      "us-west-1",      "us-west-2",
};

const char *endpoint_service_name(enum aws_service svc)
{
    if ((unsigned)svc >= AWS_SVC_COUNT_)
        return "";
    return s_services[svc].name;
}

static const char *span(const char *s, int (*ok)(int), size_t *n)
{
    *n = 0;
    while (s[*n] && ok((unsigned char)s[*n]))
        (*n)++;
    return s + *n;
}

static int is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* ^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$ (cn-north-1 and cn-northwest-1 included). */
int endpoint_region_valid(const char *region)
{
    size_t n = 0;
    if (!region || strlen(region) > 31)
        return 0;
    const char *s = span(region, is_lower, &n);
    if (n != 2 || *s != '-')
        return 0;
    if (!strncmp(s, "-gov-", 5))
        s += 4;
    s = span(s + 1, is_lower, &n);
    if (n == 0 || *s != '-')
        return 0;
    s = span(s + 1, is_digit, &n);
    return n > 0 && n <= 3 && *s == '\0';
}

static const struct partition *partition_of(const char *region)
{
    if (!strncmp(region, "cn-", 3))
        return &s_partitions[1];
    if (!strncmp(region, "us-gov-", 7))
        return &s_partitions[2];
    return &s_partitions[0];
}

static const char *env(endpoint_getenv_fn *getenv_fn, void *ud, const char *name)
{
    const char *v = getenv_fn ? getenv_fn(name, ud) : getenv(name);
    return v && *v ? v : NULL;
}

static int sts_legacy_global(const char *region, endpoint_getenv_fn *getenv_fn, void *ud)
{
    const char *mode = env(getenv_fn, ud, "AWS_STS_REGIONAL_ENDPOINTS");
    if (!mode || strcasecmp(mode, "legacy") != 0)
        return 0;
    for (size_t i = 0; i < sizeof(s_sts_legacy_regions) / sizeof(s_sts_legacy_regions[0]); i++) {
        if (!strcmp(region, s_sts_legacy_regions[i]))
            return 1;
    }
    return 0;
}

/* Fills host and signing region from the table (no override). */
static void resolve_default(enum aws_service svc, const char *region, const struct partition *part,
                            endpoint_getenv_fn *getenv_fn, void *ud, struct aws_endpoint *out)
{
    const struct service_rule *r = &s_services[svc];
    const char *sign_region = region;
    if (svc == AWS_SVC_IAM) {
        snprintf(out->host, sizeof(out->host), "%s", part->iam_host);
        sign_region = part->iam_region;
    } else if (svc == AWS_SVC_STS && sts_legacy_global(region, getenv_fn, ud)) {
        snprintf(out->host, sizeof(out->host), "sts.amazonaws.com");
        sign_region = "us-east-1";
    } else {
        snprintf(out->host, sizeof(out->host), "%s.%s.%s", r->host_prefix, region, part->domain);
    }
    snprintf(out->url, sizeof(out->url), "https://%s", out->host);
    snprintf(out->signing_region, sizeof(out->signing_region), "%s", sign_region);
}

static const char *override_url(enum aws_service svc, endpoint_getenv_fn *getenv_fn, void *ud)
{
    const char *ignore = env(getenv_fn, ud, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    char name[64];
    if (ignore && !strcasecmp(ignore, "true"))
        return NULL;
    snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", s_services[svc].env_suffix);
    const char *v = env(getenv_fn, ud, name);
    return v ? v : env(getenv_fn, ud, "AWS_ENDPOINT_URL");
}

int endpoint_resolve(enum aws_service svc, const char *region, endpoint_getenv_fn *getenv_fn,
                     void *ud, struct aws_endpoint *out)
{
    memset(out, 0, sizeof(*out));
    if ((unsigned)svc >= AWS_SVC_COUNT_ || !endpoint_region_valid(region))
        return FW_EINVAL;
    const struct partition *part = partition_of(region);
    resolve_default(svc, region, part, getenv_fn, ud, out);
    snprintf(out->signing_name, sizeof(out->signing_name), "%s", s_services[svc].signing_name);
    snprintf(out->partition, sizeof(out->partition), "%s", part->name);
    const char *url = override_url(svc, getenv_fn, ud);
    if (url && endpoint_parse_url(url, out->url, out->host) != 0) {
        memset(out, 0, sizeof(*out));
        return FW_EINVAL;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Override URLs.                                                      */

static int is_host_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
           c == '-' || c == '_';
}

static int is_ipv6_char(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* Host part: a name or [IPv6]; returns the end or NULL. */
static const char *parse_host(const char *s)
{
    size_t n = 0;
    if (*s == '[') {
        const char *e = span(s + 1, is_ipv6_char, &n);
        return n > 0 && *e == ']' ? e + 1 : NULL;
    }
    const char *e = span(s, is_host_char, &n);
    return n > 0 ? e : NULL;
}

/* Optional ":port"; returns the end or NULL, *port 0 when absent. */
static const char *parse_port(const char *s, long *port)
{
    size_t n = 0;
    *port = 0;
    if (*s != ':')
        return s;
    const char *e = span(s + 1, is_digit, &n);
    if (n == 0 || n > 5)
        return NULL;
    *port = strtol(s + 1, NULL, 10);
    return *port >= 1 && *port <= 65535 ? e : NULL;
}

int endpoint_parse_url(const char *in, char url[512], char host[256])
{
    int https = !strncasecmp(in, "https://", 8);
    if (!https && strncasecmp(in, "http://", 7) != 0)
        return FW_EINVAL;
    const char *h = in + (https ? 8 : 7);
    const char *he = parse_host(h);
    long port = 0;
    const char *pe = he ? parse_port(he, &port) : NULL;
    /* What follows may only be one slash: no user info, path, query, fragment. */
    if (!pe || (*pe && strcmp(pe, "/") != 0))
        return FW_EINVAL;
    size_t hlen = (size_t)(he - h), alen = (size_t)(pe - h);
    long default_port = https ? 443 : 80;
    if (alen >= 200)
        return FW_EINVAL;
    snprintf(url, 512, "%s://%.*s", https ? "https" : "http", (int)alen, h);
    if (port && port != default_port)
        snprintf(host, 256, "%.*s", (int)alen, h);
    else
        snprintf(host, 256, "%.*s", (int)hlen, h);
    return 0;
}
