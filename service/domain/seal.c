/*
 * seal.c - AES-256-GCM sealing with OpenSSL's EVP interface.
 *
 * Layout of a blob and the reasons for it are in seal.h. Every buffer that
 * holds plaintext or key material is wiped before it is freed; the
 * process-wide KEK lives in one static array that is written once at
 * start-up (before any thread exists) and only read afterwards.
 */
#include "service/domain/seal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define SEAL_VERSION 0x01
#define NONCE_LEN 12
#define TAG_LEN 16

static unsigned char s_kek[SEAL_KEY_LEN];
static int s_kek_loaded;
static atomic_int s_kek_held;

/* Runs GCM over in[0..n) into out; enc 1 seals, 0 opens (tag checked). */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
               const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
    int rc = FW_ECRYPTO, len = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c)
        return FW_ECRYPTO;
    if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), 0, 0, 0, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, 0) != 1 ||
        EVP_CipherInit_ex(c, 0, 0, key, nonce, enc) != 1)
        goto cleanup;
    if (aad[0] && EVP_CipherUpdate(c, 0, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1)
        goto cleanup;
    if (n && EVP_CipherUpdate(c, out, &len, in, (int)n) != 1)
        goto cleanup;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
        goto cleanup;
    if (EVP_CipherFinal_ex(c, out + len, &len) != 1)
        goto cleanup;
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
        goto cleanup;
    rc = 0;
cleanup:
    EVP_CIPHER_CTX_free(c);
    return rc;
}

int seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const void *plain, size_t n,
                 const char *aad, char **out)
{
    *out = 0;
    if (n > SEAL_MAX_PLAIN)
        return FW_ETOOBIG;
    size_t raw_len = n + SEAL_OVERHEAD;
    unsigned char *raw = xmalloc(raw_len);
    raw[0] = SEAL_VERSION;
    int rc = RAND_bytes(raw + 1, NONCE_LEN) == 1 ? 0 : FW_ECRYPTO;
    if (!rc)
        rc = gcm(1, key, raw + 1, aad ? aad : "", plain, n, raw + 1 + NONCE_LEN,
                 raw + 1 + NONCE_LEN + n);
    if (!rc) {
        char *b64 = xmalloc(4 * ((raw_len + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)b64, raw, (int)raw_len);
        *out = b64;
    }
    xwipe(raw, raw_len);
    free(raw);
    return rc;
}

/* Decodes standard base64 without line breaks; *len excludes padding. */
static int b64_decode(const char *s, unsigned char **out, size_t *len)
{
    size_t n = strlen(s);
    if (n == 0 || n % 4 || n > 4 * ((SEAL_MAX_PLAIN + SEAL_OVERHEAD + 2) / 3))
        return FW_EINVAL;
    unsigned char *d = xmalloc(n / 4 * 3 + 1);
    int got = EVP_DecodeBlock(d, (const unsigned char *)s, (int)n);
    if (got < 0) {
        free(d);
        return FW_EINVAL;
    }
    size_t pad = (s[n - 1] == '=') + (s[n - 2] == '=');
    *out = d;
    *len = (size_t)got - pad;
    return 0;
}

int seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *sealed, const char *aad,
                 unsigned char **plain, size_t *n)
{
    unsigned char *raw = 0, *p = 0;
    size_t raw_len = 0, clen = 0;
    int rc = FW_EINVAL;
    *plain = 0;
    *n = 0;
    if (!sealed || b64_decode(sealed, &raw, &raw_len))
        return FW_EINVAL;
    if (raw_len < SEAL_OVERHEAD || raw[0] != SEAL_VERSION)
        goto cleanup;
    clen = raw_len - SEAL_OVERHEAD;
    p = xmalloc(clen + 1);
    rc = gcm(0, key, raw + 1, aad ? aad : "", raw + 1 + NONCE_LEN, clen, p,
             raw + 1 + NONCE_LEN + clen);
    if (rc)
        goto cleanup;
    p[clen] = 0;
    *plain = p;
    *n = clen;
    p = 0;
cleanup:
    if (p) {
        xwipe(p, clen + 1);
        free(p);
    }
    free(raw);
    return rc;
}

int seal_kek_load(const char *path, char *err, size_t errlen)
{
    unsigned char key[SEAL_KEY_LEN];
    int rc = config_read_kek(path, key, err, errlen);
    if (!rc) {
        memcpy(s_kek, key, sizeof key);
        s_kek_loaded = 1;
    }
    xwipe(key, sizeof key);
    return rc;
}

int seal_kek_loaded(void)
{
    return s_kek_loaded;
}

int seal_kek_check_value(char out[SEAL_CHECK_HEX + 1])
{
    static const char label[] = "fleetwarden key-encryption key check v1";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = '\0';
    if (!s_kek_loaded)
        return FW_EINTERNAL;
    if (!HMAC(EVP_sha256(), s_kek, SEAL_KEY_LEN, (const unsigned char *)label, sizeof label - 1,
              mac, &len) ||
        len * 2 != SEAL_CHECK_HEX)
        return FW_ECRYPTO;
    for (unsigned int i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    xwipe(mac, sizeof mac);
    return 0;
}

void seal_kek_hold(int held)
{
    atomic_store(&s_kek_held, held);
}

int seal_kek_encrypt(const void *plain, size_t n, const char *aad, char **out)
{
    *out = 0;
    if (!s_kek_loaded)
        return FW_EINTERNAL;
    return atomic_load(&s_kek_held) ? FW_EUNAVAILABLE : seal_encrypt(s_kek, plain, n, aad, out);
}

int seal_kek_decrypt(const char *sealed, const char *aad, unsigned char **plain, size_t *n)
{
    *plain = 0;
    *n = 0;
    if (!s_kek_loaded)
        return FW_EINTERNAL;
    return atomic_load(&s_kek_held) ? FW_EUNAVAILABLE : seal_decrypt(s_kek, sealed, aad, plain, n);
}

void seal_kek_wipe(void)
{
    xwipe(s_kek, sizeof s_kek);
    s_kek_loaded = 0;
}
