/*
 * config.h - the service's settings, from FLEETWARDEN_* environment variables.
 *
 * Every value is validated at start-up; a bad one stops the process with
 * exit code 2 and a message naming the variable. AWS settings are read by
 * aws/ itself with the SDK's own variable names.
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#include <stddef.h>

#include "service/core/client_addr.h"
#include "service/core/log.h"

#define CONFIG_MAX_ORIGINS 16
#define CONFIG_BOUNDARY_MAX 300   /* a policy name or ARN */
#define CONFIG_DEFAULT_TES_BOUNDARY "FleetwardenTokenExchangeBoundary"
#define CONFIG_DEFAULT_PROV_BOUNDARY "FleetwardenProvisioningBoundary"

struct fw_config {
    char listen_host[64];      /* FLEETWARDEN_LISTEN host part (default 127.0.0.1) */
    int listen_port;           /* FLEETWARDEN_LISTEN port part (default 8080; 0 = any) */
    int health_listen;         /* 1 when FLEETWARDEN_HEALTH_LISTEN is set: `worker` serves the ops routes there */
    char health_host[64];
    int health_port;
    char redis_url[256];       /* FLEETWARDEN_REDIS_URL */
    char redis_host[128];      /* parsed from the URL */
    int redis_port;
    int redis_db;
    char redis_user[128];      /* ACL user ("" = the default user: AUTH with the password alone) */
    char redis_password[128];  /* secret: never logged */
    char prefix[32];           /* FLEETWARDEN_PREFIX (default "fw:") */
    enum log_level log_level;  /* FLEETWARDEN_LOG_LEVEL */
    char cors_origins[CONFIG_MAX_ORIGINS][128]; /* FLEETWARDEN_CORS_ORIGINS, comma-separated; "*" allowed */
    int ncors_origins;
    int workers;               /* FLEETWARDEN_WORKERS (default 4, 0..64) */
    char kek_file[256];        /* FLEETWARDEN_KEK_FILE ("" = none configured) */
    int max_connections;       /* FLEETWARDEN_MAX_CONNECTIONS (default 4096) */
    int max_conn_per_addr;     /* FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS (default 256; 0 = no limit) */
    int http_threads;          /* FLEETWARDEN_HTTP_THREADS: the server's event-loop threads (default 8) */
    int conn_timeout_s;        /* FLEETWARDEN_CONN_TIMEOUT (seconds for a request's body, default 30) */
    int idle_timeout_s;        /* FLEETWARDEN_IDLE_TIMEOUT (seconds to a complete request header, default 10) */
    int max_streams;           /* FLEETWARDEN_MAX_STREAMS: open event streams per process (default 512) */
    int max_streams_token;     /* FLEETWARDEN_MAX_STREAMS_PER_TOKEN (default 16) */
    int max_polls;             /* FLEETWARDEN_MAX_LONG_POLLS: waiting ?wait= requests per process (default 1024) */
    int max_polls_token;       /* FLEETWARDEN_MAX_LONG_POLLS_PER_TOKEN (default 64) */
    int rate_addr_n;           /* FLEETWARDEN_RATE_LIMIT_ADDRESS "N[/SECONDS]": requests per client address */
    int rate_addr_s;           /*   per window of this many seconds (default 200/1; 0 = no limit) */
    int rate_token_n;          /* FLEETWARDEN_RATE_LIMIT_TOKEN "N[/SECONDS]": requests per token */
    int rate_token_s;          /*   per window (default 100/1; 0 = no limit) */
    int shutdown_grace_s;      /* FLEETWARDEN_SHUTDOWN_GRACE (default 30) */
    int shutdown_delay_s;      /* FLEETWARDEN_SHUTDOWN_DELAY: seconds served with /readyz 503 before the listener closes (default 0) */
    int metrics_public;        /* FLEETWARDEN_METRICS_PUBLIC (default true) */
    int audit_max;             /* FLEETWARDEN_AUDIT_MAX entries kept (default 100000) */
    int idem_ttl_s;            /* FLEETWARDEN_IDEM_TTL: seconds an Idempotency-Key is kept (default 86400) */
    int iot_mqtt_port;         /* FLEETWARDEN_IOT_MQTT_PORT: the data endpoint's MQTT port in device configs (AWS: 8883) */
    int iot_credentials_port;  /* FLEETWARDEN_IOT_CREDENTIALS_PORT: the credentials endpoint's port (AWS: 443) */
    /* FLEETWARDEN_TRUSTED_PROXIES: addresses or blocks whose X-Forwarded-For is believed (default none) */
    struct client_cidr trusted_proxies[CLIENT_ADDR_PROXIES_MAX];
    int ntrusted_proxies;
    /* The IAM roles of new fleets (deploy/iam/README.md): */
    int iam_precreated;        /* FLEETWARDEN_IAM_ROLES: 0 "managed" (default), 1 "precreated" */
    char iam_tes_boundary[CONFIG_BOUNDARY_MAX];   /* FLEETWARDEN_IAM_TES_BOUNDARY ("" = none) */
    char iam_prov_boundary[CONFIG_BOUNDARY_MAX];  /* FLEETWARDEN_IAM_PROVISIONING_BOUNDARY ("" = none) */
};

typedef const char *(config_getenv_fn)(const char *name, void *ud);

/* Fills c from the environment (getenv_fn NULL = getenv). On a bad value
 * returns FW_EINVAL and writes "FLEETWARDEN_X: reason" into err. */
int config_load(struct fw_config *c, config_getenv_fn *getenv_fn, void *ud, char *err, size_t errlen);

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
/* 1 when the KEK file can be read by its group or by others (a start-up
 * warning: it should be 0400 or 0600, owned by the service's user), with
 * the mode in why; 0 otherwise (also when it cannot be stat'ed). */
int config_kek_mode_warning(const char *path, char *why, size_t whylen);

#endif
