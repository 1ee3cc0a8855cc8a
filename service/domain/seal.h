/*
 * seal.h - AES-256-GCM sealing of secrets under a key-encryption key (KEK).
 *
 * Used for claim private keys at rest in Redis. Generic crypto: nothing
 * here knows about claims or AWS.
 *
 * A sealed blob is base64 (standard alphabet, no line breaks) of
 *     version (1 byte, 0x01) | nonce (12 random bytes) | ciphertext | tag (16 bytes)
 * with the caller's associated data (e.g. the claim id) authenticated, so a
 * blob copied under another record does not open. A new random nonce per
 * seal; at our volumes (well under 2^32 seals per key) random nonces are safe.
 *
 * The process-wide KEK is loaded once at start-up (seal_kek_load) before
 * any thread starts, read-only afterwards, and wiped at exit.
 */
#ifndef FW_SEAL_H
#define FW_SEAL_H

#include <stddef.h>

#define SEAL_KEY_LEN 32
#define SEAL_OVERHEAD 29           /* version + nonce + tag, before base64 */
#define SEAL_MAX_PLAIN (64 * 1024) /* larger secrets are refused (FW_ETOOBIG) */

/* Seals n bytes of plain under key with aad (NUL-terminated, may be "").
 * *out is a new NUL-terminated base64 string (caller frees; not secret).
 * 0, FW_ETOOBIG, FW_ECRYPTO. Thread-safe. */
int seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const void *plain, size_t n,
                 const char *aad, char **out);

/* Opens a sealed blob. *plain is a new buffer of *n bytes plus a NUL
 * (a SECRET: the caller wipes and frees it, e.g. xfree_secret or xwipe).
 * 0, FW_EINVAL (not a blob of ours), FW_ECRYPTO (wrong key, wrong aad or
 * tampered: the tag does not verify). Thread-safe. */
int seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *sealed, const char *aad,
                 unsigned char **plain, size_t *n);

/* Loads the process-wide KEK from path (config_read_kek formats). Call
 * once before threads start. 0, or FW_EINVAL/FW_EIO with a reason in err. */
int seal_kek_load(const char *path, char *err, size_t errlen);
/* 1 once a KEK is loaded. */
int seal_kek_loaded(void);
/* seal_encrypt/seal_decrypt under the process-wide KEK; FW_EINTERNAL
 * when none is loaded, FW_EUNAVAILABLE while held (seal_kek_hold). */
int seal_kek_encrypt(const void *plain, size_t n, const char *aad, char **out);
int seal_kek_decrypt(const char *sealed, const char *aad, unsigned char **plain, size_t *n);
/* The KEK's check value: HMAC-SHA256 under the process-wide KEK of a fixed label, as 64 hex
 * digits into out. It tells whether two processes hold the same KEK without telling the key;
 * still, it is never printed (store_kek_check compares it with the one kept in Redis).
 * 0, FW_EINTERNAL (no KEK loaded) or FW_ECRYPTO. */
#define SEAL_CHECK_HEX 64
int seal_kek_check_value(char out[SEAL_CHECK_HEX + 1]);
/* While held, seal_kek_encrypt/seal_kek_decrypt refuse with FW_EUNAVAILABLE: the process has
 * not yet confirmed that its KEK is the one its Redis's data was sealed with (Redis was not
 * reachable at start-up). Set before threads start; cleared once confirmed. */
void seal_kek_hold(int held);
/* Wipes the process-wide KEK (at exit). */
void seal_kek_wipe(void);

#endif
