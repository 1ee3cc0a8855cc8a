/*
 * config.h - the service's settings, from FLEETWARDEN_* environment variables.
 *
 * Every FLEETWARDEN_* setting is in one table in config.c: read and
 * validated once at start-up (a bad one stops the process with exit code 2
 * and a message naming the variable), shown by `fleetwarden check`, and
 * compared with README.md's table by the suite. Nothing else in the product
 * reads a FLEETWARDEN_* variable (tests/tools/check_source.py): modules take
 * their values from config_get(). AWS settings are read by aws/ itself with
 * the SDK's own variable names, except the default region, resolved here once
 * (AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1).
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "service/core/client_addr.h"
#include "service/core/log.h"
#include "service/core/netaddr.h"

#define CONFIG_MAX_ORIGINS 16
#define CONFIG_BOUNDARY_MAX 300 /* a policy name or ARN */
#define CONFIG_DEFAULT_TES_BOUNDARY "FleetwardenTokenExchangeBoundary"
#define CONFIG_DEFAULT_PROV_BOUNDARY "FleetwardenProvisioningBoundary"
#define CONFIG_MAX_RATES 32 /* FLEETWARDEN_RATE_<FAMILY> overrides */
#define CONFIG_RATE_FAMILY_MAX 48
#define CONFIG_ROOT_CA_DEFAULT "/usr/share/ca-certificates/mozilla/Amazon_Root_CA_1.crt"
#define CONFIG_ROOT_CA_MAX (1024 * 1024) /* bytes of FLEETWARDEN_ROOT_CA_FILE */

/* FLEETWARDEN_RATE_<FAMILY>=RATE[:BURST]: family is the name's tail as written (IOT_CERT_CREATE).
 */
struct config_rate {
    char family[CONFIG_RATE_FAMILY_MAX];
    double rate, burst;
};

