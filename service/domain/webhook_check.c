/*
 * webhook_check.c - webhook URL rules and the HMAC-SHA256 body signature.
 *
 * The URL check is deliberately narrow: a webhook is an outbound request
 * from inside the operator's network, so plain http (readable and
 * forgeable on the way) is refused unless the host is explicitly allowed,
 * and user info is refused so credentials never sit in settings or logs.
 * Redirects are not followed at delivery (webhook_deliver.c), so the host
 * checked here is the host contacted. A literal internal address is
 * refused here, when the URL is set (server-side request forgery: the
 * service would post to its own network); a name is resolved and each of
 * its addresses checked at delivery, which then connects to the address it
 * checked (no second lookup that could answer differently).
 */
#include "service/domain/webhook_check.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/mem.h"

static struct webhook_policy s_policy;
static pthread_once_t s_policy_once = PTHREAD_ONCE_INIT;

static void load_policy(void)
{
    const struct fw_config *c = config_get();
    s_policy.allow_http_hosts = c->webhook_allow_http_hosts;
    s_policy.allow_addresses = &c->webhook_allow_addresses;
}

const struct webhook_policy *webhook_policy(void)
{
    pthread_once(&s_policy_once, load_policy);
    return &s_policy;
}

const char *webhook_address_refused(const struct netaddr *a, const struct webhook_policy *p)
{
    const char *kind = netaddr_internal(a);
    if (kind && p && netaddr_list_contains(p->allow_addresses, a))
        return 0;
    return kind;
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

/* 1 when host names the machine itself whatever DNS says (RFC 6761). */
static int is_localhost(const char *h, size_t n)
{
    if (n && h[n - 1] == '.')
        n--;
    return (n == 9 && !strncasecmp(h, "localhost", 9)) ||
           (n > 10 && !strncasecmp(h + n - 10, ".localhost", 10));
}

/* Refuses a host that is, literally, an internal address. */
static int literal_check(const char *host, size_t len, const struct webhook_policy *p, char *why,
                         size_t whylen)
{
    struct netaddr a;
    if (len >= 2 && host[0] == '[') {
        host++;
        len -= 2;
    }
    if (is_localhost(host, len))
        netaddr_parse_literal("127.0.0.1", 9, &a);
    else if (!netaddr_parse_literal(host, len, &a))
        return 0;
    const char *kind = webhook_address_refused(&a, p);
    if (!kind)
        return 0;
    snprintf(why, whylen,
             "must not point to an internal address (this one is %s); "
             "allow it with FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES",
             kind);
    return FW_EINVAL;
}

int webhook_url_check(const char *url, const struct webhook_policy *p, char *why, size_t whylen)
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
            return fail(why, whylen,
                        "must not contain \" \\ < > ^ ` { | } (percent-encode them, RFC 3986)");
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
    if (!https && !host_listed(a, hostlen, p ? p->allow_http_hosts : 0))
        return fail(why, whylen,
                    "must use https (http only to hosts in FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS)");
    return literal_check(a, hostlen, p, why, whylen);
}

int webhook_url_host(const char *url, char *host, size_t hostlen, int *port)
{
    char why[8];
    int https = url && !strncmp(url, "https://", 8);
    if (!url || (!https && strncmp(url, "http://", 7)))
        return FW_EINVAL;
    const char *a = url + (https ? 8 : 7);
    size_t alen = strcspn(a, "/?"), h = 0;
    if (authority(a, alen, &h, why, sizeof why))
        return FW_EINVAL;
    *port = h < alen ? (int)strtol(a + h + 1, 0, 10) : https ? 443 : 80;
    if (a[0] == '[') {
        a++;
        h -= 2;
    }
    if (h == 0 || h >= hostlen || *port <= 0 || *port > 65535)
        return FW_EINVAL;
    memcpy(host, a, h);
    host[h] = '\0';
    return 0;
}

char *webhook_url_masked(const char *url)
{
    const char *sep = url ? strstr(url, "://") : 0;
    if (!sep)
        return xstrdup("***");
    size_t head = (size_t)(sep + 3 - url);
    head += strcspn(url + head, "/?");
    int more = url[head] && strcmp(url + head, "/");
    return xasprintf("%.*s%s", (int)head, url, more ? "/***" : "");
}

int webhook_signature(const char *secret, const void *body, size_t len, char out[WEBHOOK_SIG_MAX])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!secret || !HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, mac, &maclen) ||
        maclen != 32)
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
