/*
 * auth.h - API tokens and scopes.
 *
 * A token is "fw_" + 32 random bytes in base64url (no padding). Only its
 * SHA-256 is stored (service/store). Scopes are ordered: read < operate <
 * admin, each including the ones before.
 */
#ifndef FW_AUTH_H
#define FW_AUTH_H

#include <stddef.h>

enum auth_scope { SCOPE_NONE = 0, SCOPE_READ, SCOPE_OPERATE, SCOPE_ADMIN };

#define AUTH_TOKEN_LEN 46 /* "fw_" + 43 base64url chars */
#define AUTH_HASH_HEX_LEN 64
#define AUTH_ID_LEN 20 /* "tok_" + 16 hex chars */

struct auth_token {
    char id[AUTH_ID_LEN + 1]; /* public id, safe to log */
    char name[65];
    enum auth_scope scope;
};

/* "read"/"operate"/"admin" -> scope; SCOPE_NONE when unknown. */
enum auth_scope auth_scope_parse(const char *s);
const char *auth_scope_name(enum auth_scope s);

/* Makes a new secret token (AUTH_TOKEN_LEN chars + NUL) and a new id.
 * 0, or FW_ECRYPTO when the random generator fails. Wipe token after use. */
int auth_token_generate(char token[AUTH_TOKEN_LEN + 1], char id[AUTH_ID_LEN + 1]);
/* SHA-256 of the token in lowercase hex. */
void auth_token_hash(const char *token, char out[AUTH_HASH_HEX_LEN + 1]);
/* 1 when s looks like a token (prefix, length, alphabet); cheap pre-check. */
int auth_token_wellformed(const char *s);
/* Extracts the token from an Authorization header value ("Bearer X").
 * Returns a pointer into value, or NULL when absent/malformed. */
const char *auth_bearer(const char *value);
/* Token names: 1..64 of [A-Za-z0-9 ._-]. */
int auth_name_valid(const char *s);

#endif
