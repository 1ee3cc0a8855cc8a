/*
 * client_test.c - request building and the executor's retry loop, offline.
 *
 * The retry loop is driven against a closed local port (connection
 * refused) with injected sleep, random source and environment, so the
 * attempts, backoff delays and quota use are checked with no server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/client.h"
#include "aws/creds.h"
#include "aws/sts.h"
#include "service/core/err.h"

static void test_uri_encode(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(aws_uri_encode(&b, "a-Z_0.~ /:+=&%é", 0), 0);
    assert_string_equal(buf_cstr(&b), "a-Z_0.~%20%2F%3A%2B%3D%26%25%C3%A9");
    buf_reset(&b);
    aws_uri_encode(&b, "a/b c", 1);
    assert_string_equal(buf_cstr(&b), "a/b%20c");
    buf_free(&b);
    buf_init(&b, 4);
    assert_int_equal(aws_uri_encode(&b, "abcdef", 0), FW_ETOOBIG);
    buf_free(&b);
}

static void test_query_call(void **state)
{
    (void)state;
    struct aws_call c;
    aws_call_init_query(&c, AWS_SVC_IAM, "CreateRole", "2010-05-08");
    aws_call_param(&c, "AssumeRolePolicyDocument", "{\"a\": 1}");
    aws_call_param(&c, "Path", NULL);
    aws_call_param_int(&c, "MaxSessionDuration", 3600);
    assert_string_equal(buf_cstr(&c.body),
                        "Action=CreateRole&Version=2010-05-08&AssumeRolePolicyDocument="
                        "%7B%22a%22%3A%201%7D&MaxSessionDuration=3600");
    assert_string_equal(c.method, "POST");
    assert_string_equal(buf_cstr(&c.path), "/");
    assert_int_equal(c.overflow, 0);
    aws_call_cleanup(&c);
}

static void test_rest_call(void **state)
{
    (void)state;
    struct aws_call c;
    aws_call_init_rest(&c, AWS_SVC_IOT, "DeletePolicyVersion", "DELETE");
    aws_call_path(&c, "/policies/");
    aws_call_path_label(&c, "my policy/../x?y");
    aws_call_path(&c, "/version/");
    aws_call_path_label(&c, "3");
    aws_call_qs(&c, "marker", NULL);
    aws_call_qs(&c, "setAsDefault", "true");
    aws_call_qs(&c, "newStatus", "a b");
    assert_string_equal(buf_cstr(&c.path), "/policies/my%20policy%2F..%2Fx%3Fy/version/3");
    assert_string_equal(buf_cstr(&c.query), "setAsDefault=true&newStatus=a%20b");
    json_t *o = json_pack("{s:s}", "policyDocument", "{}");
    assert_int_equal(aws_call_json(&c, o), 0);
    json_decref(o);
    assert_string_equal(buf_cstr(&c.body), "{\"policyDocument\":\"{}\"}");
    aws_call_cleanup(&c);
}

static void test_overflow(void **state)
{
    (void)state;
    size_t n = AWS_CALL_MAX_BODY / 3 + 10;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    struct aws_call c;
    aws_call_init_query(&c, AWS_SVC_IAM, "CreatePolicy", "2010-05-08");
    aws_call_param(&c, "PolicyDocument", big); /* each space becomes %20 */
    assert_int_equal(c.overflow, 1);
    struct aws_client *cl = NULL;
    struct aws_client_options opt = {0};
    opt.creds = creds_provider_static("AKIDEXAMPLE", "secret", NULL);
    assert_int_equal(aws_client_new(&opt, &cl, NULL), 0);
    struct aws_reply r;
    struct aws_api_error e;
    assert_int_equal(aws_client_call(cl, &c, &r, &e), FW_ETOOBIG);
    assert_string_equal(e.operation, "iam:CreatePolicy");
    aws_client_free(cl);
    creds_provider_release(opt.creds);
    aws_call_cleanup(&c);
    free(big);
}

/* ---- the retry loop against a refused connection ---- */

struct hooks {
    const char *endpoint;
    const char *max_attempts;
    int sleeps;
    long slept_ms[16];
};

static const char *hook_env(const char *name, void *ud)
{
    struct hooks *h = ud;
    if (strcmp(name, "AWS_ENDPOINT_URL") == 0)
        return h->endpoint;
    if (strcmp(name, "AWS_MAX_ATTEMPTS") == 0)
        return h->max_attempts;
    if (strcmp(name, "AWS_REGION") == 0)
        return "eu-west-1";
    return NULL;
}

