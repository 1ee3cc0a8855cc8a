/*
 * webhook_check.c - webhook URL rules and the HMAC-SHA256 body signature.
 *
 * The URL check is deliberately narrow: a webhook is an outbound request
 * from inside the operator's network, so plain http (readable and
 * forgeable on the way) is refused unless the host is explicitly allowed,
 * and user info is refused so credentials never sit in settings or logs.
 * Redirects are not followed at delivery (webhook_deliver.c), so the host
 * checked here is the host contacted.
 */
#include "service/domain/webhook_check.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/config.h"
#include "service/core/err.h"

const char *webhook_allow_http_hosts(void)
{
    return config_get()->webhook_allow_http_hosts;
}

static int fail(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
    return FW_EINVAL;
}

/* 1 when host (len bytes) is one of the comma-separated list entries. */
static int host_listed(const char *host, size_t len, const char *list)
{
    const char *p = list ? list : "";
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *e = p;
        while (n && *e == ' ') {
            e++;
            n--;
        }
        size_t m = n;
        while (m && e[m - 1] == ' ')
            m--;
        if (m == len && m && !strncmp(e, host, len))
            return 1;
        p = e + n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Splits the authority of url (after "scheme://") into host and checks port. */
static int authority(const char *a, size_t alen, size_t *hostlen, char *why, size_t whylen)
{
    if (memchr(a, '@', alen))
        return fail(why, whylen, "must not contain user:password@");
    if (!alen)
        return fail(why, whylen, "has no host");
    size_t h = alen;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', alen);
        if (!close)
            return fail(why, whylen, "has a malformed IPv6 host");
        h = (size_t)(close - a) + 1;
    } else {
        const char *colon = memchr(a, ':', alen);
        if (colon)
            h = (size_t)(colon - a);
    }
    if (!h)
        return fail(why, whylen, "has no host");
    if (h < alen) {
        if (a[h] != ':' || h + 1 == alen || h + 6 < alen)
            return fail(why, whylen, "has a malformed port");
        for (size_t i = h + 1; i < alen; i++)
            if (a[i] < '0' || a[i] > '9')
                return fail(why, whylen, "has a malformed port");
    }
    *hostlen = h;
    return 0;
}

int webhook_url_check(const char *url, const char *allow_http_hosts, char *why, size_t whylen)
{
    if (!url || !*url)
        return fail(why, whylen, "required: an https URL");
    size_t len = strlen(url);
    if (len > 2048)
        return fail(why, whylen, "must be at most 2048 characters");
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return fail(why, whylen, "must not contain spaces or control characters");
        /* Characters RFC 3986 never allows unencoded in a URL. */
        if (strchr("\"\\<>^`{|}", url[i]))
            return fail(why, whylen, "must not contain \" \\ < > ^ ` { | } (percent-encode them, RFC 3986)");
    }
    if (strchr(url, '#'))
        return fail(why, whylen, "must not contain a fragment");
    int https = !strncmp(url, "https://", 8);
    if (!https && strncmp(url, "http://", 7))
        return fail(why, whylen, "must start with https://");
    const char *a = url + (https ? 8 : 7);
    size_t alen = strcspn(a, "/?");
    size_t hostlen = 0;
    int rc = authority(a, alen, &hostlen, why, whylen);
    if (rc)
        return rc;
    if (!https && !host_listed(a, hostlen, allow_http_hosts))
        return fail(why, whylen, "must use https (http only to hosts in FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS)");
    return 0;
}

int webhook_signature(const char *secret, const void *body, size_t len, char out[WEBHOOK_SIG_MAX])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!secret || !HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, mac, &maclen) || maclen != 32)
        return FW_ECRYPTO;
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < maclen; i++) {
        out[7 + 2 * i] = hex[mac[i] >> 4];
        out[8 + 2 * i] = hex[mac[i] & 15];
    }
    out[7 + 2 * maclen] = '\0';
    return 0;
}
