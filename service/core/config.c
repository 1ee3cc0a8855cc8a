/*
 * config.c - parse and validate FLEETWARDEN_* settings.
 *
 * Parsing is pure (the environment comes through a callback) so the unit
 * tests can feed any value. Numbers are parsed with strtol plus full-string
 * and range checks; nothing is silently clamped.
 */
#include "service/core/config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/core/netaddr.h"
#include "service/core/pct.h"

static const char *env_get(config_getenv_fn *fn, void *ud, const char *name)
{
    const char *v = fn ? fn(name, ud) : getenv(name);
    return (v && *v) ? v : 0;
}

static int fail(char *err, size_t errlen, const char *var, const char *why)
{
    snprintf(err, errlen, "%s: %s", var, why);
    return FW_EINVAL;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end = 0;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return FW_EINVAL;
    *out = (int)v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no")) {
        *out = 0;
        return 0;
    }
    return FW_EINVAL;
}

static int copy_field(char *dst, size_t dstlen, const char *src, size_t n)
{
    if (n >= dstlen)
        return FW_EINVAL;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* HOST:PORT of variable var into host/port. */
static int parse_hostport(const char *var, const char *s, char *host, size_t hostlen, int *port,
                          char *err, size_t errlen)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return fail(err, errlen, var, "expected HOST:PORT, e.g. 127.0.0.1:8080");
    const char *h = s;
    size_t hn = (size_t)(colon - s);
    if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    if (hn == 0 || copy_field(host, hostlen, h, hn))
        return fail(err, errlen, var, "missing or too long host");
    if (parse_int(colon + 1, 0, 65535, port))
        return fail(err, errlen, var, "port must be a number from 0 to 65535");
    return 0;
}

int config_parse_listen(const char *s, struct fw_config *c, char *err, size_t errlen)
{
    return parse_hostport("FLEETWARDEN_LISTEN", s, c->listen_host, sizeof c->listen_host,
                          &c->listen_port, err, errlen);
}

/* FLEETWARDEN_HEALTH_LISTEN: "" or unset = no listener in `worker`. */
static int parse_health_listen(const char *s, struct fw_config *c, char *err, size_t errlen)
{
    if (!*s)
        return 0;
    int rc = parse_hostport("FLEETWARDEN_HEALTH_LISTEN", s, c->health_host, sizeof c->health_host,
                            &c->health_port, err, errlen);
    c->health_listen = rc == 0;
    return rc;
}

static int parse_redis_hostport(const char *p, struct fw_config *c, char *err, size_t errlen)
{
    const char *var = "FLEETWARDEN_REDIS_URL";
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = memchr(p, ':', n);
    size_t hn = colon ? (size_t)(colon - p) : n;
    if (hn == 0 || copy_field(c->redis_host, sizeof c->redis_host, p, hn))
        return fail(err, errlen, var, "missing or too long host");
    c->redis_port = 6379;
    if (colon) {
        char port[8];
        if (copy_field(port, sizeof port, colon + 1, n - hn - 1) ||
            parse_int(port, 1, 65535, &c->redis_port))
            return fail(err, errlen, var, "port must be a number from 1 to 65535");
    }
    c->redis_db = 0;
    if (slash && slash[1] && parse_int(slash + 1, 0, 15, &c->redis_db))
        return fail(err, errlen, var, "database must be a number from 0 to 15");
    return 0;
}

/* Copies n bytes of src into dst decoding %XX (RFC 3986), so a password may hold '@', ':' or '/'.
 * Refuses a bad escape and %00 (the value is a C string). */
static int copy_decoded(char *dst, size_t dstlen, const char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)src[i];
        if (ch == '%') {
            if (i + 2 >= n || pct_hexval((unsigned char)src[i + 1]) < 0 ||
                pct_hexval((unsigned char)src[i + 2]) < 0)
                return FW_EINVAL;
            ch = pct_hexval((unsigned char)src[i + 1]) * 16 + pct_hexval((unsigned char)src[i + 2]);
            i += 2;
            if (ch == 0)
                return FW_EINVAL;
        }
        if (o + 1 >= dstlen)
            return FW_EINVAL;
        dst[o++] = (char)ch;
    }
    dst[o] = '\0';
    return 0;
}

/* The [[user]:password@] part, p .. at; errors never quote it. */
static int parse_redis_userinfo(const char *p, const char *at, struct fw_config *c, char *err,
                                size_t errlen)
{
    const char *var = "FLEETWARDEN_REDIS_URL";
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *pw = colon ? colon + 1 : p;
    if (colon && copy_decoded(c->redis_user, sizeof c->redis_user, p, (size_t)(colon - p)))
        return fail(err, errlen, var, "user: bad percent-encoding or longer than 127 bytes");
    if (copy_decoded(c->redis_password, sizeof c->redis_password, pw, (size_t)(at - pw)))
        return fail(err, errlen, var, "password: bad percent-encoding or longer than 127 bytes");
    return 0;
}

