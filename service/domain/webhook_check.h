/*
 * webhook_check.h - webhook URL rules and the body signature. Pure (no
 * Redis, no network), thread-safe; unit-tested in tests/unit/watch.
 *
 * A webhook URL must be https://HOST[:PORT][/PATH], or http:// only to a
 * host listed in FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS (comma-separated,
 * e.g. "127.0.0.1,localhost" for tests). No user:password@, no fragment,
 * no whitespace or control characters, at most 2048 characters. A host
 * that is a literal internal address in any spelling ("127.0.0.1",
 * "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "169.254.169.254") or
 * "localhost" is refused unless FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES covers
 * it; names are resolved and checked at delivery (webhook_deliver.c).
 *
 * The signature header is X-Fleetwarden-Signature: sha256=HEX, HEX being
 * HMAC-SHA256 of the exact body bytes under the fleet's webhook secret.
 */
#ifndef FW_JOBS_HANDLERS_WEBHOOK_CHECK_H
#define FW_JOBS_HANDLERS_WEBHOOK_CHECK_H

#include <stddef.h>

#include "service/core/netaddr.h"

#define WEBHOOK_SIG_MAX 72 /* "sha256=" + 64 hex + NUL */
#define WEBHOOK_SECRET_MIN 16
#define WEBHOOK_SECRET_MAX 256

/* Where webhooks may go besides public https hosts. */
struct webhook_policy {
    const char *allow_http_hosts;               /* comma-separated; NULL or "" = none */
    const struct netaddr_list *allow_addresses; /* internal addresses allowed; NULL = none */
};

/* 0 when url is acceptable under p (NULL = the strictest policy); else
 * FW_EINVAL with the reason in why. */
int webhook_url_check(const char *url, const struct webhook_policy *p, char *why, size_t whylen);

/* The URL's host (brackets of an IPv6 literal removed) and port (443 for
 * https, 80 for http when none is given), for a URL webhook_url_check
 * accepted. 0, or FW_EINVAL. */
int webhook_url_host(const char *url, char *host, size_t hostlen, int *port);

/* NULL when the address may be contacted under p, else the kind of
 * internal range that refuses it ("loopback", "private", ...). */
const char *webhook_address_refused(const struct netaddr *a, const struct webhook_policy *p);

/* The URL as a read-scope token may see it: scheme, host and port, with
 * any path or query replaced by "/" + "***" (webhook URLs often carry a secret
 * in their path). A new string. */
char *webhook_url_masked(const char *url);

/* The policy from FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS and
 * FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES (config_get(): checked at start-up). */
const struct webhook_policy *webhook_policy(void);

/* Fills out with "sha256=" + hex HMAC-SHA256(secret, body). 0 or FW_ECRYPTO. */
int webhook_signature(const char *secret, const void *body, size_t len, char out[WEBHOOK_SIG_MAX]);

#endif