struct fw_config {
    char listen_host[64]; /* FLEETWARDEN_LISTEN host part (default 127.0.0.1) */
    int listen_port;      /* FLEETWARDEN_LISTEN port part (default 8080; 0 = any) */
    int health_listen;    /* 1 when FLEETWARDEN_HEALTH_LISTEN is set: `worker` serves the ops routes
                             there */
    char health_host[64];
    int health_port;
    char redis_url[256];  /* FLEETWARDEN_REDIS_URL */
    char redis_host[128]; /* parsed from the URL */
    int redis_port;
    int redis_db;
    char redis_user[128];     /* ACL user ("" = the default user: AUTH with the password alone) */
    char redis_password[128]; /* secret: never logged */
    char redis_password_file[256]; /* FLEETWARDEN_REDIS_PASSWORD_FILE ("" = none) */
    char prefix[32];               /* FLEETWARDEN_PREFIX (default "fw:") */
    enum log_level log_level;      /* FLEETWARDEN_LOG_LEVEL */
    char cors_origins[CONFIG_MAX_ORIGINS]
                     [128]; /* FLEETWARDEN_CORS_ORIGINS, comma-separated; "*" allowed */
    int ncors_origins;
    int workers;           /* FLEETWARDEN_WORKERS (default 4, 0..64) */
    char kek_file[256];    /* FLEETWARDEN_KEK_FILE ("" = none configured) */
    int max_connections;   /* FLEETWARDEN_MAX_CONNECTIONS (default 4096) */
    int max_conn_per_addr; /* FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS (default 256; 0 = no limit) */
    int http_threads;   /* FLEETWARDEN_HTTP_THREADS: the server's event-loop threads (default 8) */
    int conn_timeout_s; /* FLEETWARDEN_CONN_TIMEOUT (seconds for a request's body, default 30) */
    int idle_timeout_s; /* FLEETWARDEN_IDLE_TIMEOUT (seconds to a complete request header, default
                           10) */
    int max_streams;    /* FLEETWARDEN_MAX_STREAMS: open event streams per process (default 512) */
    int max_streams_token; /* FLEETWARDEN_MAX_STREAMS_PER_TOKEN (default 16) */
    int max_polls; /* FLEETWARDEN_MAX_LONG_POLLS: waiting ?wait= requests per process (default 1024)
                    */
    int max_polls_token; /* FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN (default 64) */
    int rate_addr_n; /* FLEETWARDEN_RATE_LIMIT_ADDRESS "N[/SECONDS]": requests per client address */
    int rate_addr_s; /*   per window of this many seconds (default 200/1; 0 = no limit) */
    int rate_token_n;     /* FLEETWARDEN_RATE_LIMIT_TOKEN "N[/SECONDS]": requests per token */
    int rate_token_s;     /*   per window (default 100/1; 0 = no limit) */
    int shutdown_grace_s; /* FLEETWARDEN_SHUTDOWN_GRACE (default 30) */
    int shutdown_delay_s; /* FLEETWARDEN_SHUTDOWN_DELAY: seconds served with /readyz 503 before the
                             listener closes (default 0) */
    int metrics_public;   /* FLEETWARDEN_METRICS_PUBLIC (default true) */
    int audit_max;        /* FLEETWARDEN_AUDIT_MAX entries kept (default 100000) */
    int idem_ttl_s; /* FLEETWARDEN_IDEM_TTL: seconds an Idempotency-Key is kept (default 86400) */
    int iot_mqtt_port; /* FLEETWARDEN_IOT_MQTT_PORT: the data endpoint's MQTT port in device configs
                          (AWS: 8883) */
    int iot_credentials_port; /* FLEETWARDEN_IOT_CREDENTIALS_PORT: the credentials endpoint's port
                                 (AWS: 443) */
    /* FLEETWARDEN_TRUSTED_PROXIES: addresses or blocks whose X-Forwarded-For is believed (default
     * none) */
    struct client_cidr trusted_proxies[CLIENT_ADDR_PROXIES_MAX];
    int ntrusted_proxies;
    /* The IAM roles of new fleets (deploy/iam/README.md): */
    int iam_precreated; /* FLEETWARDEN_IAM_ROLES: 0 "managed" (default), 1 "precreated" */
    char iam_tes_boundary[CONFIG_BOUNDARY_MAX];  /* FLEETWARDEN_IAM_TES_BOUNDARY ("" = none) */
    char iam_prov_boundary[CONFIG_BOUNDARY_MAX]; /* FLEETWARDEN_IAM_PROVISIONING_BOUNDARY ("" =
                                                    none) */
    int iam_settle_s;         /* FLEETWARDEN_IAM_SETTLE_S (default 120, 0..900) */
    int policy_delete_wait_s; /* FLEETWARDEN_POLICY_DELETE_WAIT_S (default 330, 0..3600) */
    /* The job runtime (jobs/queue.c): */
    int job_ttl_s;                              /* FLEETWARDEN_JOB_TTL (default 7 days) */
    int dead_ttl_s;                             /* FLEETWARDEN_DEAD_TTL (default 30 days) */
    int job_lease_ms;                           /* FLEETWARDEN_JOB_LEASE_MS (default 30000) */
    int reaper_ms;                              /* FLEETWARDEN_REAPER_MS (default 5000) */
    int retry_base_ms;                          /* FLEETWARDEN_RETRY_BASE_MS (default 1000) */
    int retry_cap_ms;                           /* FLEETWARDEN_RETRY_CAP_MS (default 300000) */
    int max_stalls;                             /* FLEETWARDEN_MAX_STALLS (default 3) */
    struct config_rate rates[CONFIG_MAX_RATES]; /* FLEETWARDEN_RATE_<FAMILY> */
    int nrates;
    /* Claims, the watch, webhooks, docs: */
    int claim_key_ttl_s;     /* FLEETWARDEN_CLAIM_KEY_TTL (default 86400, 1..31 days) */
    int rotation_scan_s;     /* FLEETWARDEN_ROTATION_SCAN_S (default 60, 1..86400) */
    int watch_interval_s;    /* FLEETWARDEN_WATCH_INTERVAL (default 300; 0 or 60..86400) */
    char root_ca_file[256];  /* FLEETWARDEN_ROOT_CA_FILE ("" = Debian's Amazon Root CA 1) */
    const char *root_ca_pem; /* its certificates, read whole at start-up (config_read_root_ca;
                                NULL: none, the default file missing) */
    char docs_dir[256];      /* FLEETWARDEN_DOCS_DIR ("" = the build's install directory) */
    char
        webhook_allow_http_hosts[1024]; /* FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS (comma-separated) */
    struct netaddr_list webhook_allow_addresses; /* FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES */
    char iot_mqtt_alpn[8];         /* FLEETWARDEN_IOT_MQTT_ALPN: auto (on port 443 only), on, off */
    char iot_endpoint_hosts[1024]; /* FLEETWARDEN_IOT_ENDPOINT_HOSTS: names a verification may dial
                                      besides AWS's */
    struct netaddr_list iot_allow_addresses; /* FLEETWARDEN_IOT_ALLOW_ADDRESSES: internal addresses
                                                they may resolve to */
    int verify_timeout_ms; /* FLEETWARDEN_VERIFY_TIMEOUT_MS: each MQTT or HTTPS wait of a
                              verification */
    char aws_region[32];   /* AWS_REGION / AWS_DEFAULT_REGION (default us-east-1) */
};

