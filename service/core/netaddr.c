/*
 * netaddr.c - literal addresses in every spelling, internal ranges, allow lists.
 *
 * IPv4 literals are parsed the way inet_aton(3) and libcurl's URL parser
 * read them (one to four parts, each decimal, octal or hex; the last part
 * fills the remaining bytes), not only as dotted quads: "http://2130706433/"
 * and "http://0x7f.1/" reach 127.0.0.1 through both, so a check that knew
 * only a.b.c.d would let them through. The ranges are IANA's special-purpose
 * registries (RFC 6890 and its updates) plus carrier-grade NAT (RFC 6598),
 * where cloud metadata services also live (169.254.169.254, fd00:ec2::254,
 * 100.100.100.200).
 */
#include "service/core/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct range {
    unsigned char b[16];
    int bits;
    const char *kind;
};

static const struct range s_v4[] = {
    {{0, 0, 0, 0}, 8, "unspecified"},
    {{10, 0, 0, 0}, 8, "private"},
    {{100, 64, 0, 0}, 10, "carrier-grade NAT"},
    {{127, 0, 0, 0}, 8, "loopback"},
    {{169, 254, 0, 0}, 16, "link-local"},
    {{172, 16, 0, 0}, 12, "private"},
    {{192, 0, 0, 0}, 24, "reserved"},
    {{192, 0, 2, 0}, 24, "documentation"},
    {{192, 88, 99, 0}, 24, "reserved"},
    {{192, 168, 0, 0}, 16, "private"},
    {{198, 18, 0, 0}, 15, "reserved"},
    {{198, 51, 100, 0}, 24, "documentation"},
    {{203, 0, 113, 0}, 24, "documentation"},
    {{224, 0, 0, 0}, 4, "multicast"},
    {{240, 0, 0, 0}, 4, "reserved"},
};

static const struct range s_v6[] = {
    {{0}, 128, "unspecified"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback"},
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, "reserved"},
    {{0x01, 0x00}, 64, "reserved"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},
    {{0x20, 0x01, 0x00, 0x00}, 23, "reserved"},
    {{0xfc}, 7, "unique-local"},
    {{0xfe, 0x80}, 10, "link-local"},
    {{0xfe, 0xc0}, 10, "site-local"},
    {{0xff}, 8, "multicast"},
};

int netaddr_prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)full))
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

/* One part of an IPv4 literal: decimal, 0-prefixed octal or 0x hex. */
static int v4_part(const char *s, size_t n, unsigned long long *out)
{
    int base = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    } else if (n >= 2 && s[0] == '0') {
        base = 8;
        s++;
        n--;
    }
    if (n == 0 || n > 32)
        return -1;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        if (d >= base)
            return -1;
        v = v * (unsigned)base + (unsigned)d;
        if (v > 0xffffffffULL)
            return -1;
    }
    *out = v;
    return 0;
}

static int parse_v4(const char *s, size_t len, struct netaddr *out)
{
    unsigned long long part[4];
    int n = 0;
    size_t at = 0;
    for (;;) {
        size_t e = at;
        while (e < len && s[e] != '.')
            e++;
        if (n == 4 || v4_part(s + at, e - at, &part[n]))
            return 0;
        n++;
        if (e == len)
            break;
        at = e + 1;
    }
    unsigned long long v = part[n - 1];
    if (v > (0xffffffffULL >> (8 * (n - 1))))
        return 0;
    for (int i = 0; i < n - 1; i++) {
        if (part[i] > 255)
            return 0;
        v |= part[i] << (8 * (3 - i));
    }
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 4; i++)
        out->b[i] = (unsigned char)(v >> (8 * (3 - i)));
    return 1;
}

int netaddr_parse_literal(const char *host, size_t len, struct netaddr *out)
{
    char buf[64];
    if (!host || len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, host, len);
    buf[len] = '\0';
    if (len > 1 && buf[len - 1] == '.')
        buf[--len] = '\0'; /* the DNS root: "127.0.0.1." */
    if (strchr(buf, ':')) {
        char *zone = strchr(buf, '%'); /* fe80::1%eth0: the zone does not change the range */
        if (zone)
            *zone = '\0';
        memset(out, 0, sizeof *out);
        out->v6 = 1;
        return inet_pton(AF_INET6, buf, out->b) == 1;
    }
    return parse_v4(buf, len, out);
}

