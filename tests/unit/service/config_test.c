/* Unit tests for service/core/config.c: every variable, good and bad values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "service/core/config.h"
#include "service/core/err.h"

struct env {
    const char *names[8];
    const char *values[8];
};

static const char *fake_getenv(const char *name, void *ud)
{
    struct env *e = ud;
    for (int i = 0; i < 8 && e->names[i]; i++)
        if (!strcmp(e->names[i], name))
            return e->values[i];
    return 0;
}

static int load1(const char *name, const char *value, struct fw_config *c, char *err)
{
    struct env e = {{name}, {value}};
    return config_load(c, fake_getenv, &e, err, 300);
}

static void test_defaults(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    struct env e = {{0}, {0}};
    assert_int_equal(config_load(&c, fake_getenv, &e, err, sizeof err), 0);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.redis_host, "127.0.0.1");
    assert_int_equal(c.redis_port, 6379);
    assert_int_equal(c.redis_db, 0);
    assert_string_equal(c.prefix, "fw:");
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.log_level, LOG_INFO);
    assert_int_equal(c.ncors_origins, 0);
    assert_int_equal(c.iot_mqtt_port, 8883);
    assert_int_equal(c.iot_credentials_port, 443);
}

static void test_redis_url(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "redis://:s3cret@10.0.0.5:6380/3", &c, err), 0);
    assert_string_equal(c.redis_host, "10.0.0.5");
    assert_int_equal(c.redis_port, 6380);
    assert_int_equal(c.redis_db, 3);
    assert_string_equal(c.redis_password, "s3cret");
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "redis://user:pw@h", &c, err), 0);
    assert_string_equal(c.redis_password, "pw");
    assert_int_equal(c.redis_port, 6379);
    static const char *const bad[] = {"http://x",        "redis://",       "redis://h:0",
                                      "redis://h:99999", "redis://h:1/99", "redis://h:abc",
                                      "redis://h/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(load1("FLEETWARDEN_REDIS_URL", bad[i], &c, err), FW_EINVAL);
        assert_non_null(strstr(err, "FLEETWARDEN_REDIS_URL"));
        /* The password must never be echoed in an error. */
        assert_null(strstr(err, "s3cret"));
    }
}

/* ACL users (Redis 6+, ElastiCache RBAC): redis://user:password@host, both percent-decoded. */
static void test_redis_url_user(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL",
                           "redis://fw-app:p%40ss%3Aw0rd@cache.example:6380/2", &c, err),
                     0);
    assert_string_equal(c.redis_user, "fw-app");
    assert_string_equal(c.redis_password, "p@ss:w0rd");
    assert_string_equal(c.redis_host, "cache.example");
    assert_int_equal(c.redis_port, 6380);
    assert_int_equal(c.redis_db, 2);
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "redis://:only-pw@h", &c, err), 0);
    assert_string_equal(c.redis_user, "");
    assert_string_equal(c.redis_password, "only-pw");
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "redis://legacy-pw@h", &c, err), 0);
    assert_string_equal(c.redis_user, "");
    assert_string_equal(c.redis_password, "legacy-pw");
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "redis://h", &c, err), 0);
    assert_string_equal(c.redis_user, "");
    assert_string_equal(c.redis_password, "");
    static const char *const bad[] = {"redis://u:s3cret%zz@h", "redis://u%4:s3cret@h",
                                      "redis://u%00:s3cret@h", "redis://:s3cret%@h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(load1("FLEETWARDEN_REDIS_URL", bad[i], &c, err), FW_EINVAL);
        assert_non_null(strstr(err, "percent"));
        assert_null(strstr(err, "s3cret"));
    }
    /* No TLS in hiredis 0.14: rediss:// is refused with the way to do it. */
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "rediss://u:s3cret@h:6379", &c, err),
                     FW_EINVAL);
    assert_non_null(strstr(err, "stunnel"));
    assert_null(strstr(err, "s3cret"));
}

static void test_listen(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(load1("FLEETWARDEN_LISTEN", "0.0.0.0:9000", &c, err), 0);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9000);
    assert_int_equal(load1("FLEETWARDEN_LISTEN", "[::1]:81", &c, err), 0);
    assert_string_equal(c.listen_host, "::1");
    static const char *const bad[] = {"8080", ":80", "host:", "host:65536", "host:-1", "host:8o"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(load1("FLEETWARDEN_LISTEN", bad[i], &c, err), FW_EINVAL);
        assert_non_null(strstr(err, "FLEETWARDEN_LISTEN"));
    }
}

