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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/core/netaddr.h"

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
static int parse_hostport(const char *var, const char *s, char *host, size_t hostlen, int *port, char *err,
                          size_t errlen)
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
    return parse_hostport("FLEETWARDEN_LISTEN", s, c->listen_host, sizeof c->listen_host, &c->listen_port, err,
                          errlen);
}

/* FLEETWARDEN_HEALTH_LISTEN: "" or unset = no listener in `worker`. */
static int parse_health_listen(const char *s, struct fw_config *c, char *err, size_t errlen)
{
    if (!*s)
        return 0;
    int rc = parse_hostport("FLEETWARDEN_HEALTH_LISTEN", s, c->health_host, sizeof c->health_host, &c->health_port,
                            err, errlen);
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
        if (copy_field(port, sizeof port, colon + 1, n - hn - 1) || parse_int(port, 1, 65535, &c->redis_port))
            return fail(err, errlen, var, "port must be a number from 1 to 65535");
    }
    c->redis_db = 0;
    if (slash && slash[1] && parse_int(slash + 1, 0, 15, &c->redis_db))
        return fail(err, errlen, var, "database must be a number from 0 to 15");
    return 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Copies n bytes of src into dst decoding %XX (RFC 3986), so a password may hold '@', ':' or '/'.
 * Refuses a bad escape and %00 (the value is a C string). */
