/*
 * creds_internal.h - declarations shared by the aws/creds*.c files and
 * their tests; not for the rest of the service.
 *
 * A provider is a vtable plus an impl pointer (aws-c-auth's shape). Every
 * provider's get follows one convention: 0 with out filled; FW_ENOTFOUND
 * when its source is not configured (the chain moves on); any other
 * negative FW_E* when the source is configured but failed (the chain
 * stops), with err filled.
 */
#ifndef FW_AWS_CREDS_INTERNAL_H
#define FW_AWS_CREDS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "aws/creds.h"
#include "aws/http.h"

/* ---- providers (creds.c) ---- */

typedef int(creds_get_fn)(struct creds_provider *p, struct creds *out, struct aws_api_error *err);
typedef void(creds_destroy_fn)(void *impl);

struct creds_provider_vtable {
    const char *name; /* for logs: "environment", "chain", ... */
    creds_get_fn *get;
    creds_destroy_fn *destroy; /* frees impl; may be NULL */
};

struct creds_provider {
    const struct creds_provider_vtable *vt;
    atomic_int refs;
    void *impl; /* owned; freed by vt->destroy */
};

/* The environment a provider reads (a copy of the chain options). */
struct creds_env {
    creds_getenv_fn *fn; /* NULL = getenv */
    void *ud;
};