int config_parse_redis_url(const char *url, struct fw_config *c, char *err, size_t errlen)
{
    const char *var = "FLEETWARDEN_REDIS_URL";
    if (strncmp(url, "rediss://", 9) == 0)
        return fail(err, errlen, var,
                    "rediss:// (TLS) is not built in (Debian 12's hiredis 0.14 has no TLS): "
                    "run stunnel beside fleetwarden and use redis:// to it (docs/OPERATIONS.md)");
    if (strncmp(url, "redis://", 8) != 0)
        return fail(err, errlen, var, "must start with redis:// (e.g. redis://127.0.0.1:6379/0)");
    if (copy_field(c->redis_url, sizeof c->redis_url, url, strlen(url)))
        return fail(err, errlen, var, "too long");
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    c->redis_user[0] = c->redis_password[0] = '\0';
    if (at) {
        int rc = parse_redis_userinfo(p, at, c, err, errlen);
        if (rc)
            return rc;
        p = at + 1;
    }
    return parse_redis_hostport(p, c, err, errlen);
}

void config_redis_url_redacted(const struct fw_config *c, char *out, size_t outlen)
{
    int auth = c->redis_user[0] || c->redis_password[0];
    snprintf(out, outlen, "redis://%.64s%s%s%s%s%s:%d/%d", c->redis_user,
             c->redis_password[0] ? ":***" : "", auth ? "@" : "",
             strchr(c->redis_host, ':') ? "[" : "", c->redis_host,
             strchr(c->redis_host, ':') ? "]" : "", c->redis_port, c->redis_db);
}

/* FLEETWARDEN_REDIS_PASSWORD_FILE: the Redis password from a file (a
 * container or Kubernetes secret), so it is in no environment or process
 * listing; it wins over a password in the URL. One line; a trailing
 * newline is dropped. */
static int read_redis_password(const char *path, struct fw_config *c, char *err, size_t errlen)
{
    const char *var = "FLEETWARDEN_REDIS_PASSWORD_FILE";
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open %s: %s", var, path, strerror(errno));
        return FW_EIO;
    }
    char pw[sizeof c->redis_password + 2];
    size_t n = fread(pw, 1, sizeof pw - 1, f);
    fclose(f);
    while (n && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
        n--;
    int bad = n == 0 || n >= sizeof c->redis_password || memchr(pw, '\n', n) || memchr(pw, '\0', n);
    if (!bad)
        copy_field(c->redis_password, sizeof c->redis_password, pw, n);
    OPENSSL_cleanse(pw, sizeof pw);
    return bad ? fail(err, errlen, var, "must hold one line: the password, 1 to 127 bytes") : 0;
}

static int parse_proxies(const char *s, struct fw_config *c, char *err, size_t errlen)
{
    int bad = -1;
    if (client_addr_parse_list(s, c->trusted_proxies, &c->ntrusted_proxies, &bad) == 0)
        return 0;
    char why[160];
    snprintf(why, sizeof why,
             "entry %d is not an IPv4/IPv6 address or block such as 10.0.0.0/8 (at most %d "
             "entries, no host bits "
             "set after the prefix)",
             bad + 1, CLIENT_ADDR_PROXIES_MAX);
    return fail(err, errlen, "FLEETWARDEN_TRUSTED_PROXIES", why);
}

/* A permissions boundary setting: "none" (stored as ""), an IAM policy name
 * (1-128 of [A-Za-z0-9+=,.@_-]) or an IAM policy ARN
 * (arn:PARTITION:iam::ACCOUNT:policy/[PATH/]NAME). */
static int parse_boundary(const char *var, const char *v, char out[CONFIG_BOUNDARY_MAX], char *err,
                          size_t errlen)
{
    static const char name_chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-";
    size_t n = strlen(v);
    if (!strcmp(v, "none")) {
        out[0] = '\0';
        return 0;
    }
    const char *pol = strstr(v, ":policy/");
    int arn = !strncmp(v, "arn:", 4) && pol && strstr(v, ":iam::") && strspn(pol + 8, "/") == 0;
    const char *name = arn ? strrchr(v, '/') + 1 : v;
    size_t nn = strlen(name);
    if (n >= CONFIG_BOUNDARY_MAX || nn == 0 || nn > 128 || strspn(name, name_chars) != nn)
        return fail(err, errlen, var, "must be none, an IAM policy name or an IAM policy ARN");
    memcpy(out, v, n + 1);
    return 0;
}

