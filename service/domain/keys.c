/*
 * keys.c - key generation, CSRs, CSR validation and fingerprints (OpenSSL 3).
 *
 * Used by claim creation: the service generates a claim's key pair, sends
 * AWS only a CSR, and later proves which certificate belongs to which key
 * by comparing public-key fingerprints (SHA-256 of the DER
 * SubjectPublicKeyInfo). CSRs from outside are validated before they reach
 * AWS: one PEM block, a valid self-signature, and an accepted key type.
 *
 * Private key material only ever lives in OpenSSL objects (freed with
 * EVP_PKEY_free, which clears them) and in PEM strings that callers wipe.
 * Cost: an EC P-256 key takes well under a millisecond, RSA-2048 some tens
 * of milliseconds; both run on worker threads, never under a lock.
 */
#include "service/domain/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "service/core/err.h"
#include "service/core/mem.h"

struct keys_pair {
    EVP_PKEY *pkey;
};

static const char *const s_kind_names[] = {"ec-p256", "rsa2048"};

const char *keys_kind_name(enum keys_kind k)
{
    return (unsigned)k < 2 ? s_kind_names[k] : "unknown";
}

int keys_kind_parse(const char *s)
{
    for (int i = 0; i < 2; i++)
        if (s && !strcmp(s, s_kind_names[i]))
            return i;
    return -1;
}

int keys_generate(enum keys_kind kind, struct keys_pair **out)
{
    *out = 0;
    EVP_PKEY *p = kind == KEYS_RSA_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (!p)
        return FW_ECRYPTO;
    *out = xcalloc(1, sizeof **out);
    (*out)->pkey = p;
    return 0;
}

int keys_from_private_pem(const char *pem, size_t len, struct keys_pair **out)
{
    *out = 0;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return FW_ECRYPTO;
    EVP_PKEY *p = PEM_read_bio_PrivateKey(b, 0, 0, 0);
    BIO_free(b);
    if (!p)
        return FW_EINVAL;
    *out = xcalloc(1, sizeof **out);
    (*out)->pkey = p;
    return 0;
}

void keys_free(struct keys_pair *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

/* Copies a memory BIO's content into a new NUL-terminated string. */
static char *bio_string(BIO *b)
{
    char *data = 0;
    long n = BIO_get_mem_data(b, &data);
    if (n < 0 || !data)
        return 0;
    return xstrndup(data, (size_t)n);
}

int keys_private_pem(const struct keys_pair *k, char **pem)
{
    *pem = 0;
    BIO *b = BIO_new(BIO_s_secmem());
    if (!b)
        return FW_ECRYPTO;
    int rc = FW_ECRYPTO;
    if (PEM_write_bio_PrivateKey(b, k->pkey, 0, 0, 0, 0, 0) == 1) {
        *pem = bio_string(b);
        rc = *pem ? 0 : FW_ECRYPTO;
    }
    BIO_free(b); /* secure memory BIOs are cleared on free */
    return rc;
}

static const char s_hex[] = "0123456789abcdef";

/* SHA-256 of the DER SubjectPublicKeyInfo of p, as hex. */
static int pkey_fingerprint(EVP_PKEY *p, char fp[KEYS_FP_HEX])
{
    unsigned char *der = 0, md[32];
    unsigned int mdlen = 0;
    int n = i2d_PUBKEY(p, &der);
    if (n <= 0)
        return FW_ECRYPTO;
    int ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), 0) == 1 && mdlen == 32;
    OPENSSL_free(der);
    if (!ok)
        return FW_ECRYPTO;
    for (int i = 0; i < 32; i++) {
        fp[2 * i] = s_hex[md[i] >> 4];
        fp[2 * i + 1] = s_hex[md[i] & 15];
    }
    fp[64] = 0;
    return 0;
}

int keys_fingerprint(const struct keys_pair *k, char fp[KEYS_FP_HEX])
{
    return pkey_fingerprint(k->pkey, fp);
}

/* "ec-p256", "ec-p384", "ec-<curve>", "rsa<bits>" or "other". */
static void pkey_type(EVP_PKEY *p, char out[KEYS_TYPE_MAX])
{
    if (EVP_PKEY_is_a(p, "RSA")) {
        snprintf(out, KEYS_TYPE_MAX, "rsa%d", EVP_PKEY_get_bits(p));
        return;
    }
    char group[64] = "";
    size_t glen = 0;
    if (EVP_PKEY_is_a(p, "EC") && EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME,
                                                                 group, sizeof group, &glen) == 1) {
        if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
            snprintf(out, KEYS_TYPE_MAX, "ec-p256");
        else if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
            snprintf(out, KEYS_TYPE_MAX, "ec-p384");
        else
            snprintf(out, KEYS_TYPE_MAX, "ec-other");
        return;
    }
    snprintf(out, KEYS_TYPE_MAX, "other");
}

void keys_type_name(const struct keys_pair *k, char out[KEYS_TYPE_MAX])
{
    pkey_type(k->pkey, out);
}

static int cn_valid(const char *cn)
{
    size_t n = strlen(cn);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (cn[i] < 0x20 || cn[i] > 0x7e)
            return 0;
    return 1;
}

