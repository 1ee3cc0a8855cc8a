/*
 * client_addr.h - who the client is, for the access log and the audit
 * trail: the TCP peer's address, or, when the peer is one of
 * the configured proxies (FLEETWARDEN_TRUSTED_PROXIES), the address that
 * proxy put in X-Forwarded-For. Pure functions; unit-tested.
 *
 * X-Forwarded-For is read right to left: each proxy appends the address it
 * received from, so the entries a client writes itself come first and are
 * never believed. The client is the rightmost entry that is not a trusted
 * proxy; a malformed entry ends the walk at the last address that could be
 * checked.
 */
#ifndef FW_CLIENT_ADDR_H
#define FW_CLIENT_ADDR_H

#include <stddef.h>

#define CLIENT_ADDR_MAX 64         /* text of an IPv4 or IPv6 address, with room */
#define CLIENT_ADDR_PROXIES_MAX 16 /* entries of FLEETWARDEN_TRUSTED_PROXIES */
#define CLIENT_ADDR_XFF_MAX 32     /* X-Forwarded-For entries looked at */

/* An address block: family 4 or 6, bits of prefix, address in network order. */
struct client_cidr {
    int family;
    int bits;
    unsigned char addr[16];
};

/* Parses "10.0.0.0/8", "192.0.2.7" (a /32), "2001:db8::/32", "::1".
 * 0, or -1 when it is not an address or block (host bits set are refused:
 * "10.0.0.1/8" is a mistake more often than a wish). */
int client_addr_parse_cidr(const char *s, size_t n, struct client_cidr *out);

/* Parses a comma-separated list into out (at most CLIENT_ADDR_PROXIES_MAX).
 * Spaces around entries are allowed. 0 with *n set, or -1 with the bad
 * entry's position (0-based) in *bad. */
int client_addr_parse_list(const char *s, struct client_cidr *out, int *n, int *bad);

/* 1 when the textual address ip (no port, no brackets) lies in one of the
 * blocks; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as IPv4. */
int client_addr_trusted(const char *ip, const struct client_cidr *list, int n);

/* The client's address into out: peer itself, unless peer is trusted and
 * xff (may be NULL) names an address further out (see above). peer is the
 * TCP peer as text. Always writes a NUL-terminated string. */
void client_addr_resolve(const char *peer, const char *xff, const struct client_cidr *list, int n,
                         char *out, size_t outlen);

#endif