static int parse_origins(const char *s, struct fw_config *c, char *err, size_t errlen)
{
    const char *var = "FLEETWARDEN_CORS_ORIGINS";
    c->ncors_origins = 0;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = strcspn(s, ", ");
        if (n == 0)
            break;
        if (c->ncors_origins == CONFIG_MAX_ORIGINS)
            return fail(err, errlen, var, "at most 16 origins");
        char *o = c->cors_origins[c->ncors_origins];
        if (copy_field(o, 128, s, n))
            return fail(err, errlen, var, "origin longer than 127 characters");
        if (strcmp(o, "*") && strncmp(o, "http://", 7) && strncmp(o, "https://", 8))
            return fail(err, errlen, var,
                        "each origin must be * or start with http:// or https://");
        c->ncors_origins++;
        s += n;
    }
    return 0;
}

static int parse_iam_roles(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    if (strcmp(v, "managed") && strcmp(v, "precreated"))
        return fail(err, errlen, "FLEETWARDEN_IAM_ROLES", "must be managed or precreated");
    c->iam_precreated = !strcmp(v, "precreated");
    return 0;
}

static int parse_tes_boundary(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    return parse_boundary("FLEETWARDEN_IAM_TES_BOUNDARY", v, c->iam_tes_boundary, err, errlen);
}

static int parse_prov_boundary(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    return parse_boundary("FLEETWARDEN_IAM_PROVISIONING_BOUNDARY", v, c->iam_prov_boundary, err,
                          errlen);
}

static int parse_log_level(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    if (log_level_parse(v, &c->log_level))
        return fail(err, errlen, "FLEETWARDEN_LOG_LEVEL", "must be debug, info, warn or error");
    return 0;
}

static int parse_watch_interval(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    int x;
    if (parse_int(v, 0, 86400, &x) || (x != 0 && x < 60))
        return fail(err, errlen, "FLEETWARDEN_WATCH_INTERVAL",
                    "must be 0 or a number of seconds from 60 to 86400");
    c->watch_interval_s = x;
    return 0;
}

static int load_prefix(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    const char *var = "FLEETWARDEN_PREFIX";
    size_t n = strlen(v);
    if (n > 24)
        return fail(err, errlen, var, "at most 24 characters");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch <= ' ' || ch >= 0x7f)
            return fail(err, errlen, var, "printable ASCII without spaces only");
    }
    return copy_field(c->prefix, sizeof c->prefix, v, n);
}

/* "N" or "N/SECONDS": at most N requests per window; N = 0 turns the limit off. */
static int parse_req_limit(const char *var, const char *v, int *n, int *secs, char *err,
                           size_t errlen)
{
    char num[16];
    const char *slash = strchr(v, '/');
    size_t len = slash ? (size_t)(slash - v) : strlen(v);
    *secs = 1;
    if (copy_field(num, sizeof num, v, len) || parse_int(num, 0, 1000000, n) ||
        (slash && parse_int(slash + 1, 1, 86400, secs)))
        return fail(err, errlen, var,
                    "must be N or N/SECONDS: at most N requests (0 to 1000000; 0 = no limit) per "
                    "SECONDS (1 to 86400)");
    return 0;
}

static int parse_limit_address(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    return parse_req_limit("FLEETWARDEN_RATE_LIMIT_ADDRESS", v, &c->rate_addr_n, &c->rate_addr_s,
                           err, errlen);
}

static int parse_limit_token(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    return parse_req_limit("FLEETWARDEN_RATE_LIMIT_TOKEN", v, &c->rate_token_n, &c->rate_token_s,
                           err, errlen);
}

static int parse_webhook_addresses(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    char why[160];
    if (netaddr_list_parse(v, &c->webhook_allow_addresses, why, sizeof why))
        return fail(err, errlen, "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES", why);
    return 0;
}

static int parse_iot_addresses(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    char why[160];
    if (netaddr_list_parse(v, &c->iot_allow_addresses, why, sizeof why))
        return fail(err, errlen, "FLEETWARDEN_IOT_ALLOW_ADDRESSES", why);
    return 0;
}

static int parse_iot_alpn(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    if (strcmp(v, "auto") && strcmp(v, "on") && strcmp(v, "off"))
        return fail(err, errlen, "FLEETWARDEN_IOT_MQTT_ALPN", "must be auto, on or off");
    snprintf(c->iot_mqtt_alpn, sizeof c->iot_mqtt_alpn, "%s", v);
    return 0;
}

