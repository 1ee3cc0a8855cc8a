/*
 * creds_test.c - aws/creds*.c without a network: the cache (refresh
 * before expiry, keeping valid credentials when a refresh fails, one
 * refresh at a time), the chain's order and stop rules, the environment
 * and profile sources over temporary files and an injected environment,
 * the container URL rules, and the answer parsers (time, JSON, STS XML).
 * The sources that talk HTTP are covered for real, over loopback, by
 * tests/integration/test_creds.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws/creds.h"
#include "aws/creds_internal.h"
#include "service/core/err.h"
#include "service/core/mem.h"

/* ------------------------------------------------------------------ */
/* A scripted provider.                                                */

struct fake {
    pthread_mutex_t lock;
    int calls;       /* protected by lock */
    int fail;        /* next gets fail with this code (0 = succeed) */
    long lifetime_s; /* expiration = now + lifetime_s; 0 = never */
    long delay_ms;   /* slow source, for the concurrency test */
};

static int fake_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    struct fake *f = p->impl;
    char akid[32];
    pthread_mutex_lock(&f->lock);
    int n = ++f->calls;
    pthread_mutex_unlock(&f->lock);
    if (f->delay_ms) {
        struct timespec ts = {0, f->delay_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (f->fail)
        return creds__fail(err, f->fail, "Scripted", "scripted failure");
    snprintf(akid, sizeof(akid), "AKID%d", n);
    creds__set(out, akid, "secret", "token", f->lifetime_s ? time(NULL) + f->lifetime_s : 0,
               "fake");
    return 0;
}

static const struct creds_provider_vtable s_fake_vt = {"fake", fake_get, NULL};

static struct creds_provider *fake_new(struct fake *f, long lifetime_s)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    f->lifetime_s = lifetime_s;
    return creds__provider_new(&s_fake_vt, f);
}

static void get_ok(struct creds_provider *p, const char *want_akid)
{
    struct creds c;
    struct aws_api_error err;
    assert_int_equal(creds_provider_get(p, &c, &err), 0);
    assert_string_equal(c.access_key_id, want_akid);
    creds_cleanup(&c);
}

/* ------------------------------------------------------------------ */
/* Cache.                                                              */

static void test_cache_refreshes_short_lived(void **state)
{
    (void)state;
    struct fake f;
    struct creds_provider *p = creds__cached_new(fake_new(&f, 60), CREDS_REFRESH_BEFORE_S);
    get_ok(p, "AKID1");
    get_ok(p, "AKID2"); /* expires in 1 minute: inside the 5-minute window */
    assert_int_equal(f.calls, 2);
    creds_provider_release(p);
}

static void test_cache_keeps_long_lived(void **state)
{
    (void)state;
    struct fake f;
    struct creds_provider *p = creds__cached_new(fake_new(&f, 3600), CREDS_REFRESH_BEFORE_S);
    get_ok(p, "AKID1");
    get_ok(p, "AKID1");
    assert_int_equal(f.calls, 1);
    creds_provider_release(p);
    p = creds__cached_new(fake_new(&f, 0), CREDS_REFRESH_BEFORE_S); /* never expires */
    get_ok(p, "AKID1");
    get_ok(p, "AKID1");
    assert_int_equal(f.calls, 1);
    creds_provider_release(p);
}

static void test_cache_keeps_valid_on_failed_refresh(void **state)
{
    (void)state;
    struct fake f;
    struct creds c;
    struct aws_api_error err;
    struct creds_provider *p = creds__cached_new(fake_new(&f, 120), CREDS_REFRESH_BEFORE_S);
    get_ok(p, "AKID1");
    f.fail = FW_EUNAVAILABLE;
    get_ok(p, "AKID1"); /* refresh failed, the old ones are valid for 2 more minutes */
    assert_int_equal(f.calls, 2);
    creds_provider_release(p);
    /* Already expired: the failure comes through. */
    p = creds__cached_new(fake_new(&f, -10), CREDS_REFRESH_BEFORE_S);
    get_ok(p, "AKID1");
    f.fail = FW_ETIMEOUT;
    assert_int_equal(creds_provider_get(p, &c, &err), FW_ETIMEOUT);
    assert_null(c.access_key_id);
    assert_int_equal(err.cls, AWS_ERRC_CREDENTIALS);
    assert_string_equal(err.code, "Scripted");
    creds_provider_release(p);
}