typedef const char *(config_getenv_fn)(const char *name, void *ud);

/* Fills c from the environment (getenv_fn NULL = getenv). On a bad value
 * returns FW_EINVAL and writes "FLEETWARDEN_X: reason" into err. */
int config_load(struct fw_config *c, config_getenv_fn *getenv_fn, void *ud, char *err,
                size_t errlen);

/* Adds the override FLEETWARDEN_RATE_<FAMILY>=value (name is the whole
 * variable name) to c: "RATE" or "RATE:BURST", 0 < RATE <= 100000,
 * 1 <= BURST <= 1000000. 0 or FW_EINVAL with "NAME: reason" in err.
 * config_load calls it for each such variable of environ(7) when getenv_fn
 * is NULL. */
int config_parse_rate(const char *name, const char *value, struct fw_config *c, char *err,
                      size_t errlen);

/* The FLEETWARDEN_RATE_<FAMILY> families the binary has, as the variables spell them
 * (IOT_CERT_CREATE), NULL-terminated and kept by the caller: the composition root gives the job
 * runtime's table before config_load, which then refuses any other family (a misspelt or
 * lower-case one would be silently ignored), naming the variable and the known families. Not
 * given (unit tests, tools): any family is taken. Call before threads start. */
void config_set_rate_families(const char *const *families);

/* Writes one line per setting of the table, "NAME=value" (the value in
 * effect, the default when unset; the Redis password never), for
 * `fleetwarden check`. */
void config_show(const struct fw_config *c, FILE *out);

/* The settings the process runs with: main publishes what config_load read
 * before any thread starts; modules read them with config_get(). Before a
 * publish (unit tests, tools) config_get() gives the defaults. */
void config_publish(const struct fw_config *c);
const struct fw_config *config_get(void);

/* Parses redis://[[user]:password@]host[:port][/db] (user and password percent-decoded; a
 * password without ':' before it, redis://password@host, is taken as the password). rediss://
 * is refused with a pointer to the TLS tunnel (hiredis 0.14 has no TLS). 0 or FW_EINVAL. */
int config_parse_redis_url(const char *url, struct fw_config *c, char *err, size_t errlen);

/* The Redis URL to show (messages, `check`): redis://[user][:***@]host:port/db,
 * the password never in it. */
void config_redis_url_redacted(const struct fw_config *c, char *out, size_t outlen);

/* Parses HOST:PORT (IPv4 or [IPv6]). 0 or FW_EINVAL. */
int config_parse_listen(const char *s, struct fw_config *c, char *err, size_t errlen);

/* Reads the 32-byte key-encryption key. The format is decided by the file's
 * exact length before anything is trimmed: 32 bytes are a raw key (any
 * bytes, a trailing newline or space included), 33 bytes ending in a
 * newline are a raw key plus that newline; otherwise, after trailing
 * whitespace is trimmed, 64 hex digits or 44 characters of base64.
 * 0, or FW_EINVAL/FW_EIO with a reason in err. key is wiped by the caller. */
int config_read_kek(const char *path, unsigned char key[32], char *err, size_t errlen);
/* Reads the root CA file in effect (FLEETWARDEN_ROOT_CA_FILE, else CONFIG_ROOT_CA_DEFAULT)
 * whole into *pem (new, NUL-terminated; kept for the process's life): PEM certificates only
 * (at least one; every PEM block a certificate that parses), at most CONFIG_ROOT_CA_MAX bytes.
 * 0; FW_EINVAL/FW_EIO with "FLEETWARDEN_ROOT_CA_FILE: reason" in err (a set file that is
 * missing, unreadable, too big or not certificates); FW_ENOTFOUND when the setting is unset and
 * the default file cannot be read (bundles then carry no root CA: a warning, not an error). */
int config_read_root_ca(const struct fw_config *c, char **pem, char *err, size_t errlen);

/* 1 when the KEK file can be read by its group or by others (a start-up
 * warning: it should be 0400 or 0600, owned by the service's user), with
 * the mode in why; 0 otherwise (also when it cannot be stat'ed). */
int config_kek_mode_warning(const char *path, char *why, size_t whylen);

#endif
