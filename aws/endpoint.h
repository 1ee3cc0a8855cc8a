/*
 * endpoint.h - service + region -> URL and signing scope.
 *
 * Partitions: aws (amazonaws.com), aws-cn (cn-* regions, amazonaws.com.cn)
 * and aws-us-gov (us-gov-* regions). Per service:
 *   iot         iot.REGION.DOMAIN, signing name iot (AWS also accepts the
 *               legacy execute-api), signed REGION
 *   iam         global: iam.amazonaws.com signed us-east-1;
 *               iam.cn-north-1.amazonaws.com.cn signed cn-north-1;
 *               iam.us-gov.amazonaws.com signed us-gov-west-1
 *   sts         regional, sts.REGION.DOMAIN signed REGION: the current
 *               default of the AWS SDKs (botocore and the SDK "regional"
 *               setting). AWS_STS_REGIONAL_ENDPOINTS=legacy gives the old
 *               global sts.amazonaws.com (signed us-east-1) for the regions
 *               that had it.
 *   cloudwatch  monitoring.REGION.DOMAIN, signing name monitoring
 * Overrides: AWS_ENDPOINT_URL_<IOT|IAM|STS|CLOUDWATCH>, then
 * AWS_ENDPOINT_URL, replace the URL and Host only: the signing region and
 * name stay as computed. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns
 * overrides off. An override must be http(s)://host[:port][/] with no
 * user info, path, query or fragment.
 *
 * Thread-safe and allocation-free; the environment is read through
 * getenv_fn only.
 */
#ifndef FW_AWS_ENDPOINT_H
#define FW_AWS_ENDPOINT_H

enum aws_service { AWS_SVC_IOT = 0, AWS_SVC_IAM, AWS_SVC_STS, AWS_SVC_CLOUDWATCH, AWS_SVC_COUNT_ };

struct aws_endpoint {
    char url[512];  /* scheme://host[:port], no trailing slash */
    char host[256]; /* the Host header to sign (":port" only when not the scheme's default) */
    char signing_region[32];
    char signing_name[32]; /* "iot", "iam", "sts", "monitoring" */
    char partition[16];    /* "aws", "aws-cn", "aws-us-gov" */
};

typedef const char *(endpoint_getenv_fn)(const char *name, void *ud);

/*
 * Resolves svc in region into out. getenv_fn NULL means getenv(3).
 * Returns 0, or FW_EINVAL for an unknown service, a region that is not of
 * the shape xx[-gov]-name-N, or a bad override URL (out is then zeroed).
 */
int endpoint_resolve(enum aws_service svc, const char *region, endpoint_getenv_fn *getenv_fn,
                     void *ud, struct aws_endpoint *out);

/* "iot", "iam", "sts", "cloudwatch"; "" for an unknown value. */
const char *endpoint_service_name(enum aws_service svc);

/* 1 when region has the shape of an AWS region (us-east-1, cn-north-1, us-gov-west-1). */
int endpoint_region_valid(const char *region);

/*
 * Checks an endpoint URL and splits it: *url gets scheme://host[:port]
 * without a trailing slash, *host the Host header value. 0 or FW_EINVAL.
 */
int endpoint_parse_url(const char *in, char url[512], char host[256]);

#endif
