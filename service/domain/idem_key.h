/*
 * idem_key.h - the Idempotency-Key header's rules and the fingerprint of a
 * request, pure (no Redis), used by store_idem.h's callers.
 *
 * A key is what a client chose to name one request (a UUID, "batch-42");
 * it is bounded so a stored key never grows past what a client needs. The
 * fingerprint tells "the same request again" from "another request under
 * a key already used": a SHA-256 over the canonical request.
 */
#ifndef FW_DOMAIN_IDEM_KEY_H
#define FW_DOMAIN_IDEM_KEY_H

#include <stddef.h>

#define IDEM_KEY_MAX 200 /* characters of a key */
#define IDEM_FP_HEX 64   /* hex characters of a fingerprint */
#define IDEM_KEY_RULE "1 to 200 characters of letters, digits and -_.:~+/="

/* 1 when key is 1..IDEM_KEY_MAX characters of [A-Za-z0-9-_.:~+/=]. */
int idem_key_valid(const char *key);

/* SHA-256 (lowercase hex, out NUL-terminated) of the canonical request:
 * method, path, variant (what else tells two requests on one path apart,
 * such as "dryRun=true"; NULL = "") and the body's bytes (body may be NULL
 * when len is 0), each prefixed with its length so that no two different
 * requests share a canonical form. out is "" if the digest failed. */
void idem_fingerprint(const char *method, const char *path, const char *variant, const void *body,
                      size_t len, char out[IDEM_FP_HEX + 1]);

#endif
