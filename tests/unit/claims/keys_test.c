/* Unit tests for service/domain/keys.c: generation, PEM round trip, CSR creation
 * and validation (signature, key types and sizes, PEM framing), and
 * certificate fingerprints and expiry. Statics are reached by including
 * the source file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../../service/domain/keys.c"

/* A CSR for an arbitrary key made by OpenSSL directly (types keys.c never generates). */
static char *csr_for(EVP_PKEY *p)
{
    struct keys_pair k = {p};
    char *pem = 0;
    assert_int_equal(keys_make_csr(&k, "test", &pem), 0);
    return pem;
}

static void test_generate_and_round_trip(void **state)
{
    (void)state;
    enum keys_kind kinds[] = {KEYS_EC_P256, KEYS_RSA_2048};
    const char *names[] = {"ec-p256", "rsa2048"};
    for (int i = 0; i < 2; i++) {
        struct keys_pair *k = 0, *k2 = 0;
        char *pem = 0, fp[KEYS_FP_HEX], fp2[KEYS_FP_HEX], type[KEYS_TYPE_MAX];
        assert_int_equal(keys_generate(kinds[i], &k), 0);
        keys_type_name(k, type);
        assert_string_equal(type, names[i]);
        assert_int_equal(keys_private_pem(k, &pem), 0);
        assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
        assert_int_equal(keys_from_private_pem(pem, strlen(pem), &k2), 0);
        assert_int_equal(keys_fingerprint(k, fp), 0);
        assert_int_equal(keys_fingerprint(k2, fp2), 0);
        assert_string_equal(fp, fp2);
        assert_int_equal(strlen(fp), 64);
        xfree_secret(pem);
        keys_free(k);
        keys_free(k2);
    }
    assert_int_equal(keys_kind_parse("rsa2048"), KEYS_RSA_2048);
    assert_int_equal(keys_kind_parse("dsa"), -1);
    keys_free(0);
}

static void test_csr_made_and_checked(void **state)
{
    (void)state;
    struct keys_pair *k = 0;
    struct keys_info info;
    char *csr = 0, fp[KEYS_FP_HEX], why[200];
    assert_int_equal(keys_generate(KEYS_EC_P256, &k), 0);
    assert_int_equal(keys_make_csr(k, "clm_0123", &csr), 0);
    assert_int_equal(keys_check_csr(csr, strlen(csr), &info, why, sizeof why), 0);
    assert_int_equal(keys_fingerprint(k, fp), 0);
    assert_string_equal(info.fp, fp);
    assert_string_equal(info.type, "ec-p256");
    free(csr);
    assert_int_equal(keys_make_csr(k, "", &csr), FW_EINVAL);
    assert_null(csr);
    char *bad = 0;
    assert_int_equal(keys_make_csr(k, "bad\nname", &bad), FW_EINVAL);
    keys_free(k);
}

static void test_csr_key_types(void **state)
{
    (void)state;
    struct {
        EVP_PKEY *p;
        int ok;
        const char *type;
    } cases[] = {
        {EVP_EC_gen("P-256"), 1, "ec-p256"},  {EVP_EC_gen("P-384"), 1, "ec-p384"},
        {EVP_EC_gen("P-521"), 0, "ec-other"}, {EVP_RSA_gen(2048), 1, "rsa2048"},
        {EVP_RSA_gen(3072), 1, "rsa3072"},    {EVP_RSA_gen(1024), 0, "rsa1024"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct keys_info info;
        char why[200] = "";
        assert_non_null(cases[i].p);
        char *csr = csr_for(cases[i].p);
        int rc = keys_check_csr(csr, strlen(csr), &info, why, sizeof why);
        assert_int_equal(rc, cases[i].ok ? 0 : FW_EINVAL);
        if (cases[i].ok)
            assert_string_equal(info.type, cases[i].type);
        else
            assert_true(strlen(why) > 0);
        free(csr);
        EVP_PKEY_free(cases[i].p);
    }
}

static void test_csr_framing_and_signature(void **state)
{
    (void)state;
    struct keys_pair *k = 0;
    struct keys_info info;
    char *csr = 0, why[200];
    assert_int_equal(keys_generate(KEYS_EC_P256, &k), 0);
    assert_int_equal(keys_make_csr(k, "x", &csr), 0);
    const char *garbage[] = {
        "", "hello",
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0};
    for (int i = 0; garbage[i]; i++)
        assert_int_equal(keys_check_csr(garbage[i], strlen(garbage[i]), &info, why, sizeof why),
                         FW_EINVAL);
    size_t n = strlen(csr);
    char *two = malloc(2 * n + 1);
    memcpy(two, csr, n);
    memcpy(two + n, csr, n + 1);
    assert_int_equal(keys_check_csr(two, 2 * n, &info, why, sizeof why), FW_EINVAL);
    assert_non_null(strstr(why, "exactly one"));
    free(two);
    /* Change one character of the signature's base64 (the last body line). Step
     * back over the '=' padding and the last data character, whose low bits may
     * be padding that decoders ignore (then the CSR would still verify). */
    char *bad = strdup(csr);
    char *p = strstr(bad, "\n-----END") - 1;
    while (*p == '=')
        p--;
    p -= 4;
    *p = *p == 'A' ? 'g' : 'A';
    assert_int_equal(keys_check_csr(bad, strlen(bad), &info, why, sizeof why), FW_EINVAL);
    free(bad);
    free(csr);
    keys_free(k);
}

/* A self-signed certificate for k valid for days. */
static char *self_signed(struct keys_pair *k, long days)
{
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
    X509_set_pubkey(x, k->pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, k->pkey, EVP_sha256());
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *pem = bio_string(b);
    BIO_free(b);
    X509_free(x);
    return pem;
}

static void test_cert_info(void **state)
{
    (void)state;
    struct keys_pair *k = 0;
    struct keys_info info;
    char fp[KEYS_FP_HEX];
    assert_int_equal(keys_generate(KEYS_EC_P256, &k), 0);
    char *pem = self_signed(k, 10);
    assert_int_equal(keys_cert_info(pem, strlen(pem), &info), 0);
    assert_int_equal(keys_fingerprint(k, fp), 0);
    assert_string_equal(info.fp, fp);
    long long now_ms = (long long)time(0) * 1000;
    assert_true(info.not_after_ms > now_ms + 9LL * 86400000 &&
                info.not_after_ms < now_ms + 11LL * 86400000);
    assert_int_equal(keys_cert_info("junk", 4, &info), FW_EINVAL);
    free(pem);
    keys_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_and_round_trip),
        cmocka_unit_test(test_csr_made_and_checked),
        cmocka_unit_test(test_csr_key_types),
        cmocka_unit_test(test_csr_framing_and_signature),
        cmocka_unit_test(test_cert_info),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
