/*
 * creds.h - AWS credentials and the SDK default provider chain.
 *
 * Chain order (as the AWS SDKs):
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN];
 *   2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      [+ AWS_ROLE_SESSION_NAME], through STS AssumeRoleWithWebIdentity;
 *   3. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
 *      AWS_CONFIG_FILE (~/.aws/config, "[profile NAME]" sections), profile
 *      AWS_PROFILE (default "default"); static keys, or role_arn with
 *      source_profile / credential_source=Environment through STS AssumeRole;
 *   4. container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
 *      169.254.170.2) or _FULL_URI (https, or http to loopback / the ECS and
 *      EKS agent addresses), with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN as the Authorization header;
 *   5. EC2 instance metadata, IMDSv2 only (AWS_EC2_METADATA_DISABLED=true
 *      skips it; AWS_EC2_METADATA_SERVICE_ENDPOINT moves it; 1 s timeouts).
 * A source that is not configured is skipped; a source that is configured
 * but fails (a bad profile, an STS error, an unreachable container
 * endpoint) stops the chain with its error, as botocore does, so a broken
 * setup is reported instead of silently falling through to another identity.
 *
 * Temporary credentials are cached and refreshed 5 minutes before they
 * expire; one refresh runs at a time, and when a refresh fails while the
 * cached credentials are still valid, those are kept.
 *
 * Providers are refcounted and thread-safe. Logs name the source only;
 * secrets are wiped when freed.
 */
#ifndef FW_AWS_CREDS_H
#define FW_AWS_CREDS_H

#include <time.h>

#include "aws/awserr.h"

struct creds {
    char *access_key_id;
    char *secret_access_key; /* wiped on cleanup */
    char *session_token;     /* NULL when none; wiped on cleanup */
    time_t expiration;       /* 0 = does not expire */
    char source[96]; /* "environment", "profile dev", "profile dev via AssumeRole", "imds", ... */
};

struct creds_provider;

/* Environment lookups go through getenv_fn so tests can inject one. */
typedef const char *(creds_getenv_fn)(const char *name, void *ud);

struct creds_chain_options {
    creds_getenv_fn *getenv_fn; /* NULL = getenv; must stay usable for the provider's life */
    void *getenv_ud;
};

/*
 * A new default chain (cached); never NULL. opt may be NULL. The
 * environment is read when credentials are resolved, not here.
 * Release with creds_provider_release.
 */
struct creds_provider *creds_provider_default_chain(const struct creds_chain_options *opt);
/* Static credentials (copied); token may be NULL. Never NULL. */
struct creds_provider *creds_provider_static(const char *akid, const char *secret,
                                             const char *token);
/* Takes one more reference. */
void creds_provider_acquire(struct creds_provider *p);
/* Drops a reference; the last one frees the provider. NULL is a no-op. */
void creds_provider_release(struct creds_provider *p);
/*
 * Resolves (or returns cached) credentials into out, which the caller
 * then owns (free with creds_cleanup). Thread-safe; may block on network
 * I/O while a source is fetched (bounded by short timeouts).
 * Returns 0, or a negative FW_E* with out zeroed and err (may be NULL)
 * filled with cls AWS_ERRC_CREDENTIALS (AWS_ERRC_THROTTLING, retryable,
 * when STS throttled a role assumption):
 *   FW_EUNAVAILABLE  no source in the chain is configured;
 *   FW_EINVAL        a configured source is malformed (bad profile file,
 *                    bad container URI, role without a source, ...);
 *   FW_EAWS          STS answered with an error (err->code, err->message);
 *   FW_EUNAVAILABLE / FW_ETIMEOUT  an endpoint could not be reached.
 */
int creds_provider_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err);
/* Deep copy; dst is overwritten (not freed first). */
void creds_copy(struct creds *dst, const struct creds *src);
/* Frees and wipes; safe on a zeroed or already cleaned struct. */
void creds_cleanup(struct creds *c);

#endif
