/*
 * fuzz_creds_ini.c - the AWS shared config/credentials file parser
 * (aws/creds_ini.c), then the lookups the profile provider does.
 */
#include "aws/creds_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct creds_ini *ini = 0;
    char err[200];
    if (creds_ini_parse((const char *)data, size, &ini, err, sizeof err) == 0) {
        for (size_t i = 0; i < ini->nsec; i++) {
            const struct creds_ini_section *s = creds_ini_section(ini, ini->sec[i].name);
            for (size_t k = 0; s && k < s->nkv; k++)
                (void)creds_ini_get(s, s->kv[k].key);
            (void)creds_ini_get(s, "aws_access_key_id");
        }
        (void)creds_ini_section(ini, "profile default");
        (void)creds_ini_get(creds_ini_section(ini, "default"), "role_arn");
    }
    creds_ini_free(ini);
    return 0;
}