static void test_health_listen(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(load1("FLEETWARDEN_LISTEN", "0.0.0.0:9000", &c, err), 0);
    assert_int_equal(c.health_listen, 0); /* off unless set */
    assert_int_equal(load1("FLEETWARDEN_HEALTH_LISTEN", "", &c, err), 0);
    assert_int_equal(c.health_listen, 0);
    assert_int_equal(load1("FLEETWARDEN_HEALTH_LISTEN", "0.0.0.0:9100", &c, err), 0);
    assert_int_equal(c.health_listen, 1);
    assert_string_equal(c.health_host, "0.0.0.0");
    assert_int_equal(c.health_port, 9100);
    assert_string_equal(c.listen_host, "127.0.0.1"); /* the API address is untouched */
    assert_int_equal(load1("FLEETWARDEN_HEALTH_LISTEN", "9100", &c, err), FW_EINVAL);
    assert_non_null(strstr(err, "FLEETWARDEN_HEALTH_LISTEN"));
}

static void test_numbers_and_enums(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(load1("FLEETWARDEN_WORKERS", "16", &c, err), 0);
    assert_int_equal(c.workers, 16);
    assert_int_equal(c.shutdown_delay_s, 0);
    assert_int_equal(load1("FLEETWARDEN_SHUTDOWN_DELAY", "15", &c, err), 0);
    assert_int_equal(c.shutdown_delay_s, 15);
    assert_int_equal(load1("FLEETWARDEN_IOT_MQTT_PORT", "4101", &c, err), 0);
    assert_int_equal(c.iot_mqtt_port, 4101);
    assert_int_equal(load1("FLEETWARDEN_IOT_CREDENTIALS_PORT", "65535", &c, err), 0);
    assert_int_equal(c.iot_credentials_port, 65535);
    static const char *const names[] = {"FLEETWARDEN_WORKERS",
                                        "FLEETWARDEN_WORKERS",
                                        "FLEETWARDEN_WORKERS",
                                        "FLEETWARDEN_CONN_TIMEOUT",
                                        "FLEETWARDEN_LOG_LEVEL",
                                        "FLEETWARDEN_METRICS_PUBLIC",
                                        "FLEETWARDEN_PREFIX",
                                        "FLEETWARDEN_SHUTDOWN_DELAY",
                                        "FLEETWARDEN_IOT_MQTT_PORT",
                                        "FLEETWARDEN_IOT_MQTT_PORT",
                                        "FLEETWARDEN_IOT_CREDENTIALS_PORT",
                                        "FLEETWARDEN_IOT_CREDENTIALS_PORT"};
    static const char *const vals[] = {"-1",        "65",  "4x", "0",     "verbose", "maybe",
                                       "has space", "601", "0",  "65536", "-1",      "443 "};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(load1(names[i], vals[i], &c, err), FW_EINVAL);
        assert_non_null(strstr(err, names[i]));
    }
    assert_int_equal(load1("FLEETWARDEN_LOG_LEVEL", "debug", &c, err), 0);
    assert_int_equal(c.log_level, LOG_DEBUG);
}

