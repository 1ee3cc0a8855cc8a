/*
 * client_addr.c - address blocks, and the client behind trusted proxies.
 */
#include "service/core/client_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/netaddr.h"

/* Parses a bare address of n bytes into addr; its family (4/6) or 0. */
static int parse_ip(const char *s, size_t n, unsigned char addr[16])
{
    char tmp[CLIENT_ADDR_MAX];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, addr) == 1)
        return 4;
    if (inet_pton(AF_INET6, tmp, addr) != 1)
        return 0;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(addr, mapped, 12)) { /* ::ffff:a.b.c.d is the IPv4 address */
        memmove(addr, addr + 12, 4);
        return 4;
    }
    return 6;
}

int client_addr_parse_cidr(const char *s, size_t n, struct client_cidr *out)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    memset(out, 0, sizeof *out);
    out->family = parse_ip(s, an, out->addr);
    if (!out->family)
        return -1;
    int max = out->family == 4 ? 32 : 128;
    out->bits = max;
    if (slash) {
        size_t bn = n - an - 1;
        char b[4];
        if (bn == 0 || bn >= sizeof b || strspn(slash + 1, "0123456789") < bn)
            return -1;
        memcpy(b, slash + 1, bn);
        b[bn] = '\0';
        out->bits = (int)strtol(b, 0, 10);
        if (out->bits > max)
            return -1;
    }
    unsigned char masked[16];
    memcpy(masked, out->addr, sizeof masked);
    for (int i = out->bits; i < max; i++)
        masked[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
    return memcmp(masked, out->addr, (size_t)(max / 8)) ? -1 : 0; /* host bits set */
}

int client_addr_parse_list(const char *s, struct client_cidr *out, int *n, int *bad)
{
    *n = 0;
    *bad = -1;
    for (int idx = 0; *s; idx++) {
        s += strspn(s, " ");
        size_t len = strcspn(s, ",");
        size_t t = len;
        while (t && s[t - 1] == ' ')
            t--;
        if (t && (*n == CLIENT_ADDR_PROXIES_MAX || client_addr_parse_cidr(s, t, &out[*n]))) {
            *bad = idx;
            return -1;
        }
        *n += t ? 1 : 0;
        s += len + (s[len] == ',');
    }
    return 0;
}

int client_addr_trusted(const char *ip, const struct client_cidr *list, int n)
{
    unsigned char a[16];
    int fam = parse_ip(ip, strlen(ip), a);
    for (int i = 0; fam && i < n; i++)
        if (list[i].family == fam && netaddr_prefix_match(a, list[i].addr, list[i].bits))
            return 1;
    return 0;
}

/* The entry ending at end (exclusive) of xff, trimmed, into out; returns
 * where the entry starts (its comma, or xff). */
static const char *prev_entry(const char *xff, const char *end, char *out, size_t outlen)
{
    const char *start = end;
    while (start > xff && start[-1] != ',')
        start--;
    const char *a = start, *b = end;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    size_t n = (size_t)(b - a) < outlen ? (size_t)(b - a) : outlen - 1;
    memcpy(out, a, n);
    out[n] = '\0';
    return start > xff ? start - 1 : xff;
}

void client_addr_resolve(const char *peer, const char *xff, const struct client_cidr *list, int n,
                         char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", peer ? peer : "");
    if (!xff || !peer || !client_addr_trusted(peer, list, n))
        return;
    const char *end = xff + strlen(xff);
    for (int i = 0; i < CLIENT_ADDR_XFF_MAX && end > xff; i++) {
        char hop[CLIENT_ADDR_MAX];
        unsigned char a[16];
        end = prev_entry(xff, end, hop, sizeof hop);
        if (!parse_ip(hop, strlen(hop), a))
            return; /* garbage: stop at the last address that could be checked */
        snprintf(out, outlen, "%s", hop);
        if (!client_addr_trusted(hop, list, n))
            return;
    }
}
