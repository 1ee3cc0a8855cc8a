/*
 * endpoint_test.c - aws/endpoint.c: hosts and signing scopes per partition,
 * environment overrides and their validation, region shapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "aws/endpoint.h"
#include "service/core/err.h"

/* A fake environment: NULL-terminated name/value pairs. */
static const char *fake_getenv(const char *name, void *ud)
{
    const char *const *kv = ud;
    for (; kv && kv[0]; kv += 2) {
        if (!strcmp(kv[0], name))
            return kv[1];
    }
    return NULL;
}

struct row {
    enum aws_service svc;
    const char *region;
    const char *url;
    const char *host;
    const char *signing_region;
    const char *signing_name;
    const char *partition;
};

static const struct row s_rows[] = {
    {AWS_SVC_IOT, "eu-west-1", "https://iot.eu-west-1.amazonaws.com", "iot.eu-west-1.amazonaws.com",
     "eu-west-1", "iot", "aws"},
    {AWS_SVC_IOT, "cn-north-1", "https://iot.cn-north-1.amazonaws.com.cn",
     "iot.cn-north-1.amazonaws.com.cn", "cn-north-1", "iot", "aws-cn"},
    {AWS_SVC_IOT, "us-gov-west-1", "https://iot.us-gov-west-1.amazonaws.com",
     "iot.us-gov-west-1.amazonaws.com", "us-gov-west-1", "iot", "aws-us-gov"},
    {AWS_SVC_IAM, "eu-west-1", "https://iam.amazonaws.com", "iam.amazonaws.com", "us-east-1", "iam",
     "aws"},
    {AWS_SVC_IAM, "cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn",
     "iam.cn-north-1.amazonaws.com.cn", "cn-north-1", "iam", "aws-cn"},
    {AWS_SVC_IAM, "us-gov-east-1", "https://iam.us-gov.amazonaws.com", "iam.us-gov.amazonaws.com",
     "us-gov-west-1", "iam", "aws-us-gov"},
    {AWS_SVC_STS, "eu-central-1", "https://sts.eu-central-1.amazonaws.com",
     "sts.eu-central-1.amazonaws.com", "eu-central-1", "sts", "aws"},
    {AWS_SVC_STS, "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn",
     "sts.cn-north-1.amazonaws.com.cn", "cn-north-1", "sts", "aws-cn"},
    {AWS_SVC_CLOUDWATCH, "ap-southeast-2", "https://monitoring.ap-southeast-2.amazonaws.com",
     "monitoring.ap-southeast-2.amazonaws.com", "ap-southeast-2", "monitoring", "aws"},
    {AWS_SVC_CLOUDWATCH, "us-gov-west-1", "https://monitoring.us-gov-west-1.amazonaws.com",
     "monitoring.us-gov-west-1.amazonaws.com", "us-gov-west-1", "monitoring", "aws-us-gov"},
};

static void check_row(const struct row *r, const struct aws_endpoint *ep)
{
    assert_string_equal(ep->url, r->url);
    assert_string_equal(ep->host, r->host);
    assert_string_equal(ep->signing_region, r->signing_region);
    assert_string_equal(ep->signing_name, r->signing_name);
    assert_string_equal(ep->partition, r->partition);
}

static void test_partitions(void **state)
{
    (void)state;
    const char *empty[] = {NULL};
    for (size_t i = 0; i < sizeof(s_rows) / sizeof(s_rows[0]); i++) {
        struct aws_endpoint ep;
        assert_int_equal(
            endpoint_resolve(s_rows[i].svc, s_rows[i].region, fake_getenv, (void *)empty, &ep), 0);
        check_row(&s_rows[i], &ep);
    }
}

static void test_sts_legacy(void **state)
{
    (void)state;
    const char *legacy[] = {"AWS_STS_REGIONAL_ENDPOINTS", "legacy", NULL};
    struct aws_endpoint ep;
    assert_int_equal(endpoint_resolve(AWS_SVC_STS, "eu-west-1", fake_getenv, (void *)legacy, &ep),
                     0);
    assert_string_equal(ep.host, "sts.amazonaws.com");
    assert_string_equal(ep.signing_region, "us-east-1");
    /* Regions newer than the legacy list stay regional. */
    assert_int_equal(endpoint_resolve(AWS_SVC_STS, "ap-east-1", fake_getenv, (void *)legacy, &ep),
                     0);
    assert_string_equal(ep.host, "sts.ap-east-1.amazonaws.com");
}