static void hook_sleep(long ms, void *ud)
{
    struct hooks *h = ud;
    if (h->sleeps < 16)
        h->slept_ms[h->sleeps] = ms;
    h->sleeps++;
}

static double hook_rand(void *ud)
{
    (void)ud;
    return 0.5;
}

static struct aws_client *refused_client(struct hooks *h, struct aws_retry_quota *quota)
{
    struct aws_client_options opt = {0};
    opt.creds =
        creds_provider_static("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL);
    opt.getenv_fn = hook_env;
    opt.getenv_ud = h;
    opt.sleep_fn = hook_sleep;
    opt.rand_fn = hook_rand;
    opt.hooks_ud = h;
    opt.quota = quota;
    struct aws_client *c = NULL;
    struct aws_api_error e;
    assert_int_equal(aws_client_new(&opt, &c, &e), 0);
    creds_provider_release(opt.creds);
    return c;
}

static void test_retry_connection_refused(void **state)
{
    (void)state;
    struct hooks h = {"http://127.0.0.1:1", "4", 0, {0}};
    struct aws_retry_quota *q = aws_retry_quota_new(500);
    struct aws_client *c = refused_client(&h, q);
    assert_string_equal(aws_client_region(c), "eu-west-1");
    struct sts_caller_identity id;
    struct aws_api_error e;
    int rc = sts_get_caller_identity(c, &id, &e);
    assert_int_equal(rc, FW_EUNAVAILABLE);
    assert_string_equal(e.code, AWSERR_CONNECTION);
    assert_int_equal(e.cls, AWS_ERRC_TRANSIENT);
    assert_string_equal(e.operation, "sts:GetCallerIdentity");
    assert_null(strstr(e.message, "wJalr"));
    assert_int_equal(aws_client_last_attempts(c), 4);
    assert_int_equal(h.sleeps, 3);
    assert_int_equal(h.slept_ms[0], 500);
    assert_int_equal(h.slept_ms[1], 1000);
    assert_int_equal(h.slept_ms[2], 2000);
    assert_int_equal(aws_retry_quota_available(q), 500 - 15);
    assert_null(id.account);
    aws_client_free(c);
    aws_retry_quota_free(q);
}

static void test_retry_quota_shared_and_exhausted(void **state)
{
    (void)state;
    struct hooks h = {"http://127.0.0.1:1", "3", 0, {0}};
    struct aws_retry_quota *q = aws_retry_quota_new(7);
    struct aws_client *a = refused_client(&h, q);
    struct aws_client *b = refused_client(&h, q);
    struct sts_caller_identity id;
    sts_get_caller_identity(a, &id, NULL);
    assert_int_equal(aws_client_last_attempts(a), 2); /* 7 tokens: one retry of 5 */
    sts_get_caller_identity(b, &id, NULL);
    assert_int_equal(aws_client_last_attempts(b), 1); /* the shared quota is spent */
    aws_client_free(a);
    aws_client_free(b);
    aws_retry_quota_free(q);
}

static const char *bad_env(const char *name, void *ud)
{
    (void)ud;
    return strcmp(name, "AWS_MAX_ATTEMPTS") == 0 ? "zero" : NULL;
}

static void test_bad_settings(void **state)
{
    (void)state;
    struct aws_client_options opt = {0};
    opt.getenv_fn = bad_env;
    opt.creds = creds_provider_static("a", "b", NULL);
    struct aws_client *c = (struct aws_client *)1;
    struct aws_api_error e;
    assert_int_equal(aws_client_new(&opt, &c, &e), FW_EINVAL);
    assert_null(c);
    assert_non_null(strstr(e.message, "AWS_MAX_ATTEMPTS"));
    creds_provider_release(opt.creds);
    aws_client_free(NULL);
}

static void test_strlist(void **state)
{
    (void)state;
    struct aws_strlist l = {0};
    aws_strlist_push(&l, "a");
    aws_strlist_push(&l, NULL);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[1], "");
    aws_strlist_cleanup(&l);
    assert_int_equal(l.n, 0);
    aws_strlist_cleanup(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_query_call),
        cmocka_unit_test(test_rest_call),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_retry_connection_refused),
        cmocka_unit_test(test_retry_quota_shared_and_exhausted),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_strlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