/* Builds and signs the request; the caller frees it. */
static X509_REQ *build_req(EVP_PKEY *p, const char *cn)
{
    X509_REQ *r = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    int ok = r && name && X509_REQ_set_version(r, 0) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                        0) == 1 &&
             X509_REQ_set_subject_name(r, name) == 1 && X509_REQ_set_pubkey(r, p) == 1 &&
             X509_REQ_sign(r, p, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_REQ_free(r);
        return 0;
    }
    return r;
}

int keys_make_csr(const struct keys_pair *k, const char *common_name, char **pem)
{
    *pem = 0;
    if (!cn_valid(common_name))
        return FW_EINVAL;
    X509_REQ *r = build_req(k->pkey, common_name);
    BIO *b = BIO_new(BIO_s_mem());
    int rc = FW_ECRYPTO;
    if (r && b && PEM_write_bio_X509_REQ(b, r) == 1) {
        *pem = bio_string(b);
        rc = *pem ? 0 : FW_ECRYPTO;
    }
    BIO_free(b);
    X509_REQ_free(r);
    return rc;
}

/* Counts "-----BEGIN " markers in the text. */
static int count_pem_blocks(const char *pem, size_t len)
{
    int n = 0;
    const char *end = pem + len;
    for (const char *p = pem; p && p < end; p++) {
        p = memmem(p, (size_t)(end - p), "-----BEGIN ", 11);
        if (!p)
            break;
        n++;
    }
    return n;
}

static int reject(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
    return FW_EINVAL;
}

/* 0 when the key type is one we accept for a claim CSR. */
static int key_type_ok(EVP_PKEY *p, const char *type, char *why, size_t whylen)
{
    if (!strcmp(type, "ec-p256") || !strcmp(type, "ec-p384"))
        return 0;
    if (EVP_PKEY_is_a(p, "RSA")) {
        int bits = EVP_PKEY_get_bits(p);
        if (bits < 2048)
            return reject(why, whylen, "the RSA key is shorter than 2048 bits");
        if (bits > 4096)
            return reject(why, whylen, "the RSA key is longer than 4096 bits");
        return 0;
    }
    return reject(why, whylen, "the key must be EC P-256, EC P-384 or RSA of at least 2048 bits");
}

/* Parses the one PEM CSR block; NULL with why set. */
static X509_REQ *read_req(const char *pem, size_t len, char *why, size_t whylen)
{
    if (len == 0 || len > KEYS_PEM_MAX || memchr(pem, 0, len)) {
        reject(why, whylen, "must be a PEM certificate request of at most 16384 bytes");
        return 0;
    }
    if (!memmem(pem, len, "-----BEGIN CERTIFICATE REQUEST-----", 35) ||
        count_pem_blocks(pem, len) != 1) {
        reject(why, whylen,
               "must hold exactly one PEM block \"-----BEGIN CERTIFICATE REQUEST-----\"");
        return 0;
    }
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509_REQ *r = b ? PEM_read_bio_X509_REQ(b, 0, 0, 0) : 0;
    BIO_free(b);
    if (!r)
        reject(why, whylen, "the PEM block is not a parsable PKCS#10 certificate request");
    return r;
}

int keys_check_csr(const char *pem, size_t len, struct keys_info *info, char *why, size_t whylen)
{
    memset(info, 0, sizeof *info);
    if (len > KEYS_CSR_MAX) {
        snprintf(why, whylen,
                 "the CSR is %zu characters; AWS's CreateCertificateFromCsr takes at most %d", len,
                 KEYS_CSR_MAX);
        return FW_EINVAL;
    }
    X509_REQ *r = read_req(pem, len, why, whylen);
    if (!r)
        return FW_EINVAL;
    int rc = FW_EINVAL;
    EVP_PKEY *p = X509_REQ_get0_pubkey(r);
    if (!p) {
        reject(why, whylen, "the request has no usable public key");
        goto cleanup;
    }
    if (X509_REQ_verify(r, p) != 1) {
        reject(why, whylen, "the request's signature does not verify with its own public key");
        goto cleanup;
    }
    pkey_type(p, info->type);
    if (key_type_ok(p, info->type, why, whylen))
        goto cleanup;
    rc = pkey_fingerprint(p, info->fp) ? reject(why, whylen, "cannot hash the public key") : 0;
cleanup:
    X509_REQ_free(r);
    return rc;
}

/* notAfter as epoch ms; 0 when it cannot be read. */
static long long not_after_ms(const X509 *x)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const ASN1_TIME *t = X509_get0_notAfter(x);
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (long long)timegm(&tm) * 1000;
}

int keys_cert_info(const char *pem, size_t len, struct keys_info *info)
{
    memset(info, 0, sizeof *info);
    if (len == 0 || len > KEYS_PEM_MAX)
        return FW_EINVAL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, 0, 0, 0) : 0;
    BIO_free(b);
    if (!x)
        return FW_EINVAL;
    EVP_PKEY *p = X509_get0_pubkey(x);
    int rc = p ? pkey_fingerprint(p, info->fp) : FW_EINVAL;
    if (!rc) {
        pkey_type(p, info->type);
        info->not_after_ms = not_after_ms(x);
    }
    X509_free(x);
    return rc;
}