static void test_overrides(void **state)
{
    (void)state;
    const char *envs[] = {"AWS_ENDPOINT_URL", "http://127.0.0.1:4566/", "AWS_ENDPOINT_URL_IAM",
                          "https://iam.local:443", NULL};
    struct aws_endpoint ep;
    assert_int_equal(endpoint_resolve(AWS_SVC_IOT, "eu-west-1", fake_getenv, (void *)envs, &ep), 0);
    assert_string_equal(ep.url, "http://127.0.0.1:4566");
    assert_string_equal(ep.host, "127.0.0.1:4566");
    assert_string_equal(ep.signing_region, "eu-west-1"); /* the scope does not move */
    assert_string_equal(ep.signing_name, "iot");
    assert_int_equal(endpoint_resolve(AWS_SVC_IAM, "eu-west-1", fake_getenv, (void *)envs, &ep), 0);
    assert_string_equal(ep.url, "https://iam.local:443");
    assert_string_equal(ep.host, "iam.local"); /* default port: not in Host */
    assert_string_equal(ep.signing_region, "us-east-1");
    const char *ignore[] = {"AWS_ENDPOINT_URL", "http://127.0.0.1:4566",
                            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", NULL};
    assert_int_equal(endpoint_resolve(AWS_SVC_STS, "us-east-1", fake_getenv, (void *)ignore, &ep),
                     0);
    assert_string_equal(ep.host, "sts.us-east-1.amazonaws.com");
}

static void test_bad_overrides(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "ftp://x",           "http://",         "http://user:pw@host", "http://host:0",
        "http://host:65536", "http://host:abc", "http://host/path",    "http://host?x=1",
        "http://host#f",     "host:80",         "http://ho st",        "https://[::1",
        "http://host:",      "javascript:x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *envs[] = {"AWS_ENDPOINT_URL_CLOUDWATCH", bad[i], NULL};
        struct aws_endpoint ep;
        if (endpoint_resolve(AWS_SVC_CLOUDWATCH, "us-east-1", fake_getenv, (void *)envs, &ep) !=
            FW_EINVAL)
            fail_msg("override %s was accepted", bad[i]);
        assert_string_equal(ep.url, "");
    }
    char url[512], host[256];
    assert_int_equal(endpoint_parse_url("http://[::1]:8080", url, host), 0);
    assert_string_equal(host, "[::1]:8080");
}

static void test_regions(void **state)
{
    (void)state;
    static const char *const good[] = {"us-east-1",      "eu-central-2",  "cn-north-1",
                                       "cn-northwest-1", "us-gov-west-1", "ap-southeast-5",
                                       "il-central-1"};
    static const char *const bad[] = {"",          "us-east",    "US-EAST-1", "us-east-1a",
                                      "useast-1",  "us--east-1", "u-east-1",  "us-east-1/../x",
                                      "us.east-1", "us-gov-1"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(endpoint_region_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (endpoint_region_valid(bad[i]))
            fail_msg("region %s was accepted", bad[i]);
    }
    struct aws_endpoint ep;
    assert_int_equal(endpoint_resolve(AWS_SVC_IOT, NULL, NULL, NULL, &ep), FW_EINVAL);
    assert_int_equal(endpoint_resolve(AWS_SVC_COUNT_, "us-east-1", NULL, NULL, &ep), FW_EINVAL);
    assert_string_equal(endpoint_service_name(AWS_SVC_CLOUDWATCH), "cloudwatch");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partitions), cmocka_unit_test(test_sts_legacy),
        cmocka_unit_test(test_overrides),  cmocka_unit_test(test_bad_overrides),
        cmocka_unit_test(test_regions),
    };
    return cmocka_run_group_tests_name("aws-endpoint", tests, NULL, NULL);
}