static void *get_in_thread(void *arg)
{
    struct creds c;
    struct aws_api_error err;
    int rc = creds_provider_get(arg, &c, &err);
    creds_cleanup(&c);
    return rc ? (void *)1 : NULL;
}

static void test_cache_one_refresh_at_a_time(void **state)
{
    (void)state;
    struct fake f;
    pthread_t t[8];
    struct creds_provider *p = creds__cached_new(fake_new(&f, 3600), CREDS_REFRESH_BEFORE_S);
    f.delay_ms = 50;
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, get_in_thread, p), 0);
    for (int i = 0; i < 8; i++) {
        void *ret = NULL;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    assert_int_equal(f.calls, 1);
    creds_provider_release(p);
}

/* ------------------------------------------------------------------ */
/* Chain.                                                              */

static int notfound_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    (void)p, (void)out, (void)err;
    return FW_ENOTFOUND;
}

static const struct creds_provider_vtable s_notfound_vt = {"nothing", notfound_get, NULL};

static void test_chain_order(void **state)
{
    (void)state;
    struct fake a, b;
    struct creds_provider *list[] = {creds__provider_new(&s_notfound_vt, NULL), fake_new(&a, 0),
                                     fake_new(&b, 0)};
    struct creds_provider *chain = creds__chain_new(list, 3);
    get_ok(chain, "AKID1");
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 0); /* the first source that answers wins */
    a.fail = FW_EINVAL;           /* a configured source that fails stops the chain */
    struct creds c;
    struct aws_api_error err;
    assert_int_equal(creds_provider_get(chain, &c, &err), FW_EINVAL);
    assert_int_equal(b.calls, 0);
    creds_provider_release(chain);
    struct creds_provider *none[] = {creds__provider_new(&s_notfound_vt, NULL)};
    chain = creds__chain_new(none, 1);
    assert_int_equal(creds_provider_get(chain, &c, &err), FW_EUNAVAILABLE);
    assert_string_equal(err.code, "NoCredentials");
    creds_provider_release(chain);
}

static void test_static_and_refs(void **state)
{
    (void)state;
    struct creds_provider *p = creds_provider_static("AKIDSTATIC", "sec", NULL);
    creds_provider_acquire(p);
    creds_provider_release(p);
    get_ok(p, "AKIDSTATIC");
    struct creds c, d;
    struct aws_api_error err;
    assert_int_equal(creds_provider_get(p, &c, &err), 0);
    assert_null(c.session_token);
    assert_int_equal(c.expiration, 0);
    creds_copy(&d, &c);
    assert_string_equal(d.secret_access_key, "sec");
    creds_cleanup(&c);
    creds_cleanup(&d);
    creds_cleanup(&d); /* twice is fine */
    creds_provider_release(p);
    creds_provider_release(NULL);
}

/* ------------------------------------------------------------------ */
/* Environment and profiles over an injected environment.             */

struct kv_env {
    const char *kv[40]; /* name, value, ..., NULL */
};

static const char *kv_getenv(const char *name, void *ud)
{
    const struct kv_env *e = ud;
    for (size_t i = 0; e->kv[i]; i += 2) {
        if (!strcmp(e->kv[i], name))
            return e->kv[i + 1];
    }
    return NULL;
}

static char s_dir[64];
static char s_creds_path[128];
static char s_config_path[128];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int files_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof(s_dir), "/tmp/fw-creds-XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    snprintf(s_creds_path, sizeof(s_creds_path), "%s/credentials", s_dir);
    snprintf(s_config_path, sizeof(s_config_path), "%s/config", s_dir);
    return 0;
}

static int files_teardown(void **state)
{
    (void)state;
    unlink(s_creds_path);
    unlink(s_config_path);
    rmdir(s_dir);
    return 0;
}

/* Resolves with one source over the injected environment. */
static int resolve_with(struct creds_provider *(*mk)(const struct creds_env *), struct kv_env *kv,
                        struct creds *c, struct aws_api_error *err)
{
    struct creds_env env = {kv_getenv, kv};
    struct creds_provider *p = mk(&env);
    memset(c, 0, sizeof(*c));
    memset(err, 0, sizeof(*err));
    int rc = p->vt->get(p, c, err);
    creds_provider_release(p);
    return rc;
}