static void set_defaults(struct fw_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    snprintf(c->prefix, sizeof c->prefix, "fw:");
    c->log_level = LOG_INFO;
    c->workers = 4;
    c->max_connections = 4096;
    c->max_conn_per_addr = 256;
    c->http_threads = 8;
    c->conn_timeout_s = 30;
    c->idle_timeout_s = 10;
    c->max_streams = 512;
    c->max_streams_token = 16;
    c->max_polls = 1024;
    c->max_polls_token = 64;
    c->rate_addr_n = 200;
    c->rate_addr_s = 1;
    c->rate_token_n = 100;
    c->rate_token_s = 1;
    c->shutdown_grace_s = 30;
    c->metrics_public = 1;
    c->audit_max = 100000;
    snprintf(c->iam_tes_boundary, sizeof c->iam_tes_boundary, CONFIG_DEFAULT_TES_BOUNDARY);
    snprintf(c->iam_prov_boundary, sizeof c->iam_prov_boundary, CONFIG_DEFAULT_PROV_BOUNDARY);
    c->iam_settle_s = 120;
    c->policy_delete_wait_s = 330;
    c->job_ttl_s = 7 * 86400;
    c->dead_ttl_s = 30 * 86400;
    c->idem_ttl_s = 86400;
    c->job_lease_ms = 30000;
    c->reaper_ms = 5000;
    c->retry_base_ms = 1000;
    c->retry_cap_ms = 300000;
    c->max_stalls = 3;
    c->claim_key_ttl_s = 86400;
    c->rotation_scan_s = 60;
    c->watch_interval_s = 300;
    snprintf(c->aws_region, sizeof c->aws_region, "us-east-1");
    c->iot_mqtt_port = 8883;       /* AWS IoT's MQTT port (443 with ALPN is the other) */
    c->iot_credentials_port = 443; /* the credentials provider is HTTPS on 443 only */
    snprintf(c->iot_mqtt_alpn, sizeof c->iot_mqtt_alpn, "auto");
    c->verify_timeout_ms = 10000;
}

/* ---- the table: every FLEETWARDEN_* setting, in the order they are read ---- */

enum setting_kind {
    SET_INT,   /* an int at off, lo..hi */
    SET_BOOL,  /* an int at off: 1/true/yes or 0/false/no */
    SET_STR,   /* a string copied into char[size] at off */
    SET_FN,    /* parse() checks and stores it; show() writes the value in effect */
    SET_RATES, /* FLEETWARDEN_RATE_<FAMILY>: every variable with that prefix */
};

struct setting {
    const char *name;
    enum setting_kind kind;
    size_t off, size; /* SET_INT, SET_BOOL, SET_STR: where in struct fw_config */
    long lo, hi;      /* SET_INT */
    const char *unit; /* SET_INT: "seconds", ... ("" = a plain number) */
    int (*parse)(const char *v, struct fw_config *c, char *err, size_t errlen); /* SET_FN */
    void (*show)(const struct fw_config *c, char *out, size_t outlen);          /* SET_FN */
};

#define INT_SET(n, field, lo, hi, unit)                                                            \
    {                                                                                              \
        n, SET_INT, offsetof(struct fw_config, field), 0, lo, hi, unit, 0, 0                       \
    }
#define BOOL_SET(n, field)                                                                         \
    {                                                                                              \
        n, SET_BOOL, offsetof(struct fw_config, field), 0, 0, 0, 0, 0, 0                           \
    }
#define STR_SET(n, field)                                                                          \
    {                                                                                              \
        n, SET_STR, offsetof(struct fw_config, field), sizeof((struct fw_config *)0)->field, 0, 0, \
            0, 0, 0                                                                                \
    }
#define FN_SET(n, parse, show)                                                                     \
    {                                                                                              \
        n, SET_FN, 0, 0, 0, 0, 0, parse, show                                                      \
    }

static void show_listen(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s:%d", c->listen_host, c->listen_port);
}

static void show_health(const struct fw_config *c, char *out, size_t n)
{
    if (c->health_listen)
        snprintf(out, n, "%s:%d", c->health_host, c->health_port);
    else
        snprintf(out, n, "(none)");
}

static void show_redis(const struct fw_config *c, char *out, size_t n)
{
    config_redis_url_redacted(c, out, n);
}

static void show_password_file(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s", c->redis_password_file[0] ? c->redis_password_file : "(none)");
}

static void show_prefix(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s", c->prefix);
}

static void show_log_level(const struct fw_config *c, char *out, size_t n)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    snprintf(out, n, "%s", names[c->log_level]);
}

static void show_origins(const struct fw_config *c, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < c->ncors_origins && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "," : "", c->cors_origins[i]);
    if (!c->ncors_origins)
        snprintf(out, n, "(none)");
}

static void show_proxies(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%d entries", c->ntrusted_proxies);
}

static void show_iam_roles(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s", c->iam_precreated ? "precreated" : "managed");
}

static void show_tes_boundary(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s", c->iam_tes_boundary[0] ? c->iam_tes_boundary : "none");
}

static void show_prov_boundary(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s", c->iam_prov_boundary[0] ? c->iam_prov_boundary : "none");
}

static void show_watch_interval(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%d", c->watch_interval_s);
}

static void show_limit_address(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%d/%d", c->rate_addr_n, c->rate_addr_s);
}

static void show_limit_token(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%d/%d", c->rate_token_n, c->rate_token_s);
}

static void show_webhook_addresses(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%d entries", c->webhook_allow_addresses.n);
}

