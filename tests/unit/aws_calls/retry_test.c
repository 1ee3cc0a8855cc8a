/*
 * retry_test.c - the standard retry mode's decisions, one row per error class.
 *
 * retry_classify and aws_retry_backoff_ms are pure; the quota is tested
 * through its public calls. Nothing here sleeps or reads the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aws/retry.h"
#include "service/core/err.h"

struct decision_case {
    const char *code;
    int status;
    enum aws_retry_kind kind;
};

static const struct decision_case s_cases[] = {
    /* throttling, by code whatever the status */
    {"Throttling", 400, AWS_RETRY_THROTTLE},
    {"ThrottlingException", 400, AWS_RETRY_THROTTLE}, /* IoT: 400, not 429 */
    {"ThrottledException", 400, AWS_RETRY_THROTTLE},
    {"RequestThrottledException", 400, AWS_RETRY_THROTTLE},
    {"TooManyRequestsException", 400, AWS_RETRY_THROTTLE},
    {"ProvisionedThroughputExceededException", 400, AWS_RETRY_THROTTLE},
    {"TransactionInProgressException", 400, AWS_RETRY_THROTTLE},
    {"RequestLimitExceeded", 400, AWS_RETRY_THROTTLE},
    {"BandwidthLimitExceeded", 400, AWS_RETRY_THROTTLE},
    {"RequestThrottled", 400, AWS_RETRY_THROTTLE},
    {"SlowDown", 503, AWS_RETRY_THROTTLE},
    {"PriorRequestNotComplete", 400, AWS_RETRY_THROTTLE},
    {"EC2ThrottledException", 400, AWS_RETRY_THROTTLE},
    {"Http429", 429, AWS_RETRY_THROTTLE},
    /* transient codes */
    {"RequestTimeout", 400, AWS_RETRY_TRANSIENT},
    {"RequestTimeoutException", 400, AWS_RETRY_TRANSIENT},
    {"InternalError", 500, AWS_RETRY_TRANSIENT},
    {"InternalFailure", 500, AWS_RETRY_TRANSIENT},
    {"InternalFailureException", 500, AWS_RETRY_TRANSIENT},
    {"ServiceUnavailable", 503, AWS_RETRY_TRANSIENT},
    {"ServiceUnavailableException", 503, AWS_RETRY_TRANSIENT},
    /* 5xx with unknown codes */
    {"Http500", 500, AWS_RETRY_TRANSIENT},
    {"Http502", 502, AWS_RETRY_TRANSIENT},
    {"Http503", 503, AWS_RETRY_TRANSIENT},
    {"Http504", 504, AWS_RETRY_TRANSIENT},
    {"WeirdServerThing", 500, AWS_RETRY_TRANSIENT},
    {"Http501", 501, AWS_RETRY_NONE},
    /* our own failures */
    {AWSERR_CONNECTION, 0, AWS_RETRY_TRANSIENT},
    {AWSERR_TIMEOUT, 0, AWS_RETRY_TIMEOUT},
    {AWSERR_TOO_LARGE, 200, AWS_RETRY_NONE},
    {AWSERR_MALFORMED, 200, AWS_RETRY_NONE},
    {AWSERR_TLS, 0, AWS_RETRY_NONE},
    /* never retried: other 4xx */
    {"AccessDenied", 403, AWS_RETRY_NONE},
    {"AccessDeniedException", 403, AWS_RETRY_NONE},
    {"UnauthorizedException", 401, AWS_RETRY_NONE},
    {"InvalidClientTokenId", 403, AWS_RETRY_NONE},
    {"SignatureDoesNotMatch", 403, AWS_RETRY_NONE},
    {"ExpiredToken", 400, AWS_RETRY_NONE},
    {"NoSuchEntity", 404, AWS_RETRY_NONE},
    {"ResourceNotFoundException", 404, AWS_RETRY_NONE},
    {"EntityAlreadyExists", 409, AWS_RETRY_NONE},
    {"ResourceAlreadyExistsException", 409, AWS_RETRY_NONE},
    {"DeleteConflict", 409, AWS_RETRY_NONE},
    {"DeleteConflictException", 409, AWS_RETRY_NONE},
    {"CertificateStateException", 406, AWS_RETRY_NONE},
    {"VersionsLimitExceededException", 409, AWS_RETRY_NONE},
    {"LimitExceeded", 409, AWS_RETRY_NONE},
    {"LimitExceededException", 410, AWS_RETRY_NONE}, /* a quota for IAM/IoT/CloudWatch */
    {"ValidationError", 400, AWS_RETRY_NONE},
    {"InvalidRequestException", 400, AWS_RETRY_NONE},
    {"MalformedPolicyDocument", 400, AWS_RETRY_NONE},
    {"Http400", 400, AWS_RETRY_NONE},
    {"Http404", 404, AWS_RETRY_NONE},
};