static void test_env_source(void **state)
{
    (void)state;
    struct creds c;
    struct aws_api_error err;
    struct kv_env full = {{"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "s",
                           "AWS_SESSION_TOKEN", "t", NULL}};
    assert_int_equal(resolve_with(creds__env_provider_new, &full, &c, &err), 0);
    assert_string_equal(c.source, "environment");
    assert_string_equal(c.session_token, "t");
    creds_cleanup(&c);
    struct kv_env half = {{"AWS_ACCESS_KEY_ID", "AKIDENV", NULL}};
    assert_int_equal(resolve_with(creds__env_provider_new, &half, &c, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "AWS_SECRET_ACCESS_KEY"));
    struct kv_env none = {{NULL}};
    assert_int_equal(resolve_with(creds__env_provider_new, &none, &c, &err), FW_ENOTFOUND);
}

static const char *s_creds_text = "[default]\n"
                                  "aws_access_key_id = AKIDDEFAULT\n"
                                  "aws_secret_access_key = secret-default\n"
                                  "[both]\n"
                                  "aws_access_key_id = AKIDFROMCREDS\n"
                                  "aws_secret_access_key = secret-both\n";

static const char *s_config_text = "[profile dev]\n"
                                   "aws_access_key_id = AKIDDEV\n"
                                   "aws_secret_access_key = secret-dev\n"
                                   "aws_session_token = tok-dev\n"
                                   "[profile both]\n"
                                   "aws_access_key_id = AKIDFROMCONFIG\n"
                                   "aws_secret_access_key = secret-config\n"
                                   "[dev]\n"
                                   "aws_access_key_id = AKIDNOTAPROFILE\n"
                                   "[profile regiononly]\n"
                                   "region = eu-west-1\n"
                                   "[profile norole]\n"
                                   "role_arn = arn:aws:iam::123456789012:role/x\n"
                                   "[profile loop1]\n"
                                   "role_arn = arn:aws:iam::123456789012:role/x\n"
                                   "source_profile = loop2\n"
                                   "[profile loop2]\n"
                                   "role_arn = arn:aws:iam::123456789012:role/y\n"
                                   "source_profile = loop1\n"
                                   "[profile proc]\n"
                                   "credential_process = /bin/echo\n"
                                   "[profile half]\n"
                                   "aws_access_key_id = AKIDHALF\n"
                                   "[profile missingsrc]\n"
                                   "role_arn = arn:aws:iam::123456789012:role/x\n"
                                   "source_profile = nosuch\n"
                                   "[profile mfa]\n"
                                   "role_arn = arn:aws:iam::123456789012:role/x\n"
                                   "source_profile = dev\n"
                                   "mfa_serial = arn:aws:iam::123456789012:mfa/me\n";

static int profile_rc(const char *profile, struct creds *c, struct aws_api_error *err)
{
    struct kv_env kv = {{"AWS_SHARED_CREDENTIALS_FILE", s_creds_path, "AWS_CONFIG_FILE",
                         s_config_path, profile ? "AWS_PROFILE" : NULL, profile, NULL}};
    return resolve_with(creds__profile_provider_new, &kv, c, err);
}

static void expect_profile(const char *profile, const char *akid, const char *source)
{
    struct creds c;
    struct aws_api_error err;
    int rc = profile_rc(profile, &c, &err);
    if (rc)
        fail_msg("profile %s: %s %s", profile ? profile : "(default)", fw_err_name(rc),
                 err.message);
    assert_string_equal(c.access_key_id, akid);
    assert_string_equal(c.source, source);
    creds_cleanup(&c);
}

static void expect_profile_error(const char *profile, int want_rc, const char *want_msg)
{
    struct creds c;
    struct aws_api_error err;
    int rc = profile_rc(profile, &c, &err);
    if (rc != want_rc)
        fail_msg("profile %s: got %s (%s), want %s", profile, fw_err_name(rc), err.message,
                 fw_err_name(want_rc));
    if (want_msg && !strstr(err.message, want_msg))
        fail_msg("profile %s: message '%s' lacks '%s'", profile, err.message, want_msg);
    creds_cleanup(&c);
}

static void test_profiles(void **state)
{
    (void)state;
    write_file(s_creds_path, s_creds_text);
    write_file(s_config_path, s_config_text);
    expect_profile(NULL, "AKIDDEFAULT", "profile default");
    expect_profile("dev", "AKIDDEV", "profile dev"); /* [profile dev] in config, not [dev] */
    expect_profile("both", "AKIDFROMCREDS", "profile both"); /* credentials file first */
    expect_profile_error("regiononly", FW_ENOTFOUND, NULL);  /* no credentials: next source */
    expect_profile_error("nosuch", FW_EINVAL, "profile nosuch not found");
    expect_profile_error("norole", FW_EINVAL, "no source_profile or credential_source");
    expect_profile_error("loop1", FW_EINVAL, "too long or circular");
    expect_profile_error("proc", FW_EINVAL, "credential_process");
    expect_profile_error("half", FW_EINVAL, "only one of");
    expect_profile_error("missingsrc", FW_EINVAL, "source_profile nosuch does not exist");
    expect_profile_error("mfa", FW_EINVAL, "mfa_serial");
}

