/* randid.c - prefixed random hex ids (claims, incidents). */
#include "service/core/randid.h"

#include <stdio.h>
#include <string.h>
#include <openssl/rand.h>

#include "service/core/err.h"

int randid_new(const char *prefix, char *out, size_t outlen)
{
    size_t plen = strlen(prefix);
    if (outlen < plen + RANDID_HEX + 1)
        return FW_EINVAL;
    unsigned char r[RANDID_HEX / 2];
    if (RAND_bytes(r, sizeof r) != 1)
        return FW_ECRYPTO;
    memcpy(out, prefix, plen);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + plen + 2 * i, 3, "%02x", r[i]);
    return 0;
}

int randid_valid(const char *s, const char *prefix)
{
    size_t plen = strlen(prefix);
    return s && strlen(s) == plen + RANDID_HEX && !strncmp(s, prefix, plen) &&
           strspn(s + plen, "0123456789abcdef") == RANDID_HEX;
}