/* A provider with one reference; takes ownership of impl. */
struct creds_provider *creds__provider_new(const struct creds_provider_vtable *vt, void *impl);
/* Set value of name, or NULL when unset or empty. */
const char *creds__getenv(const struct creds_env *e, const char *name);
/* Fills err (when not NULL) with cls AWS_ERRC_CREDENTIALS and returns rc. */
int creds__fail(struct aws_api_error *err, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Parses ISO 8601 UTC ("2026-11-28T06:15:00Z", fractions and "+00:00"
 * allowed). 0 or FW_EINVAL. */
int creds__parse_time(const char *s, time_t *out);
/* Reads a small secret file (a token), trailing whitespace trimmed. A new
 * string (free with xfree_secret), or NULL when the file is missing,
 * unreadable, empty or longer than max bytes. */
char *creds__read_secret_file(const char *path, size_t max);
/* Sets every field of out from copies of the arguments (token may be NULL). */
void creds__set(struct creds *out, const char *akid, const char *secret, const char *token,
                time_t expiration, const char *source);

/* Runs each provider in order (takes the references given). */
struct creds_provider *creds__chain_new(struct creds_provider **list, size_t n);
/* Caches inner's answer until refresh_before_s before it expires (takes inner). */
struct creds_provider *creds__cached_new(struct creds_provider *inner, long refresh_before_s);
#define CREDS_REFRESH_BEFORE_S 300

/* ---- the sources (creds_env.c, creds_webid.c, creds_profile.c, ...) ---- */

struct creds_provider *creds__env_provider_new(const struct creds_env *e);
struct creds_provider *creds__webid_provider_new(const struct creds_env *e);
struct creds_provider *creds__profile_provider_new(const struct creds_env *e);
struct creds_provider *creds__container_provider_new(const struct creds_env *e);
struct creds_provider *creds__imds_provider_new(const struct creds_env *e);

/* Reads AWS_ACCESS_KEY_ID & co. into out; FW_ENOTFOUND when unset,
 * FW_EINVAL when only one of the pair is set. */
int creds__from_env(const struct creds_env *e, struct creds *out, struct aws_api_error *err);

/* ---- INI files (creds_ini.c) ---- */

struct creds_ini_kv {
    char *key;
    char *value; /* may hold a secret: wiped on free */
};

struct creds_ini_section {
    char *name; /* as written between the brackets, trimmed */
    struct creds_ini_kv *kv;
    size_t nkv;
};

struct creds_ini {
    struct creds_ini_section *sec;
    size_t nsec;
};

/*
 * Parses an AWS shared config/credentials file. Lines: "[section]",
 * "key = value", blank lines, comments starting with '#' or ';' (also
 * after a section header). Indented lines under a key with an empty value
 * are sub-properties (kept as "key.sub"). Keys are case-sensitive; a
 * repeated key or section merges, the later value wins.
 * Returns 0 with *out set (free with creds_ini_free), or FW_EINVAL with
 * errbuf describing the first bad line ("line 3: ...").
 */
int creds_ini_parse(const char *text, size_t len, struct creds_ini **out, char *errbuf,
                    size_t errlen);
/* Reads and parses a file: FW_ENOTFOUND when it does not exist, FW_EIO, FW_ETOOBIG (> 1 MiB) or
 * FW_EINVAL. */
int creds_ini_load(const char *path, struct creds_ini **out, char *errbuf, size_t errlen);
void creds_ini_free(struct creds_ini *ini);
const struct creds_ini_section *creds_ini_section(const struct creds_ini *ini, const char *name);
/* Value of key in sec, or NULL (sec may be NULL). */
const char *creds_ini_get(const struct creds_ini_section *sec, const char *key);

/* ---- HTTP for credential endpoints (creds.c, over aws/http.h) ---- */

#define CREDS_HTTP_MAX_BODY (64 * 1024)

struct creds_http_req {
    const char *method; /* "GET", "PUT", "POST" */
    const char *url;
    const struct aws_http_header *headers; /* values may be secrets: aws/http.c wipes its copies */
    size_t nheaders;
    const char *body; /* NULL for none */
    size_t body_len;
    long timeout_ms; /* whole transfer */
    long connect_timeout_ms;
    int no_proxy; /* 1 for link-local/loopback endpoints */
};

/* One request on a fresh aws/http.c handle (credential fetches are rare:
 * once per expiry), no redirects, the answer capped at CREDS_HTTP_MAX_BODY.
 * resp is initialised here; always release it with
 * aws_http_response_cleanup (which wipes the body). 0 when an HTTP answer
 * came back (any status); FW_ETIMEOUT, FW_EUNAVAILABLE (connect, TLS or
 * transfer error), FW_ETOOBIG (body over the cap) or FW_EINTERNAL. */
int creds__http_fetch(const struct creds_http_req *req, struct aws_http_response *resp);

/* Parses the JSON answer of the container and IMDS endpoints
 * (AccessKeyId, SecretAccessKey, Token, Expiration). 0 or FW_EINVAL. */
int creds__parse_json_creds(const char *body, size_t len, const char *source, struct creds *out,
                            struct aws_api_error *err);

/* ---- STS (creds_sts.c) ---- */

struct creds_sts_call {
    const struct creds_env *env;
    const char *region;         /* NULL = AWS_REGION / AWS_DEFAULT_REGION / us-east-1 */
    const char *form;           /* the form body: Action=...&Version=... */
    const struct creds *signer; /* NULL = unsigned (AssumeRoleWithWebIdentity) */
    const char *source;         /* the source name given to the result */
};

/* POSTs the call to STS (endpoint module, overrides honoured) and parses
 * the Credentials of the answer. 0, FW_EAWS (STS error: err->code and
 * message set), FW_EINVAL (bad answer), or a transport error. */
int creds__sts_call(const struct creds_sts_call *call, struct creds *out,
                    struct aws_api_error *err);
/* Parses an STS XML answer (Credentials or Error). Same codes. */
int creds__sts_parse(const char *xml, size_t len, long http_status, const char *source,
                     struct creds *out, struct aws_api_error *err);
/* Appends "&key=value" with value form-encoded to a growing string. */
char *creds__form_add(char *form, const char *key, const char *value);

/* ---- web identity (creds_webid.c) ---- */

struct creds_webid_args {
    const char *token_file;
    const char *role_arn;
    const char *session_name; /* NULL = "fleetwarden-<unix time>" */
    const char *region;       /* NULL = AWS_REGION / AWS_DEFAULT_REGION / us-east-1 */
    const char *source;       /* the source name given to the result */
};

/* Reads the token file and calls AssumeRoleWithWebIdentity. */
int creds__webid_assume(const struct creds_env *e, const struct creds_webid_args *a,
                        struct creds *out, struct aws_api_error *err);

/* ---- container endpoint helpers (creds_container.c) ---- */

/* The URL to fetch and whether it is allowed: FW_ENOTFOUND when neither
 * variable is set, FW_EINVAL for a FULL_URI that is not https and not to an
 * allowed local address. url gets the full URL. */
int creds__container_url(const struct creds_env *e, char *url, size_t urlcap,
                         struct aws_api_error *err);

#endif