static void show_iot_addresses(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%d entries", c->iot_allow_addresses.n);
}

static void show_iot_alpn(const struct fw_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s", c->iot_mqtt_alpn);
}

static int parse_redis_url_setting(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    return config_parse_redis_url(v, c, err, errlen);
}

static int parse_password_file(const char *v, struct fw_config *c, char *err, size_t errlen)
{
    if (copy_field(c->redis_password_file, sizeof c->redis_password_file, v, strlen(v)))
        return fail(err, errlen, "FLEETWARDEN_REDIS_PASSWORD_FILE", "path too long");
    return read_redis_password(v, c, err, errlen);
}

static const struct setting s_settings[] = {
    FN_SET("FLEETWARDEN_LISTEN", config_parse_listen, show_listen),
    FN_SET("FLEETWARDEN_HEALTH_LISTEN", parse_health_listen, show_health),
    FN_SET("FLEETWARDEN_REDIS_URL", parse_redis_url_setting, show_redis),
    FN_SET("FLEETWARDEN_REDIS_PASSWORD_FILE", parse_password_file, show_password_file),
    FN_SET("FLEETWARDEN_PREFIX", load_prefix, show_prefix),
    FN_SET("FLEETWARDEN_LOG_LEVEL", parse_log_level, show_log_level),
    FN_SET("FLEETWARDEN_CORS_ORIGINS", parse_origins, show_origins),
    BOOL_SET("FLEETWARDEN_METRICS_PUBLIC", metrics_public),
    STR_SET("FLEETWARDEN_KEK_FILE", kek_file),
    FN_SET("FLEETWARDEN_TRUSTED_PROXIES", parse_proxies, show_proxies),
    INT_SET("FLEETWARDEN_WORKERS", workers, 0, 64, ""),
    INT_SET("FLEETWARDEN_MAX_CONNECTIONS", max_connections, 1, 100000, ""),
    INT_SET("FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS", max_conn_per_addr, 0, 100000, ""),
    INT_SET("FLEETWARDEN_HTTP_THREADS", http_threads, 1, 64, ""),
    INT_SET("FLEETWARDEN_CONN_TIMEOUT", conn_timeout_s, 1, 3600, "seconds"),
    INT_SET("FLEETWARDEN_IDLE_TIMEOUT", idle_timeout_s, 1, 3600, "seconds"),
    INT_SET("FLEETWARDEN_MAX_STREAMS", max_streams, 0, 100000, ""),
    INT_SET("FLEETWARDEN_MAX_STREAMS_PER_TOKEN", max_streams_token, 0, 100000, ""),
    INT_SET("FLEETWARDEN_MAX_LONG_POLLS", max_polls, 0, 100000, ""),
    INT_SET("FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN", max_polls_token, 0, 100000, ""),
    FN_SET("FLEETWARDEN_RATE_LIMIT_ADDRESS", parse_limit_address, show_limit_address),
    FN_SET("FLEETWARDEN_RATE_LIMIT_TOKEN", parse_limit_token, show_limit_token),
    INT_SET("FLEETWARDEN_SHUTDOWN_DELAY", shutdown_delay_s, 0, 600, "seconds"),
    INT_SET("FLEETWARDEN_SHUTDOWN_GRACE", shutdown_grace_s, 0, 3600, "seconds"),
    INT_SET("FLEETWARDEN_AUDIT_MAX", audit_max, 100, 10000000, ""),
    INT_SET("FLEETWARDEN_IOT_MQTT_PORT", iot_mqtt_port, 1, 65535, ""),
    INT_SET("FLEETWARDEN_IOT_CREDENTIALS_PORT", iot_credentials_port, 1, 65535, ""),
    FN_SET("FLEETWARDEN_IAM_ROLES", parse_iam_roles, show_iam_roles),
    FN_SET("FLEETWARDEN_IAM_TES_BOUNDARY", parse_tes_boundary, show_tes_boundary),
    FN_SET("FLEETWARDEN_IAM_PROVISIONING_BOUNDARY", parse_prov_boundary, show_prov_boundary),
    INT_SET("FLEETWARDEN_IAM_SETTLE_S", iam_settle_s, 0, 900, "seconds"),
    INT_SET("FLEETWARDEN_POLICY_DELETE_WAIT_S", policy_delete_wait_s, 0, 3600, "seconds"),
    INT_SET("FLEETWARDEN_JOB_TTL", job_ttl_s, 1, 3650L * 86400, "seconds"),
    INT_SET("FLEETWARDEN_DEAD_TTL", dead_ttl_s, 1, 3650L * 86400, "seconds"),
    INT_SET("FLEETWARDEN_IDEM_TTL", idem_ttl_s, 1, 365L * 86400, "seconds"),
    INT_SET("FLEETWARDEN_JOB_LEASE_MS", job_lease_ms, 300, 3600000, "milliseconds"),
    INT_SET("FLEETWARDEN_REAPER_MS", reaper_ms, 100, 600000, "milliseconds"),
    INT_SET("FLEETWARDEN_RETRY_BASE_MS", retry_base_ms, 0, 3600000, "milliseconds"),
    INT_SET("FLEETWARDEN_RETRY_CAP_MS", retry_cap_ms, 0, 86400000, "milliseconds"),
    INT_SET("FLEETWARDEN_MAX_STALLS", max_stalls, 1, 100, ""),
    {"FLEETWARDEN_RATE_<FAMILY>", SET_RATES, 0, 0, 0, 0, 0, 0, 0},
    INT_SET("FLEETWARDEN_CLAIM_KEY_TTL", claim_key_ttl_s, 1, 31L * 86400, "seconds"),
    INT_SET("FLEETWARDEN_ROTATION_SCAN_S", rotation_scan_s, 1, 86400, "seconds"),
    FN_SET("FLEETWARDEN_WATCH_INTERVAL", parse_watch_interval, show_watch_interval),
    STR_SET("FLEETWARDEN_ROOT_CA_FILE", root_ca_file),
    STR_SET("FLEETWARDEN_DOCS_DIR", docs_dir),
    STR_SET("FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS", webhook_allow_http_hosts),
    FN_SET("FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES", parse_webhook_addresses, show_webhook_addresses),
    FN_SET("FLEETWARDEN_IOT_MQTT_ALPN", parse_iot_alpn, show_iot_alpn),
    STR_SET("FLEETWARDEN_IOT_ENDPOINT_HOSTS", iot_endpoint_hosts),
    FN_SET("FLEETWARDEN_IOT_ALLOW_ADDRESSES", parse_iot_addresses, show_iot_addresses),
    INT_SET("FLEETWARDEN_VERIFY_TIMEOUT_MS", verify_timeout_ms, 500, 120000, "milliseconds"),
};