static void test_classify_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        struct aws_api_error e = {0};
        awserr_set(&e, s_cases[i].status, s_cases[i].code, "x");
        print_message("%s/%d -> %d\n", s_cases[i].code, s_cases[i].status,
                      (int)aws_retry_classify(&e));
        assert_int_equal(aws_retry_classify(&e), s_cases[i].kind);
        assert_int_equal(e.retryable, s_cases[i].kind != AWS_RETRY_NONE);
    }
    assert_int_equal(aws_retry_classify(NULL), AWS_RETRY_NONE);
}

static void test_backoff(void **state)
{
    (void)state;
    /* full jitter: rand * min(20 s, 2^(attempt-1) s) */
    assert_int_equal(aws_retry_backoff_ms(1, 0.0), 0);
    assert_int_equal(aws_retry_backoff_ms(1, 0.5), 500);
    assert_int_equal(aws_retry_backoff_ms(2, 0.5), 1000);
    assert_int_equal(aws_retry_backoff_ms(3, 0.5), 2000);
    assert_int_equal(aws_retry_backoff_ms(5, 0.5), 8000);
    assert_int_equal(aws_retry_backoff_ms(6, 0.5), 10000); /* capped at 20 s */
    assert_int_equal(aws_retry_backoff_ms(40, 0.5), 10000);
    assert_true(aws_retry_backoff_ms(40, 0.9999) < AWS_RETRY_MAX_BACKOFF_MS);
    assert_int_equal(aws_retry_backoff_ms(0, 0.5), 500); /* clamped */
    assert_int_equal(aws_retry_backoff_ms(1, -3), 0);
    assert_true(aws_retry_backoff_ms(1, 7) < 1000);
}

static void test_quota(void **state)
{
    (void)state;
    struct aws_retry_quota *q = aws_retry_quota_new(12);
    assert_int_equal(aws_retry_quota_acquire(q, AWS_RETRY_THROTTLE), 5);
    assert_int_equal(aws_retry_quota_available(q), 7);
    assert_int_equal(aws_retry_quota_acquire(q, AWS_RETRY_TIMEOUT), 0); /* needs 10 */
    assert_int_equal(aws_retry_quota_acquire(q, AWS_RETRY_TRANSIENT), 5);
    assert_int_equal(aws_retry_quota_acquire(q, AWS_RETRY_TRANSIENT), 0); /* 2 left */
    aws_retry_quota_release(q, 5);                                        /* a retry succeeded */
    assert_int_equal(aws_retry_quota_available(q), 7);
    aws_retry_quota_release(q, 0); /* no-retry success: +1 */
    assert_int_equal(aws_retry_quota_available(q), 8);
    for (int i = 0; i < 10; i++)
        aws_retry_quota_release(q, 5);
    assert_int_equal(aws_retry_quota_available(q), 12); /* never above capacity */
    aws_retry_quota_free(q);
    aws_retry_quota_free(NULL);
    q = aws_retry_quota_new(0);
    assert_int_equal(aws_retry_quota_available(q), AWS_RETRY_QUOTA_INITIAL);
    aws_retry_quota_free(q);
}

