/*
 * fuzz_keys_csr.c - PEM input from outside (service/domain/keys.c): the CSR
 * check of POST .../claims and rotate, certificate info (AWS answers), and
 * private key PEMs (keySource aws answers).
 *
 * Input: the first byte picks the reader; the rest is the PEM text.
 */
#include "fuzz_common.h"
#include "service/domain/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *pem = (const char *)data + 1;
    size_t len = size - 1;
    struct keys_info info;
    char why[200];
    switch (data[0] % 3) {
    case 0: (void)keys_check_csr(pem, len, &info, why, sizeof why); break;
    case 1: (void)keys_cert_info(pem, len, &info); break;
    default: {
        struct keys_pair *k = 0;
        if (keys_from_private_pem(pem, len, &k) == 0) {
            char fp[KEYS_FP_HEX], type[KEYS_TYPE_MAX];
            (void)keys_fingerprint(k, fp);
            keys_type_name(k, type);
        }
        keys_free(k);
        break;
    }
    }
    return 0;
}
