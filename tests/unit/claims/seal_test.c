/* Unit tests for service/domain/seal.c: round trip, tamper detection, wrong key
 * or associated data, malformed blobs, and loading the KEK file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "service/core/err.h"
#include "service/domain/seal.h"

/* base64 helpers for building tampered blobs. */
static int decode_b64(unsigned char *raw, const char *b64)
{
    size_t len = strlen(b64);
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
    return n - (b64[len - 1] == '=') - (b64[len - 2] == '=');
}

static void encode_wrapper(char *out, const unsigned char *raw, size_t n)
{
    EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
}

static const unsigned char s_key[SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const char s_secret[] =
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n";

static void test_round_trip(void **state)
{
    (void)state;
    char *blob = 0;
    unsigned char *out = 0;
    size_t n = 0;
    assert_int_equal(seal_encrypt(s_key, s_secret, strlen(s_secret), "clm_1", &blob), 0);
    assert_null(strstr(blob, "PRIVATE"));
    assert_int_equal(seal_decrypt(s_key, blob, "clm_1", &out, &n), 0);
    assert_int_equal(n, strlen(s_secret));
    assert_memory_equal(out, s_secret, n);
    assert_int_equal(out[n], 0);
    free(out);
    char *blob2 = 0;
    assert_int_equal(seal_encrypt(s_key, s_secret, strlen(s_secret), "clm_1", &blob2), 0);
    assert_string_not_equal(blob, blob2); /* a fresh nonce each time */
    free(blob);
    free(blob2);
}

static void test_empty_and_limits(void **state)
{
    (void)state;
    char *blob = 0;
    unsigned char *out = 0;
    size_t n = 7;
    assert_int_equal(seal_encrypt(s_key, "", 0, "", &blob), 0);
    assert_int_equal(seal_decrypt(s_key, blob, "", &out, &n), 0);
    assert_int_equal(n, 0);
    free(out);
    free(blob);
    char *big = calloc(1, SEAL_MAX_PLAIN + 1);
    assert_int_equal(seal_encrypt(s_key, big, SEAL_MAX_PLAIN + 1, "", &blob), FW_ETOOBIG);
    assert_null(blob);
    free(big);
}

/* Flips one bit of the decoded blob at byte offset off and re-encodes. */
static char *flip(const char *blob, size_t off)
{
    unsigned char raw[512];
    int n = decode_b64(raw, blob);
    raw[off] ^= 0x01;
    char *out = calloc(1, 1024);
    encode_wrapper(out, raw, (size_t)n);
    return out;
}

static void test_tamper_detected(void **state)
{
    (void)state;
    char *blob = 0;
    unsigned char *out = 0;
    size_t n = 0;
    assert_int_equal(seal_encrypt(s_key, s_secret, strlen(s_secret), "clm_1", &blob), 0);
    size_t raw_len = strlen(s_secret) + SEAL_OVERHEAD;
    size_t offsets[] = {1, 5, 13, 20, raw_len - 1, raw_len - 16};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        char *bad = flip(blob, offsets[i]);
        assert_int_equal(seal_decrypt(s_key, bad, "clm_1", &out, &n), FW_ECRYPTO);
        assert_null(out);
        free(bad);
    }
    char *badver = flip(blob, 0);
    assert_int_equal(seal_decrypt(s_key, badver, "clm_1", &out, &n), FW_EINVAL);
    free(badver);
    free(blob);
}

static void test_wrong_key_or_aad(void **state)
{
    (void)state;
    char *blob = 0;
    unsigned char *out = 0;
    size_t n = 0;
    unsigned char other[SEAL_KEY_LEN];
    memcpy(other, s_key, sizeof other);
    other[31] ^= 0x80;
    assert_int_equal(seal_encrypt(s_key, s_secret, strlen(s_secret), "clm_1", &blob), 0);
    assert_int_equal(seal_decrypt(other, blob, "clm_1", &out, &n), FW_ECRYPTO);
    assert_int_equal(seal_decrypt(s_key, blob, "clm_2", &out, &n), FW_ECRYPTO);
    assert_int_equal(seal_decrypt(s_key, blob, "", &out, &n), FW_ECRYPTO);
    assert_null(out);
    free(blob);
}

static void test_malformed(void **state)
{
    (void)state;
    unsigned char *out = 0;
    size_t n = 0;
    const char *bad[] = {"", "abc", "!!!!", "AAAA", "not base64 at all", 0};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(seal_decrypt(s_key, bad[i], "", &out, &n), FW_EINVAL);
    assert_int_equal(seal_decrypt(s_key, 0, "", &out, &n), FW_EINVAL);
}

static char *write_tmp(const char *content, size_t n)
{
    char *path = strdup("/tmp/fw-kek-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_kek_file(void **state)
{
    (void)state;
    char err[300];
    char *blob = 0;
    unsigned char *out = 0;
    size_t n = 0;
    assert_int_equal(seal_kek_encrypt("x", 1, "", &blob), FW_EINTERNAL);
    char *hex = write_tmp("3031323334353637383961626364656630313233343536373839616263646566\n", 65);
    assert_int_equal(seal_kek_load(hex, err, sizeof err), 0);
    assert_true(seal_kek_loaded());
    assert_int_equal(seal_kek_encrypt(s_secret, strlen(s_secret), "a", &blob), 0);
    assert_int_equal(seal_decrypt(s_key, blob, "a", &out, &n), 0); /* the same key as s_key */
    free(out);
    assert_int_equal(seal_kek_decrypt(blob, "a", &out, &n), 0);
    free(out);
    free(blob);
    char *shortk = write_tmp("abcd\n", 5);
    assert_int_equal(seal_kek_load(shortk, err, sizeof err), FW_EINVAL);
    assert_non_null(strstr(err, "FLEETWARDEN_KEK_FILE"));
    assert_int_equal(seal_kek_load("/nonexistent/kek", err, sizeof err), FW_EIO);
    seal_kek_wipe();
    assert_false(seal_kek_loaded());
    unlink(hex);
    unlink(shortk);
    free(hex);
    free(shortk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_empty_and_limits),
        cmocka_unit_test(test_tamper_detected), cmocka_unit_test(test_wrong_key_or_aad),
        cmocka_unit_test(test_malformed),       cmocka_unit_test(test_kek_file),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