static int copy_decoded(char *dst, size_t dstlen, const char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)src[i];
        if (ch == '%') {
            if (i + 2 >= n || hexval((unsigned char)src[i + 1]) < 0 || hexval((unsigned char)src[i + 2]) < 0)
                return FW_EINVAL;
            ch = hexval((unsigned char)src[i + 1]) * 16 + hexval((unsigned char)src[i + 2]);
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
static int parse_redis_userinfo(const char *p, const char *at, struct fw_config *c, char *err, size_t errlen)
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
        return fail(err, errlen, var, "rediss:// (TLS) is not built in (Debian 12's hiredis 0.14 has no TLS): "
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
    snprintf(out, outlen, "redis://%.64s%s%s%s%s%s:%d/%d", c->redis_user, c->redis_password[0] ? ":***" : "",
             auth ? "@" : "", strchr(c->redis_host, ':') ? "[" : "", c->redis_host,
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
             "entry %d is not an IPv4/IPv6 address or block such as 10.0.0.0/8 (at most %d entries, no host bits "
             "set after the prefix)",
             bad + 1, CLIENT_ADDR_PROXIES_MAX);
    return fail(err, errlen, "FLEETWARDEN_TRUSTED_PROXIES", why);
}

/* A permissions boundary setting: "none" (stored as ""), an IAM policy name
 * (1-128 of [A-Za-z0-9+=,.@_-]) or an IAM policy ARN
 * (arn:PARTITION:iam::ACCOUNT:policy/[PATH/]NAME). */
static int parse_boundary(const char *var, const char *v, char out[CONFIG_BOUNDARY_MAX], char *err, size_t errlen)
{
    static const char name_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-";
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

static int load_iam(struct fw_config *c, config_getenv_fn *fn, void *ud, char *err, size_t errlen)
{
    const char *v;
    int rc;
    if ((v = env_get(fn, ud, "FLEETWARDEN_IAM_ROLES"))) {
        if (strcmp(v, "managed") && strcmp(v, "precreated"))
            return fail(err, errlen, "FLEETWARDEN_IAM_ROLES", "must be managed or precreated");
        c->iam_precreated = !strcmp(v, "precreated");
    }
    if ((v = env_get(fn, ud, "FLEETWARDEN_IAM_TES_BOUNDARY")) &&
        (rc = parse_boundary("FLEETWARDEN_IAM_TES_BOUNDARY", v, c->iam_tes_boundary, err, errlen)))
        return rc;
    if ((v = env_get(fn, ud, "FLEETWARDEN_IAM_PROVISIONING_BOUNDARY")) &&
        (rc = parse_boundary("FLEETWARDEN_IAM_PROVISIONING_BOUNDARY", v, c->iam_prov_boundary, err, errlen)))
        return rc;
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
            return fail(err, errlen, var, "each origin must be * or start with http:// or https://");
        c->ncors_origins++;
        s += n;
    }
    return 0;
}

static void set_defaults(struct fw_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    strcpy(c->prefix, "fw:");
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
    c->idem_ttl_s = 86400;
    c->iot_mqtt_port = 8883;        /* AWS IoT's MQTT port (443 with ALPN is the other) */
    c->iot_credentials_port = 443;  /* the credentials provider is HTTPS on 443 only */
    strcpy(c->iam_tes_boundary, CONFIG_DEFAULT_TES_BOUNDARY);
    strcpy(c->iam_prov_boundary, CONFIG_DEFAULT_PROV_BOUNDARY);
}

struct int_var {
    const char *name;
    long lo, hi;
    size_t off;
    const char *why;
};

static const struct int_var s_ints[] = {
    {"FLEETWARDEN_WORKERS", 0, 64, offsetof(struct fw_config, workers), "must be a number from 0 to 64"},
    {"FLEETWARDEN_MAX_CONNECTIONS", 1, 100000, offsetof(struct fw_config, max_connections),
     "must be a number from 1 to 100000"},
    {"FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS", 0, 100000, offsetof(struct fw_config, max_conn_per_addr),
     "must be a number from 0 (no limit) to 100000"},
    {"FLEETWARDEN_HTTP_THREADS", 1, 64, offsetof(struct fw_config, http_threads), "must be a number from 1 to 64"},
    {"FLEETWARDEN_CONN_TIMEOUT", 1, 3600, offsetof(struct fw_config, conn_timeout_s),
     "must be a number of seconds from 1 to 3600"},
    {"FLEETWARDEN_IDLE_TIMEOUT", 1, 3600, offsetof(struct fw_config, idle_timeout_s),
     "must be a number of seconds from 1 to 3600"},
    {"FLEETWARDEN_MAX_STREAMS", 0, 100000, offsetof(struct fw_config, max_streams),
     "must be a number from 0 to 100000"},
    {"FLEETWARDEN_MAX_STREAMS_PER_TOKEN", 0, 100000, offsetof(struct fw_config, max_streams_token),
     "must be a number from 0 to 100000"},
    {"FLEETWARDEN_MAX_LONG_POLLS", 0, 100000, offsetof(struct fw_config, max_polls),
     "must be a number from 0 to 100000"},
    {"FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN", 0, 100000, offsetof(struct fw_config, max_polls_token),
     "must be a number from 0 to 100000"},
    {"FLEETWARDEN_SHUTDOWN_DELAY", 0, 600, offsetof(struct fw_config, shutdown_delay_s),
     "must be a number of seconds from 0 to 600"},
    {"FLEETWARDEN_SHUTDOWN_GRACE", 0, 3600, offsetof(struct fw_config, shutdown_grace_s),
     "must be a number of seconds from 0 to 3600"},
    {"FLEETWARDEN_AUDIT_MAX", 100, 10000000, offsetof(struct fw_config, audit_max),
     "must be a number from 100 to 10000000"},
    {"FLEETWARDEN_IDEM_TTL", 1, 365L * 86400, offsetof(struct fw_config, idem_ttl_s),
     "must be a number of seconds from 1 to 31536000"},
    {"FLEETWARDEN_IOT_MQTT_PORT", 1, 65535, offsetof(struct fw_config, iot_mqtt_port),
     "must be a port number from 1 to 65535"},
    {"FLEETWARDEN_IOT_CREDENTIALS_PORT", 1, 65535, offsetof(struct fw_config, iot_credentials_port),
     "must be a port number from 1 to 65535"},
};

static int load_ints(struct fw_config *c, config_getenv_fn *fn, void *ud, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof s_ints / sizeof s_ints[0]; i++) {
        const char *v = env_get(fn, ud, s_ints[i].name);
        int *dst = (int *)((char *)c + s_ints[i].off);
        if (v && parse_int(v, s_ints[i].lo, s_ints[i].hi, dst))
            return fail(err, errlen, s_ints[i].name, s_ints[i].why);
    }
    return 0;
}

/* "N" or "N/SECONDS": at most N requests per window; N = 0 turns the limit off. */
static int parse_rate(const char *var, const char *v, int *n, int *secs, char *err, size_t errlen)
{
    char num[16];
    const char *slash = strchr(v, '/');
    size_t len = slash ? (size_t)(slash - v) : strlen(v);
    *secs = 1;
    if (copy_field(num, sizeof num, v, len) || parse_int(num, 0, 1000000, n) ||
        (slash && parse_int(slash + 1, 1, 86400, secs)))
        return fail(err, errlen, var,
                    "must be N or N/SECONDS: at most N requests (0 to 1000000; 0 = no limit) per SECONDS (1 to 86400)");
    return 0;
}

