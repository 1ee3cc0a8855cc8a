/*
 * idem_key.c - Idempotency-Key rules and request fingerprints (pure).
 */
#include "idem_key.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

int idem_key_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n < 1 || n > IDEM_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !strchr("-_.:~+/=", c))
            return 0;
    }
    return 1;
}

/* Adds "<length>:<bytes>" so that parts cannot run into each other. */
static void part(EVP_MD_CTX *md, const void *p, size_t len)
{
    char head[32];
    int n = snprintf(head, sizeof head, "%zu:", len);
    EVP_DigestUpdate(md, head, (size_t)n);
    if (len)
        EVP_DigestUpdate(md, p, len);
}

void idem_fingerprint(const char *method, const char *path, const char *variant, const void *body,
                      size_t len, char out[IDEM_FP_HEX + 1])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    const char *parts[] = {method ? method : "", path ? path : "", variant ? variant : ""};
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    out[0] = 0;
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), 0)) {
        EVP_MD_CTX_free(md);
        return; /* out stays "": begin refuses an empty fingerprint */
    }
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        part(md, parts[i], strlen(parts[i]));
    part(md, body, body ? len : 0);
    EVP_DigestFinal_ex(md, d, &dn);
    EVP_MD_CTX_free(md);
    for (unsigned int i = 0; i < dn && i < IDEM_FP_HEX / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}