static void test_profile_files(void **state)
{
    (void)state;
    struct creds c;
    struct aws_api_error err;
    write_file(s_creds_path, "[default]\naws_access_key_id = A\nnot a property line\n");
    write_file(s_config_path, "");
    assert_int_equal(profile_rc(NULL, &c, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "line 3"));
    unlink(s_creds_path);
    unlink(s_config_path);
    assert_int_equal(profile_rc(NULL, &c, &err), FW_ENOTFOUND); /* no files, default profile */
    expect_profile_error("dev", FW_EINVAL, "not found");        /* no files, profile asked for */
    /* HOME expansion of the default paths. */
    char aws_dir[128], path[160];
    snprintf(aws_dir, sizeof(aws_dir), "%s/.aws", s_dir);
    assert_int_equal(mkdir(aws_dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/credentials", aws_dir);
    write_file(path, "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = x\n");
    struct kv_env kv = {{"HOME", s_dir, NULL}};
    assert_int_equal(resolve_with(creds__profile_provider_new, &kv, &c, &err), 0);
    assert_string_equal(c.access_key_id, "AKIDHOME");
    creds_cleanup(&c);
    unlink(path);
    rmdir(aws_dir);
}

/* ------------------------------------------------------------------ */
/* Container URL rules.                                                */

static int container_url(const char *name, const char *value, char *url)
{
    struct kv_env kv = {{name, value, NULL}};
    struct creds_env env = {kv_getenv, &kv};
    struct aws_api_error err;
    return creds__container_url(&env, url, 512, &err);
}

static void test_container_urls(void **state)
{
    (void)state;
    char url[512];
    assert_int_equal(
        container_url("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", url), 0);
    assert_string_equal(url, "http://169.254.170.2/v2/credentials/abc");
    assert_int_equal(container_url("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2", url), FW_EINVAL);
    static const char *const ok[] = {"http://127.0.0.1:8080/creds",
                                     "http://localhost/x",
                                     "http://[::1]:9/x",
                                     "https://creds.example.com/x",
                                     "http://169.254.170.23/v1/credentials",
                                     "http://169.254.170.2/x",
                                     "http://127.1.2.3/x"};
    static const char *const bad[] = {"http://example.com/creds",    "http://10.0.0.1/x",
                                      "ftp://127.0.0.1/x",           "http://user@127.0.0.1/x",
                                      "http://127.0.0.1.evil.com/x", "http://169.254.169.254/x",
                                      "file:///etc/passwd"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (container_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok[i], url) != 0)
            fail_msg("%s refused", ok[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (container_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad[i], url) != FW_EINVAL)
            fail_msg("%s accepted", bad[i]);
    }
    assert_int_equal(container_url("UNRELATED", "x", url), FW_ENOTFOUND);
}

/* ------------------------------------------------------------------ */
/* Parsers.                                                            */

static void test_parse_time(void **state)
{
    (void)state;
    time_t t = 0;
    assert_int_equal(creds__parse_time("2015-08-30T12:36:00Z", &t), 0);
    assert_int_equal(t, 1440938160);
    assert_int_equal(creds__parse_time("2015-08-30T12:36:00.123Z", &t), 0);
    assert_int_equal(t, 1440938160);
    assert_int_equal(creds__parse_time("2015-08-30T12:36:00+00:00", &t), 0);
    static const char *const bad[] = {"",
                                      "2015-08-30",
                                      "2015-08-30T12:36:00",
                                      "2015-13-30T12:36:00Z",
                                      "2015-08-30T12:36:00+02:00",
                                      "2015-08-30T12:36Z",
                                      "x015-08-30T12:36:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(creds__parse_time(bad[i], &t), FW_EINVAL);
    assert_int_equal(creds__parse_time(NULL, &t), FW_EINVAL);
}

static void test_parse_json(void **state)
{
    (void)state;
    struct creds c;
    struct aws_api_error err;
    const char *ok = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAJSON\",\"SecretAccessKey\":\"s\","
                     "\"Token\":\"t\",\"Expiration\":\"2030-01-01T00:00:00Z\"}";
    memset(&c, 0, sizeof(c));
    assert_int_equal(creds__parse_json_creds(ok, strlen(ok), "container", &c, &err), 0);
    assert_string_equal(c.access_key_id, "ASIAJSON");
    assert_string_equal(c.session_token, "t");
    assert_int_equal(c.expiration, 1893456000);
    creds_cleanup(&c);
    static const char *const bad[] = {
        "[]", "{", "{\"AccessKeyId\":\"A\"}", "{\"Code\":\"Failed\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Expiration\":\"soon\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&c, 0, sizeof(c));
        assert_int_not_equal(creds__parse_json_creds(bad[i], strlen(bad[i]), "container", &c, &err),
                             0);
        assert_null(c.access_key_id);
    }
}

static void test_parse_sts(void **state)
{
    (void)state;
    struct creds c;
    struct aws_api_error err;
    const char *ok =
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
        "<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser><Credentials>"
        "<AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>sec&amp;ret</SecretAccessKey>"
        "<SessionToken>tok</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
    memset(&c, 0, sizeof(c));
    assert_int_equal(creds__sts_parse(ok, strlen(ok), 200, "profile x via AssumeRole", &c, &err),
                     0);
    assert_string_equal(c.access_key_id, "ASIASTS");
    assert_string_equal(c.secret_access_key, "sec&ret");
    assert_string_equal(c.source, "profile x via AssumeRole");
    creds_cleanup(&c);
    const char *fault =
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
        "<Message>not allowed</Message></Error><RequestId>r1</RequestId></ErrorResponse>";
    assert_int_equal(creds__sts_parse(fault, strlen(fault), 403, "x", &c, &err), FW_EAWS);
    assert_string_equal(err.code, "AccessDenied");
    assert_non_null(strstr(err.message, "not allowed"));
    assert_int_equal(err.http_status, 403);
    const char *throttled =
        "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message>"
        "</Error></ErrorResponse>";
    assert_int_equal(creds__sts_parse(throttled, strlen(throttled), 400, "x", &c, &err), FW_EAWS);
    assert_int_equal(err.cls, AWS_ERRC_THROTTLING);
    assert_true(err.retryable);
    assert_int_equal(creds__sts_parse("<x>", 3, 200, "x", &c, &err), FW_EINVAL);
    assert_int_equal(creds__sts_parse("<a/>", 4, 200, "x", &c, &err), FW_EINVAL);
    /* A DOCTYPE is refused (aws/xml.c): no entity can expand into the credentials. */
    const char *laughs =
        "<!DOCTYPE r [<!ENTITY a \"ASIA\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>&b;</AccessKeyId>"
        "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>"
        "<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult>"
        "</AssumeRoleResponse>";
    memset(&c, 0, sizeof(c));
    assert_int_equal(creds__sts_parse(laughs, strlen(laughs), 200, "x", &c, &err), FW_EINVAL);
    assert_null(c.access_key_id);
}

static void test_secret_file(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof(path), "%s/token", s_dir);
    write_file(path, "tok-123 \r\n\n");
    char *t = creds__read_secret_file(path, 64);
    assert_string_equal(t, "tok-123");
    xfree_secret(t);
    write_file(path, " \n");
    assert_null(creds__read_secret_file(path, 64)); /* empty */
    write_file(path, "0123456789");
    assert_null(creds__read_secret_file(path, 9)); /* longer than max */
    t = creds__read_secret_file(path, 10);         /* exactly max */
    assert_string_equal(t, "0123456789");
    xfree_secret(t);
    unlink(path);
    assert_null(creds__read_secret_file(path, 64)); /* missing */
}

static void test_form(void **state)
{
    (void)state;
    char *f = creds__form_add(NULL, "Action", "AssumeRole");
    f = creds__form_add(f, "RoleArn", "arn:aws:iam::1:role/a b+c");
    assert_string_equal(f, "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc");
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_refreshes_short_lived),
        cmocka_unit_test(test_cache_keeps_long_lived),
        cmocka_unit_test(test_cache_keeps_valid_on_failed_refresh),
        cmocka_unit_test(test_cache_one_refresh_at_a_time),
        cmocka_unit_test(test_chain_order),
        cmocka_unit_test(test_static_and_refs),
        cmocka_unit_test(test_env_source),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_profile_files),
        cmocka_unit_test(test_container_urls),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_json),
        cmocka_unit_test(test_parse_sts),
        cmocka_unit_test(test_secret_file),
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests_name("aws-creds", tests, files_setup, files_teardown);
}