static int load_limits(struct fw_config *c, config_getenv_fn *fn, void *ud, char *err, size_t errlen)
{
    const char *v;
    int rc = 0;
    if ((v = env_get(fn, ud, "FLEETWARDEN_RATE_LIMIT_ADDRESS")) &&
        (rc = parse_rate("FLEETWARDEN_RATE_LIMIT_ADDRESS", v, &c->rate_addr_n, &c->rate_addr_s, err, errlen)))
        return rc;
    if ((v = env_get(fn, ud, "FLEETWARDEN_RATE_LIMIT_TOKEN")) &&
        (rc = parse_rate("FLEETWARDEN_RATE_LIMIT_TOKEN", v, &c->rate_token_n, &c->rate_token_s, err, errlen)))
        return rc;
    struct netaddr_list allow;
    char why[160];
    if ((v = env_get(fn, ud, "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES")) &&
        netaddr_list_parse(v, &allow, why, sizeof why))
        return fail(err, errlen, "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES", why);
    return 0;
}

static int load_prefix(struct fw_config *c, const char *v, char *err, size_t errlen)
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

static int load_strings(struct fw_config *c, config_getenv_fn *fn, void *ud, char *err, size_t errlen)
{
    const char *v;
    int rc = 0;
    if ((v = env_get(fn, ud, "FLEETWARDEN_LISTEN")) && (rc = config_parse_listen(v, c, err, errlen)))
        return rc;
    if ((v = env_get(fn, ud, "FLEETWARDEN_HEALTH_LISTEN")) && (rc = parse_health_listen(v, c, err, errlen)))
        return rc;
    v = env_get(fn, ud, "FLEETWARDEN_REDIS_URL");
    if ((rc = config_parse_redis_url(v ? v : "redis://127.0.0.1:6379/0", c, err, errlen)))
        return rc;
    if ((v = env_get(fn, ud, "FLEETWARDEN_REDIS_PASSWORD_FILE")) && (rc = read_redis_password(v, c, err, errlen)))
        return rc;
    if ((v = env_get(fn, ud, "FLEETWARDEN_PREFIX")) && (rc = load_prefix(c, v, err, errlen)))
        return rc;
    if ((v = env_get(fn, ud, "FLEETWARDEN_LOG_LEVEL")) && log_level_parse(v, &c->log_level))
        return fail(err, errlen, "FLEETWARDEN_LOG_LEVEL", "must be debug, info, warn or error");
    if ((v = env_get(fn, ud, "FLEETWARDEN_CORS_ORIGINS")) && (rc = parse_origins(v, c, err, errlen)))
        return rc;
    if ((v = env_get(fn, ud, "FLEETWARDEN_METRICS_PUBLIC")) && parse_bool(v, &c->metrics_public))
        return fail(err, errlen, "FLEETWARDEN_METRICS_PUBLIC", "must be true or false");
    if ((v = env_get(fn, ud, "FLEETWARDEN_KEK_FILE")) && copy_field(c->kek_file, sizeof c->kek_file, v, strlen(v)))
        return fail(err, errlen, "FLEETWARDEN_KEK_FILE", "path too long");
    if ((v = env_get(fn, ud, "FLEETWARDEN_TRUSTED_PROXIES")) && (rc = parse_proxies(v, c, err, errlen)))
        return rc;
    return 0;
}

int config_load(struct fw_config *c, config_getenv_fn *fn, void *ud, char *err, size_t errlen)
{
    set_defaults(c);
    int rc = load_strings(c, fn, ud, err, errlen);
    if (!rc)
        rc = load_ints(c, fn, ud, err, errlen);
    if (!rc)
        rc = load_limits(c, fn, ud, err, errlen);
    if (!rc)
        rc = load_iam(c, fn, ud, err, errlen);
    if (!rc && c->kek_file[0]) {
        unsigned char key[32];
        rc = config_read_kek(c->kek_file, key, err, errlen);
        OPENSSL_cleanse(key, sizeof key);
    }
    return rc;
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
            int hi = hexval(d[2 * i]), lo = hexval(d[2 * i + 1]);
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
    int rc = (big || decode_kek(data, n, key))
                 ? fail(err, errlen, var, "must hold a 32-byte key: 32 raw bytes, 64 hex digits or base64 (openssl rand -hex 32)")
                 : 0;
    OPENSSL_cleanse(data, sizeof data);
    return rc;
}

int config_kek_mode_warning(const char *path, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) || !(st.st_mode & (S_IRWXG | S_IRWXO)))
        return 0;
    snprintf(why, whylen, "%s has mode %04o: its group or others can reach the key-encryption key (chmod 0400 or 0600)",
             path, (unsigned)(st.st_mode & 07777));
    return 1;
}