/* Issue 17: the HTTP server's limits, the rate limits and the webhook allow list. */
static void test_limits(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(load1("FLEETWARDEN_WORKERS", "4", &c, err), 0);
    assert_int_equal(c.max_connections, 4096);
    assert_int_equal(c.max_conn_per_addr, 256);
    assert_int_equal(c.http_threads, 8);
    assert_int_equal(c.idle_timeout_s, 10);
    assert_int_equal(c.max_streams, 512);
    assert_int_equal(c.max_streams_token, 16);
    assert_int_equal(c.max_polls, 1024);
    assert_int_equal(c.max_polls_token, 64);
    assert_int_equal(c.rate_addr_n, 200);
    assert_int_equal(c.rate_addr_s, 1);
    assert_int_equal(c.rate_token_n, 100);
    assert_int_equal(c.rate_token_s, 1);
    assert_int_equal(load1("FLEETWARDEN_RATE_LIMIT_ADDRESS", "600/60", &c, err), 0);
    assert_int_equal(c.rate_addr_n, 600);
    assert_int_equal(c.rate_addr_s, 60);
    assert_int_equal(load1("FLEETWARDEN_RATE_LIMIT_TOKEN", "0", &c, err), 0);
    assert_int_equal(c.rate_token_n, 0);
    assert_int_equal(load1("FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS", "0", &c, err), 0);
    assert_int_equal(c.max_conn_per_addr, 0);
    assert_int_equal(
        load1("FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES", "10.0.0.0/8, fd00::/8,127.0.0.1", &c, err), 0);
    assert_int_equal(load1("FLEETWARDEN_IOT_ALLOW_ADDRESSES", "127.0.0.1,::1", &c, err), 0);
    assert_int_equal(c.iot_allow_addresses.n, 2);
    assert_int_equal(load1("FLEETWARDEN_IOT_MQTT_ALPN", "on", &c, err), 0);
    assert_string_equal(c.iot_mqtt_alpn, "on");
    assert_int_equal(load1("FLEETWARDEN_VERIFY_TIMEOUT_MS", "20000", &c, err), 0);
    assert_int_equal(c.verify_timeout_ms, 20000);
    static const char *const names[] = {"FLEETWARDEN_RATE_LIMIT_ADDRESS",
                                        "FLEETWARDEN_RATE_LIMIT_ADDRESS",
                                        "FLEETWARDEN_RATE_LIMIT_TOKEN",
                                        "FLEETWARDEN_RATE_LIMIT_TOKEN",
                                        "FLEETWARDEN_HTTP_THREADS",
                                        "FLEETWARDEN_IDLE_TIMEOUT",
                                        "FLEETWARDEN_MAX_STREAMS",
                                        "FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN",
                                        "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES",
                                        "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES",
                                        "FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS",
                                        "FLEETWARDEN_IOT_ALLOW_ADDRESSES",
                                        "FLEETWARDEN_IOT_MQTT_ALPN",
                                        "FLEETWARDEN_VERIFY_TIMEOUT_MS"};
    static const char *const vals[] = {"10/0", "x",         "10/",   "-1",          "0",
                                       "0",    "-5",        "1.5",   "example.com", "10.0.0.0/99",
                                       "many", "localhost", "maybe", "100"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(load1(names[i], vals[i], &c, err), FW_EINVAL);
        assert_non_null(strstr(err, names[i]));
    }
}

static void test_cors(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(load1("FLEETWARDEN_CORS_ORIGINS",
                           "https://portal.example.com, http://localhost:3000", &c, err),
                     0);
    assert_int_equal(c.ncors_origins, 2);
    assert_string_equal(c.cors_origins[1], "http://localhost:3000");
    assert_int_equal(load1("FLEETWARDEN_CORS_ORIGINS", "portal.example.com", &c, err), FW_EINVAL);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_kek(void **state)
{
    (void)state;
    char path[] = "/tmp/fw-kek-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unsigned char key[32];
    char err[300];
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    write_file(path, hex, strlen(hex));
    assert_int_equal(config_read_kek(path, key, err, sizeof err), 0);
    assert_int_equal(key[31], 0x1f);
    const char *b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    write_file(path, b64, strlen(b64));
    assert_int_equal(config_read_kek(path, key, err, sizeof err), 0);
    assert_int_equal(key[16], 0x10);
    write_file(path, "short", 5);
    assert_int_equal(config_read_kek(path, key, err, sizeof err), FW_EINVAL);
    assert_non_null(strstr(err, "FLEETWARDEN_KEK_FILE"));
    unlink(path);
    assert_int_equal(config_read_kek(path, key, err, sizeof err), FW_EIO);
    assert_int_equal(load1("FLEETWARDEN_KEK_FILE", path, 0 ? 0 : &(struct fw_config){0}, err),
                     FW_EIO);
}

/* A raw key whose last byte is a newline, carriage return, space or tab
 * was trimmed to 31 bytes and refused (issue 17): the length decides first. */
static void test_kek_raw_ending_in_whitespace(void **state)
{
    (void)state;
    char path[] = "/tmp/fw-kek-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unsigned char raw[33], key[32];
    char err[300];
    const unsigned char ends[] = {'\n', '\r', ' ', '\t', 'x'};
    for (size_t i = 0; i < sizeof ends; i++) {
        for (int b = 0; b < 32; b++)
            raw[b] = (unsigned char)(0x80 + b * 3 + i);
        raw[31] = ends[i];
        write_file(path, raw, 32);
        assert_int_equal(config_read_kek(path, key, err, sizeof err), 0);
        assert_memory_equal(key, raw, 32);
        raw[32] = '\n'; /* echo'd into the file: 32 raw bytes and a newline */
        write_file(path, raw, 33);
        assert_int_equal(config_read_kek(path, key, err, sizeof err), 0);
        assert_memory_equal(key, raw, 32);
    }
    write_file(path, raw, 31);
    assert_int_equal(config_read_kek(path, key, err, sizeof err), FW_EINVAL);
    raw[32] = 'x'; /* 33 bytes not ending in a newline: no format */
    write_file(path, raw, 33);
    assert_int_equal(config_read_kek(path, key, err, sizeof err), FW_EINVAL);
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \r\n";
    write_file(path, hex, strlen(hex));
    assert_int_equal(config_read_kek(path, key, err, sizeof err), 0);
    assert_int_equal(key[31], 0x1f);
    unlink(path);
}

static void test_kek_mode_warning(void **state)
{
    (void)state;
    char path[] = "/tmp/fw-kek-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char why[400];
    static const struct {
        mode_t mode;
        int warn;
    } rows[] = {{0400, 0}, {0600, 0}, {0640, 1}, {0604, 1}, {0644, 1}, {0610, 1}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(chmod(path, rows[i].mode), 0);
        assert_int_equal(config_kek_mode_warning(path, why, sizeof why), rows[i].warn);
        if (rows[i].warn)
            assert_non_null(strstr(why, "chmod 0400"));
    }
    unlink(path);
    assert_int_equal(config_kek_mode_warning(path, why, sizeof why), 0);
}

static void test_redis_url_redacted(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300], out[300];
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "redis://:s3cret@10.0.0.5:6380/3", &c, err), 0);
    config_redis_url_redacted(&c, out, sizeof out);
    assert_string_equal(out, "redis://:***@10.0.0.5:6380/3");
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "redis://user:s3cret@h", &c, err), 0);
    config_redis_url_redacted(&c, out, sizeof out);
    assert_string_equal(out,
                        "redis://user:***@h:6379/0"); /* an ACL user is shown, its password never */
    assert_int_equal(load1("FLEETWARDEN_REDIS_URL", "redis://127.0.0.1:7000", &c, err), 0);
    config_redis_url_redacted(&c, out, sizeof out);
    assert_string_equal(out, "redis://127.0.0.1:7000/0");
}

