/*
 * webhook_check.h - webhook URL rules and the body signature. Pure (no
 * Redis, no network), thread-safe; unit-tested in tests/unit/watch.
 *
 * A webhook URL must be https://HOST[:PORT][/PATH], or http:// only to a
 * host listed in FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS (comma-separated,
 * e.g. "127.0.0.1,localhost" for tests). No user:password@, no fragment,
 * no whitespace or control characters, at most 2048 characters.
 *
 * The signature header is X-Fleetwarden-Signature: sha256=HEX, HEX being
 * HMAC-SHA256 of the exact body bytes under the fleet's webhook secret.
 */
#ifndef FW_JOBS_HANDLERS_WEBHOOK_CHECK_H
#define FW_JOBS_HANDLERS_WEBHOOK_CHECK_H

#include <stddef.h>

#define WEBHOOK_SIG_MAX 72 /* "sha256=" + 64 hex + NUL */
#define WEBHOOK_SECRET_MIN 16
#define WEBHOOK_SECRET_MAX 256

/* 0 when url is acceptable given allow_http_hosts (a comma-separated
 * list, NULL or "" = none); else FW_EINVAL with the reason in why. */
int webhook_url_check(const char *url, const char *allow_http_hosts, char *why, size_t whylen);

/* FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS, read once ("" when unset). */
const char *webhook_allow_http_hosts(void);

/* Fills out with "sha256=" + hex HMAC-SHA256(secret, body). 0 or FW_ECRYPTO. */
int webhook_signature(const char *secret, const void *body, size_t len, char out[WEBHOOK_SIG_MAX]);

#endif
