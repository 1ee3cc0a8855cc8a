/*
 * auth.c - token generation, hashing and scope names.
 *
 * Tokens carry 256 bits from the OS random generator (RAND_bytes). Only
 * their SHA-256 is stored, so a Redis dump does not leak usable tokens;
 * a plain hash suffices because the input is already high-entropy.
 */
#include "service/core/auth.h"

#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "service/core/err.h"

static const char *const s_scopes[] = {"none", "read", "operate", "admin"};

enum auth_scope auth_scope_parse(const char *s)
{
    for (int i = 1; i < 4; i++)
        if (!strcmp(s, s_scopes[i]))
            return (enum auth_scope)i;
    return SCOPE_NONE;
}

const char *auth_scope_name(enum auth_scope s)
{
    return (s >= SCOPE_NONE && s <= SCOPE_ADMIN) ? s_scopes[s] : "none";
}

static void base64url(const unsigned char *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
    } else if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
    }
    out[o] = '\0';
}

int auth_token_generate(char token[AUTH_TOKEN_LEN + 1], char id[AUTH_ID_LEN + 1])
{
    unsigned char raw[32], rid[8];
    if (RAND_bytes(raw, sizeof raw) != 1 || RAND_bytes(rid, sizeof rid) != 1)
        return FW_ECRYPTO;
    memcpy(token, "fw_", 3);
    base64url(raw, sizeof raw, token + 3);
    OPENSSL_cleanse(raw, sizeof raw);
    memcpy(id, "tok_", 4);
    for (int i = 0; i < 8; i++)
        snprintf(id + 4 + 2 * i, 3, "%02x", rid[i]);
    return 0;
}

void auth_token_hash(const char *token, char out[AUTH_HASH_HEX_LEN + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int auth_token_wellformed(const char *s)
{
    if (strncmp(s, "fw_", 3) != 0 || strlen(s) != AUTH_TOKEN_LEN)
        return 0;
    for (const char *p = s + 3; *p; p++) {
        char c = *p;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
        if (!ok)
            return 0;
    }
    return 1;
}

const char *auth_bearer(const char *value)
{
    if (!value || strncasecmp(value, "Bearer ", 7) != 0)
        return 0;
    const char *t = value + 7;
    while (*t == ' ')
        t++;
    return *t ? t : 0;
}

int auth_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++) {
        char c = *s;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == ' ' || c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}
