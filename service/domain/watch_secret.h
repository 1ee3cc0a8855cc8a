/*
 * watch_secret.h - a fleet's webhook secret at rest: sealed with
 * AES-256-GCM under the key-encryption key (service/domain/seal.h), like claim
 * private keys.
 *
 * settings.watch.webhook holds {"url", "secretSealed": BLOB} where BLOB is
 * seal_kek_encrypt(secret, aad "webhook:FLEET"), so a blob copied to
 * another fleet does not open. Versions before this one stored the secret
 * in plaintext as "secret": it is still read (watch_secret_open), and
 * sealed by the next write of the fleet's settings (any PATCH, even {}).
 */
#ifndef FW_JOBS_HANDLERS_WATCH_SECRET_H
#define FW_JOBS_HANDLERS_WATCH_SECRET_H

#include <jansson.h>

/* Replaces a plaintext settings.watch.webhook.secret of fleet (settings
 * borrowed, changed in place) by its sealed form. Nothing to seal: 0.
 * 0, FW_ECRYPTO, FW_EINTERNAL (no KEK loaded). Thread-safe. */
int watch_secret_seal(json_t *settings, const char *fleet);

/* The webhook secret of fleet from its settings.watch (borrowed), sealed
 * or legacy plaintext: *secret a new NUL-terminated string (a SECRET: free
 * it with xfree_secret). FW_ENOTFOUND (no secret), FW_ECRYPTO (does not
 * open with this KEK), FW_EINVAL (not a blob). Thread-safe. */
int watch_secret_open(const json_t *watch, const char *fleet, char **secret);

#endif