/* A name of the table (FLEETWARDEN_RATE_LIMIT_ADDRESS is a setting, no rate family). */
static int in_table(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof s_settings / sizeof s_settings[0]; i++)
        if (strlen(s_settings[i].name) == n && !strncmp(s_settings[i].name, name, n))
            return 1;
    return 0;
}

static int load_one(const struct setting *s, const char *v, struct fw_config *c, char *err,
                    size_t errlen)
{
    char why[96];
    switch (s->kind) {
    case SET_INT:
        if (!parse_int(v, s->lo, s->hi, (int *)((char *)c + s->off)))
            return 0;
        snprintf(why, sizeof why, "must be a number%s%s from %ld to %ld", *s->unit ? " of " : "",
                 s->unit, s->lo, s->hi);
        return fail(err, errlen, s->name, why);
    case SET_BOOL:
        return parse_bool(v, (int *)((char *)c + s->off))
                   ? fail(err, errlen, s->name, "must be true or false")
                   : 0;
    case SET_STR:
        return copy_field((char *)c + s->off, s->size, v, strlen(v))
                   ? fail(err, errlen, s->name, "too long")
                   : 0;
    case SET_FN: return s->parse(v, c, err, errlen);
    case SET_RATES: return 0; /* read from the whole environment: load_rates */
    }
    return 0;
}

static const char *const *s_rate_families;

void config_set_rate_families(const char *const *families)
{
    s_rate_families = families;
}

/* 0 when fam is a known family (or none were given); else FW_EINVAL naming the known ones. */
static int rate_family_known(const char *name, const char *fam, char *err, size_t errlen)
{
    if (!s_rate_families)
        return 0;
    char why[512];
    size_t o =
        (size_t)snprintf(why, sizeof why, "no such family (upper case, '_' for '-'); known: ");
    for (const char *const *f = s_rate_families; *f; f++) {
        if (!strcmp(*f, fam))
            return 0;
        if (o < sizeof why)
            o += (size_t)snprintf(why + o, sizeof why - o, "%s%s", f == s_rate_families ? "" : ", ",
                                  *f);
    }
    return fail(err, errlen, name, why);
}

int config_parse_rate(const char *name, const char *value, struct fw_config *c, char *err,
                      size_t errlen)
{
    static const char prefix[] = "FLEETWARDEN_RATE_";
    const char *fam = name + sizeof prefix - 1;
    char *end = 0;
    if (strncmp(name, prefix, sizeof prefix - 1) || !*fam)
        return fail(err, errlen, name, "not a FLEETWARDEN_RATE_<FAMILY> variable");
    if (c->nrates == CONFIG_MAX_RATES || strlen(fam) >= CONFIG_RATE_FAMILY_MAX)
        return fail(err, errlen, name, "too many rate overrides or too long a family name");
    if (rate_family_known(name, fam, err, errlen))
        return FW_EINVAL;
    double r = strtod(value, &end), b = r < 1 ? 1 : r;
    int bad = end == value || !(r > 0 && r <= 100000);
    if (!bad && *end == ':') {
        const char *bs = end + 1;
        b = strtod(bs, &end);
        bad = end == bs || !(b >= 1 && b <= 1000000);
    }
    if (bad || *end)
        return fail(err, errlen, name,
                    "must be RATE or RATE:BURST (0 < RATE <= 100000, 1 <= BURST <= 1000000)");
    struct config_rate *o = &c->rates[c->nrates++];
    snprintf(o->family, sizeof o->family, "%s", fam);
    o->rate = r;
    o->burst = b;
    return 0;
}