static void test_redis_password_file(void **state)
{
    (void)state;
    char path[] = "/tmp/fw-redispw-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct fw_config c;
    char err[300];
    struct env e = {{"FLEETWARDEN_REDIS_URL", "FLEETWARDEN_REDIS_PASSWORD_FILE"},
                    {"redis://:fromurl@h:1/0", path}};
    write_file(path, "from-file-pw\n", 13);
    assert_int_equal(config_load(&c, fake_getenv, &e, err, sizeof err), 0);
    assert_string_equal(c.redis_password, "from-file-pw"); /* the file wins */
    write_file(path, "\n", 1);
    assert_int_equal(config_load(&c, fake_getenv, &e, err, sizeof err), FW_EINVAL);
    assert_non_null(strstr(err, "FLEETWARDEN_REDIS_PASSWORD_FILE"));
    write_file(path, "two\nlines", 9);
    assert_int_equal(config_load(&c, fake_getenv, &e, err, sizeof err), FW_EINVAL);
    assert_null(strstr(err, "two"));
    char big[200];
    memset(big, 'p', sizeof big);
    write_file(path, big, sizeof big);
    assert_int_equal(config_load(&c, fake_getenv, &e, err, sizeof err), FW_EINVAL);
    unlink(path);
    assert_int_equal(config_load(&c, fake_getenv, &e, err, sizeof err), FW_EIO);
}

static void test_iam_settings(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(load1("FLEETWARDEN_IAM_ROLES", "precreated", &c, err), 0);
    assert_int_equal(c.iam_precreated, 1);
    assert_string_equal(c.iam_tes_boundary, "FleetwardenTokenExchangeBoundary");
    assert_string_equal(c.iam_prov_boundary, "FleetwardenProvisioningBoundary");
    assert_int_equal(load1("FLEETWARDEN_IAM_ROLES", "admin", &c, err), FW_EINVAL);
    assert_non_null(strstr(err, "FLEETWARDEN_IAM_ROLES"));
    assert_int_equal(load1("FLEETWARDEN_IAM_TES_BOUNDARY", "none", &c, err), 0);
    assert_string_equal(c.iam_tes_boundary, "");
    assert_int_equal(load1("FLEETWARDEN_IAM_PROVISIONING_BOUNDARY",
                           "arn:aws:iam::123456789012:policy/p/B", &c, err),
                     0);
    assert_string_equal(c.iam_prov_boundary, "arn:aws:iam::123456789012:policy/p/B");
    static const char *const bad[] = {"has space", "arn:aws:iam::1:policy/", "arn:aws:s3:::x", "",
                                      "a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!*bad[i])
            continue; /* an empty variable means unset */
        assert_int_equal(load1("FLEETWARDEN_IAM_TES_BOUNDARY", bad[i], &c, err), FW_EINVAL);
    }
}

