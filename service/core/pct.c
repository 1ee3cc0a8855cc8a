/* pct.c - hex digits and percent-decoding (see pct.h). */
#include "service/core/pct.h"

#include "service/core/mem.h"

int pct_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

char *pct_decode(const char *s, size_t n, size_t *outlen)
{
    char *d = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = (s[i] == '%' && i + 2 < n) ? pct_hexval((unsigned char)s[i + 1]) : -1;
        int lo = hi >= 0 ? pct_hexval((unsigned char)s[i + 2]) : -1;
        if (lo >= 0) {
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    if (outlen)
        *outlen = j;
    return d;
}