static const char *v4_kind(const unsigned char *b)
{
    for (size_t i = 0; i < sizeof s_v4 / sizeof s_v4[0]; i++)
        if (netaddr_prefix_match(b, s_v4[i].b, s_v4[i].bits))
            return s_v4[i].kind;
    return 0;
}

/* The IPv4 address an IPv6 address carries by a translation scheme, or NULL. */
static const unsigned char *embedded_v4(const unsigned char *b)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    static const unsigned char compat[12] = {0};
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (!memcmp(b, mapped, 12) || !memcmp(b, translated, 12) || !memcmp(b, compat, 12) ||
        !memcmp(b, nat64, 12))
        return b + 12;
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: 2002:AABB:CCDD::/48 */
        return b + 2;
    return 0;
}

const char *netaddr_internal(const struct netaddr *a)
{
    if (!a->v6)
        return v4_kind(a->b);
    for (int i = 0; i < 2; i++) /* :: and ::1 before the IPv4-compatible block */
        if (!memcmp(a->b, s_v6[i].b, 16))
            return s_v6[i].kind;
    const unsigned char *v4 = embedded_v4(a->b);
    if (v4)
        return v4_kind(v4);
    for (size_t i = 2; i < sizeof s_v6 / sizeof s_v6[0]; i++)
        if (netaddr_prefix_match(a->b, s_v6[i].b, s_v6[i].bits))
            return s_v6[i].kind;
    return 0;
}

static int list_item(const char *s, size_t n, struct netaddr_cidr *out)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (!netaddr_parse_literal(s, alen, &out->addr))
        return -1;
    int max = out->addr.v6 ? 128 : 32;
    out->bits = max;
    if (slash) {
        size_t blen = n - alen - 1;
        if (blen == 0 || blen > 3 || strspn(slash + 1, "0123456789") < blen)
            return -1;
        out->bits = (int)strtol(slash + 1, 0, 10);
        if (out->bits > max)
            return -1;
    }
    return 0;
}

int netaddr_list_parse(const char *s, struct netaddr_list *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = s ? s : "";
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *e = p;
        size_t m = n;
        while (m && *e == ' ') {
            e++;
            m--;
        }
        while (m && e[m - 1] == ' ')
            m--;
        if (m) {
            if (out->n == NETADDR_LIST_MAX) {
                snprintf(err, errlen, "at most %d addresses or CIDR blocks", NETADDR_LIST_MAX);
                return -1;
            }
            if (list_item(e, m, &out->cidr[out->n])) {
                snprintf(err, errlen,
                         "'%.*s' is not an IP address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)",
                         (int)(m > 64 ? 64 : m), e);
                return -1;
            }
            out->n++;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct netaddr v4 = {0};
    const struct netaddr *as4 = 0;
    if (!a->v6) {
        as4 = a;
    } else if (!memcmp(a->b, mapped, 12)) {
        memcpy(v4.b, a->b + 12, 4);
        as4 = &v4;
    }
    for (int i = 0; l && i < l->n; i++) {
        const struct netaddr_cidr *c = &l->cidr[i];
        if (c->addr.v6 && a->v6 && netaddr_prefix_match(a->b, c->addr.b, c->bits))
            return 1;
        if (!c->addr.v6 && as4 && netaddr_prefix_match(as4->b, c->addr.b, c->bits))
            return 1;
    }
    return 0;
}

void netaddr_format(const struct netaddr *a, char out[NETADDR_TEXT_MAX])
{
    if (!inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->b, out, NETADDR_TEXT_MAX))
        snprintf(out, NETADDR_TEXT_MAX, "?");
}

int netaddr_from_sockaddr(const void *sa, struct netaddr *out)
{
    const struct sockaddr *s = sa;
    memset(out, 0, sizeof *out);
    if (s->sa_family == AF_INET) {
        memcpy(out->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (s->sa_family == AF_INET6) {
        out->v6 = 1;
        memcpy(out->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}