static void test_should(void **state)
{
    (void)state;
    struct aws_retry_settings s = {3, AWS_RETRY_MODE_STANDARD};
    struct aws_retry_quota *q = aws_retry_quota_new(500);
    struct aws_api_error thr = {0}, denied = {0}, timeout = {0};
    awserr_set(&thr, 400, "ThrottlingException", "x");
    awserr_set(&denied, 403, "AccessDenied", "x");
    awserr_set(&timeout, 0, AWSERR_TIMEOUT, "x");
    int taken = -1;
    assert_int_equal(aws_retry_should(&s, q, 1, &thr, &taken), 1);
    assert_int_equal(taken, 5);
    assert_int_equal(aws_retry_should(&s, q, 2, &thr, &taken), 1);
    assert_int_equal(aws_retry_should(&s, q, 3, &thr, &taken), 0); /* attempts used up */
    assert_int_equal(taken, 0);
    assert_int_equal(aws_retry_should(&s, q, 1, &denied, &taken), 0);
    assert_int_equal(aws_retry_should(&s, q, 1, &timeout, &taken), 1);
    assert_int_equal(taken, 10);
    /* quota exhausted: no retry in standard mode, retries in legacy mode */
    struct aws_retry_quota *empty = aws_retry_quota_new(4);
    assert_int_equal(aws_retry_should(&s, empty, 1, &thr, &taken), 0);
    struct aws_retry_settings legacy = {5, AWS_RETRY_MODE_LEGACY};
    assert_int_equal(aws_retry_should(&legacy, empty, 4, &thr, &taken), 1);
    assert_int_equal(aws_retry_should(&legacy, empty, 5, &thr, &taken), 0);
    aws_retry_quota_free(empty);
    aws_retry_quota_free(q);
}

struct env_row {
    const char *attempts;
    const char *mode;
    int rc;
    int max_attempts;
    enum aws_retry_mode want_mode;
};

static const char *row_env(const char *name, void *ud)
{
    const struct env_row *r = ud;
    if (strcmp(name, "AWS_MAX_ATTEMPTS") == 0)
        return r->attempts;
    if (strcmp(name, "AWS_RETRY_MODE") == 0)
        return r->mode;
    return NULL;
}

static void test_settings_from_env(void **state)
{
    (void)state;
    const struct env_row rows[] = {
        {NULL, NULL, 0, 3, AWS_RETRY_MODE_STANDARD},
        {"5", NULL, 0, 5, AWS_RETRY_MODE_STANDARD},
        {"1", "standard", 0, 1, AWS_RETRY_MODE_STANDARD},
        {NULL, "legacy", 0, 5, AWS_RETRY_MODE_LEGACY},
        {"2", "adaptive", 0, 2, AWS_RETRY_MODE_ADAPTIVE},
        {"0", NULL, FW_EINVAL, 0, AWS_RETRY_MODE_STANDARD},
        {"abc", NULL, FW_EINVAL, 0, AWS_RETRY_MODE_STANDARD},
        {"3x", NULL, FW_EINVAL, 0, AWS_RETRY_MODE_STANDARD},
        {NULL, "turbo", FW_EINVAL, 0, AWS_RETRY_MODE_STANDARD},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct aws_retry_settings s;
        const char *bad = NULL;
        int rc = aws_retry_settings_from_env(&s, row_env, (void *)&rows[i], &bad);
        assert_int_equal(rc, rows[i].rc);
        if (rc) {
            assert_non_null(bad);
            continue;
        }
        assert_int_equal(s.max_attempts, rows[i].max_attempts);
        assert_int_equal(s.mode, rows[i].want_mode);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_should),
        cmocka_unit_test(test_settings_from_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