extern char **environ;

/* Every FLEETWARDEN_RATE_* of the process's environment (a unit test's fake one has none). */
static int load_rates(struct fw_config *c, char *err, size_t errlen)
{
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        char name[96];
        if (strncmp(*e, "FLEETWARDEN_RATE_", 17) || !eq || !eq[1] ||
            in_table(*e, (size_t)(eq - *e)))
            continue;
        if (copy_field(name, sizeof name, *e, (size_t)(eq - *e)))
            return fail(err, errlen, "FLEETWARDEN_RATE_<FAMILY>", "variable name too long");
        int rc = config_parse_rate(name, eq + 1, c, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* The default AWS region: AWS_REGION, then AWS_DEFAULT_REGION (as the SDKs), checked once. */
static int load_region(struct fw_config *c, config_getenv_fn *fn, void *ud, char *err,
                       size_t errlen)
{
    static const char *const names[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = env_get(fn, ud, names[i]);
        if (!v)
            continue;
        size_t n = strlen(v);
        if (n >= sizeof c->aws_region || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
            return fail(err, errlen, names[i], "must be an AWS region name such as eu-west-1");
        memcpy(c->aws_region, v, n + 1);
        return 0;
    }
    return 0;
}

int config_load(struct fw_config *c, config_getenv_fn *fn, void *ud, char *err, size_t errlen)
{
    set_defaults(c);
    int rc = config_parse_redis_url("redis://127.0.0.1:6379/0", c, err, errlen);
    for (size_t i = 0; !rc && i < sizeof s_settings / sizeof s_settings[0]; i++) {
        const char *v = env_get(fn, ud, s_settings[i].name);
        if (v)
            rc = load_one(&s_settings[i], v, c, err, errlen);
    }
    if (!rc && !fn)
        rc = load_rates(c, err, errlen);
    if (!rc)
        rc = load_region(c, fn, ud, err, errlen);
    if (!rc && c->kek_file[0]) {
        unsigned char key[32];
        rc = config_read_kek(c->kek_file, key, err, errlen);
        OPENSSL_cleanse(key, sizeof key);
    }
    return rc;
}

static void show_one(const struct setting *s, const struct fw_config *c, char *out, size_t n)
{
    const char *str = (const char *)c + s->off;
    switch (s->kind) {
    case SET_INT: snprintf(out, n, "%d", *(const int *)(const void *)str); return;
    case SET_BOOL:
        snprintf(out, n, "%s", *(const int *)(const void *)str ? "true" : "false");
        return;
    case SET_STR: snprintf(out, n, "%s", *str ? str : "(none)"); return;
    case SET_FN: s->show(c, out, n); return;
    case SET_RATES: {
        size_t o = (size_t)snprintf(out, n, "%s", c->nrates ? "" : "(AWS default quotas)");
        for (int i = 0; i < c->nrates && o < n; i++)
            o += (size_t)snprintf(out + o, n - o, "%s%s=%g:%g", i ? "," : "", c->rates[i].family,
                                  c->rates[i].rate, c->rates[i].burst);
        return;
    }
    }
}

void config_show(const struct fw_config *c, FILE *out)
{
    char v[1100];
    for (size_t i = 0; i < sizeof s_settings / sizeof s_settings[0]; i++) {
        show_one(&s_settings[i], c, v, sizeof v);
        fprintf(out, "%s=%s\n", s_settings[i].name, v);
    }
    fprintf(out, "AWS_REGION (default region)=%s\n", c->aws_region);
}

static struct fw_config s_current, s_defaults;
static atomic_int s_published;
static pthread_once_t s_defaults_once = PTHREAD_ONCE_INIT;

static void make_defaults(void)
{
    set_defaults(&s_defaults);
}

void config_publish(const struct fw_config *c)
{
    s_current = *c;
    atomic_store(&s_published, 1);
}

const struct fw_config *config_get(void)
{
    if (atomic_load(&s_published))
        return &s_current;
    pthread_once(&s_defaults_once, make_defaults);
    return &s_defaults;
}

/* Decodes the file content as 32 raw bytes, 64 hex digits or base64. The
 * exact length decides first: a raw key may end in a byte that looks like
 * whitespace (~1.2% of `openssl rand 32` outputs end in \n, \r or a
 * space), so nothing is trimmed before a raw key is ruled out. */
static int decode_kek(const unsigned char *d, size_t n, unsigned char key[32])
{
    if (n == 32 || (n == 33 && d[32] == '\n')) {
        memcpy(key, d, 32);
        return 0;
    }
    while (n && (d[n - 1] == '\n' || d[n - 1] == '\r' || d[n - 1] == ' ' || d[n - 1] == '\t'))
        n--;
    if (n == 64) {
        for (size_t i = 0; i < 32; i++) {
            int hi = pct_hexval(d[2 * i]), lo = pct_hexval(d[2 * i + 1]);
            if (hi < 0 || lo < 0)
                goto try_b64;
            key[i] = (unsigned char)(hi << 4 | lo);
        }
        return 0;
    }
try_b64:
    if (n == 44) {
        unsigned char out[48];
        int len = EVP_DecodeBlock(out, d, (int)n);
        int ok = len == 33 && d[43] == '=' && d[42] != '=';
        if (ok)
            memcpy(key, out, 32);
        OPENSSL_cleanse(out, sizeof out);
        if (ok)
            return 0;
    }
    return FW_EINVAL;
}

int config_read_kek(const char *path, unsigned char key[32], char *err, size_t errlen)
{
    const char *var = "FLEETWARDEN_KEK_FILE";
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open %s: %s", var, path, strerror(errno));
        return FW_EIO;
    }
    unsigned char data[128];
    size_t n = fread(data, 1, sizeof data, f);
    int big = !feof(f);
    fclose(f);
    int rc = (big || decode_kek(data, n, key)) ? fail(err, errlen, var,
                                                      "must hold a 32-byte key: 32 raw bytes, 64 "
                                                      "hex digits or base64 (openssl rand -hex 32)")
                                               : 0;
    OPENSSL_cleanse(data, sizeof data);
    return rc;
}

int config_kek_mode_warning(const char *path, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) || !(st.st_mode & (S_IRWXG | S_IRWXO)))
        return 0;
    snprintf(why, whylen,
             "%s has mode %04o: its group or others can reach the key-encryption key (chmod 0400 "
             "or 0600)",
             path, (unsigned)(st.st_mode & 07777));
    return 1;
}