static void test_trusted_proxies(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    assert_int_equal(
        load1("FLEETWARDEN_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7 ,::1,2001:db8::/32", &c, err),
        0);
    assert_int_equal(c.ntrusted_proxies, 4);
    assert_int_equal(c.trusted_proxies[1].bits, 32);
    assert_int_equal(c.trusted_proxies[3].family, 6);
    assert_int_equal(load1("FLEETWARDEN_TRUSTED_PROXIES", "", &c, err), 0);
    assert_int_equal(c.ntrusted_proxies, 0);
    static const char *const bad[] = {"10.0.0.1/8", "proxy.internal", "10.0.0.0/33",   "1.2.3.4/",
                                      "::1/129",    "1.2.3.4:80",     "10.0.0.0/8,,x", "[::1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(load1("FLEETWARDEN_TRUSTED_PROXIES", bad[i], &c, err), FW_EINVAL);
        assert_non_null(strstr(err, "FLEETWARDEN_TRUSTED_PROXIES"));
    }
    char many[400] = "";
    for (int i = 0; i < 17; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s10.0.%d.0/24", i ? "," : "",
                 i);
    assert_int_equal(load1("FLEETWARDEN_TRUSTED_PROXIES", many, &c, err), FW_EINVAL);
}

/* The settings modules used to read themselves (jobs, claims, the watch, rate limits, the region).
 */
static void test_runtime_settings(void **state)
{
    (void)state;
    struct fw_config c;
    char err[300];
    const struct fw_config *d = config_get(); /* nothing published: the defaults */
    assert_int_equal(d->job_ttl_s, 7 * 86400);
    assert_int_equal(d->watch_interval_s, 300);
    assert_string_equal(d->aws_region, "us-east-1");
    assert_int_equal(load1("FLEETWARDEN_JOB_TTL", "3600", &c, err), 0);
    assert_int_equal(c.job_ttl_s, 3600);
    assert_int_equal(load1("FLEETWARDEN_WATCH_INTERVAL", "0", &c, err), 0);
    assert_int_equal(c.watch_interval_s, 0);
    static const char *const names[] = {"FLEETWARDEN_WATCH_INTERVAL", "FLEETWARDEN_JOB_LEASE_MS",
                                        "FLEETWARDEN_CLAIM_KEY_TTL", "FLEETWARDEN_MAX_STALLS",
                                        "AWS_REGION"};
    static const char *const vals[] = {"59", "299", "2678401", "0", "EU WEST"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(load1(names[i], vals[i], &c, err), FW_EINVAL);
        assert_non_null(strstr(err, names[i]));
    }
    struct env e = {{"AWS_DEFAULT_REGION"}, {"eu-west-1"}};
    assert_int_equal(config_load(&c, fake_getenv, &e, err, sizeof err), 0);
    assert_string_equal(c.aws_region, "eu-west-1");
    struct env both = {{"AWS_DEFAULT_REGION", "AWS_REGION"}, {"eu-west-1", "ap-south-1"}};
    assert_int_equal(config_load(&c, fake_getenv, &both, err, sizeof err), 0);
    assert_string_equal(c.aws_region, "ap-south-1"); /* AWS_REGION first, as the SDKs */
    assert_int_equal(config_parse_rate("FLEETWARDEN_RATE_IAM", "0.5:2", &c, err, sizeof err), 0);
    assert_string_equal(c.rates[c.nrates - 1].family, "IAM");
    assert_int_equal(config_parse_rate("FLEETWARDEN_RATE_", "5", &c, err, sizeof err), FW_EINVAL);
    config_publish(&c);
    assert_string_equal(config_get()->aws_region, "ap-south-1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_redis_url),
        cmocka_unit_test(test_redis_url_user),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_health_listen),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_numbers_and_enums),
        cmocka_unit_test(test_kek),
        cmocka_unit_test(test_kek_raw_ending_in_whitespace),
        cmocka_unit_test(test_kek_mode_warning),
        cmocka_unit_test(test_redis_url_redacted),
        cmocka_unit_test(test_trusted_proxies),
        cmocka_unit_test(test_redis_password_file),
        cmocka_unit_test(test_iam_settings),
        cmocka_unit_test(test_runtime_settings),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
