/*
 * keys.h - key pairs, CSRs and certificates with OpenSSL: generation,
 * validation and public-key fingerprints. Pure crypto: nothing here knows
 * about AWS or claims.
 *
 * A fingerprint is the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo,
 * so the key in a private key PEM, a CSR and a certificate compare equal
 * exactly when they hold the same public key.
 *
 * Every function is thread-safe (no shared state). Private key PEMs are
 * SECRETS: wipe them (xfree_secret) and never log them.
 */
#ifndef FW_KEYS_H
#define FW_KEYS_H

#include <stddef.h>

#define KEYS_FP_HEX 65     /* 64 hex chars + NUL */
#define KEYS_TYPE_MAX 16   /* "ec-p256", "ec-p384", "rsa2048", "rsa3072", "rsa4096" */
#define KEYS_PEM_MAX 16384 /* CSRs and certificates we accept */

enum keys_kind { KEYS_EC_P256 = 0, KEYS_RSA_2048 };

struct keys_pair; /* opaque: an EVP_PKEY */

/* Name of a kind ("ec-p256", "rsa2048") and the reverse; -1 when unknown. */
const char *keys_kind_name(enum keys_kind k);
int keys_kind_parse(const char *s);

/* Generates a new key pair. 0 or FW_ECRYPTO. Free with keys_free. */
int keys_generate(enum keys_kind kind, struct keys_pair **out);
/* Parses a PEM private key (PKCS#8 or traditional). 0, FW_EINVAL. */
int keys_from_private_pem(const char *pem, size_t len, struct keys_pair **out);
/* Frees and wipes; NULL is a no-op. */
void keys_free(struct keys_pair *k);

/* The PKCS#8 PEM of the private key: a new NUL-terminated SECRET string
 * (free with xfree_secret). 0 or FW_ECRYPTO. */
int keys_private_pem(const struct keys_pair *k, char **pem);
/* Fingerprint of the pair's public key. 0 or FW_ECRYPTO. */
int keys_fingerprint(const struct keys_pair *k, char fp[KEYS_FP_HEX]);
/* Type name of the pair's key ("ec-p256", "rsa2048", ...). */
void keys_type_name(const struct keys_pair *k, char out[KEYS_TYPE_MAX]);

/* A PEM CSR signed by k with subject CN=common_name (1..64 printable
 * chars). *pem is a new string (caller frees). 0, FW_EINVAL, FW_ECRYPTO. */
int keys_make_csr(const struct keys_pair *k, const char *common_name, char **pem);

/* What keys_check_csr and keys_cert_info report. */
struct keys_info {
    char fp[KEYS_FP_HEX];     /* public-key fingerprint */
    char type[KEYS_TYPE_MAX]; /* key type name */
    long long not_after_ms;   /* certificates only: notAfter, epoch ms */
};

/* The most characters CreateCertificateFromCsr takes (certificateSigningRequest: 1..4096). */
#define KEYS_CSR_MAX 4096

/* Validates a CSR from outside: at most KEYS_CSR_MAX characters, exactly
 * one PEM "CERTIFICATE REQUEST" block, parsable, self-signature valid, and
 * a key that is EC P-256 or P-384, or RSA of at least 2048 bits (at most
 * 4096). 0 with info filled, or FW_EINVAL with a reason in why (no
 * secret: a CSR holds none). */
int keys_check_csr(const char *pem, size_t len, struct keys_info *info, char *why, size_t whylen);

/* Reads a PEM certificate: public-key fingerprint, key type and notAfter.
 * 0 or FW_EINVAL. */
int keys_cert_info(const char *pem, size_t len, struct keys_info *info);

#endif