/* The number of PEM blocks of the NUL-terminated data ("-----BEGIN " at a line's start). */
static int pem_blocks(const char *data)
{
    int k = 0;
    for (const char *p = data; (p = strstr(p, "-----BEGIN ")) != 0; p++)
        if (p == data || p[-1] == '\n')
            k++;
    return k;
}

/* 0 when data[0..n) is PEM certificates only (comments between them allowed). */
static int root_ca_valid(const char *data, size_t n, const char **why)
{
    *why = "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
    if (memchr(data, '\0', n))
        return FW_EINVAL;
    BIO *b = BIO_new_mem_buf(data, (int)n);
    if (!b)
        return FW_EINVAL;
    int certs = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, 0, 0, 0)) != 0) {
        X509_free(x);
        certs++;
    }
    BIO_free(b);
    ERR_clear_error(); /* the end of the data is an error to PEM_read_bio_X509 */
    if (pem_blocks(data) != certs) {
        *why = "holds a PEM block that is not a certificate, or a certificate that does not parse";
        return FW_EINVAL;
    }
    return certs ? 0 : FW_EINVAL;
}

int config_read_root_ca(const struct fw_config *c, char **pem, char *err, size_t errlen)
{
    const char *var = "FLEETWARDEN_ROOT_CA_FILE";
    int set = c->root_ca_file[0] != 0;
    const char *path = set ? c->root_ca_file : CONFIG_ROOT_CA_DEFAULT;
    *pem = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open %s: %s%s", var, path, strerror(errno),
                 set ? "" : " (install ca-certificates or set FLEETWARDEN_ROOT_CA_FILE)");
        return set ? FW_EIO : FW_ENOTFOUND;
    }
    char *data = xmalloc(CONFIG_ROOT_CA_MAX + 2);
    size_t n = fread(data, 1, CONFIG_ROOT_CA_MAX + 1, f);
    int rd = ferror(f);
    fclose(f);
    data[n] = '\0';
    const char *why = "cannot be read";
    int rc = FW_EIO;
    if (!rd && n > CONFIG_ROOT_CA_MAX) {
        why = "is larger than 1 MiB: give the root CA (Amazon Root CA 1), not a whole trust store";
        rc = FW_EINVAL;
    } else if (!rd) {
        rc = root_ca_valid(data, n, &why);
    }
    if (rc) {
        snprintf(err, errlen, "%s: %s %s", var, path, why);
        free(data);
        return set ? rc : FW_ENOTFOUND;
    }
    *pem = xrealloc(data, n + 1); /* what the file holds, not the 1 MiB bound */
    return 0;
}
