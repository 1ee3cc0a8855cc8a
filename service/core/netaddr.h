/*
 * netaddr.h - IP addresses for the outbound-call policy: literal parsing in
 * every spelling, the internal ranges, and allow lists of CIDR blocks.
 *
 * A new outbound call refuses internal addresses (STYLE: loopback, private,
 * link-local, unique-local, carrier-grade NAT, cloud metadata, multicast,
 * reserved): the caller resolves the host, classifies every address with
 * netaddr_internal(), and connects to the address it checked. Pure, no
 * network, thread-safe; unit-tested in tests/unit/service.
 */
#ifndef FW_NETADDR_H
#define FW_NETADDR_H

#include <stddef.h>

#define NETADDR_LIST_MAX 32
#define NETADDR_TEXT_MAX 48 /* INET6_ADDRSTRLEN + brackets */

struct netaddr {
    int v6; /* 0: IPv4 in b[0..3]; 1: IPv6 in b[0..15] */
    unsigned char b[16];
};

struct netaddr_cidr {
    struct netaddr addr;
    int bits;
};

struct netaddr_list {
    struct netaddr_cidr cidr[NETADDR_LIST_MAX];
    int n;
};

/* Parses host (len bytes, no brackets) as a literal address in any spelling
 * the resolver and libcurl accept: dotted IPv4, one to four parts each
 * decimal, octal (leading 0) or hex (0x) - "2130706433", "0177.1",
 * "0x7f.0.0.1", "127.1" - and IPv6 (zone ids refused). 1 and *out filled
 * when host is a literal, else 0. */
int netaddr_parse_literal(const char *host, size_t len, struct netaddr *out);

/* NULL when a is a public unicast address, else the kind of internal
 * range it is in ("loopback", "private", "link-local", "unique-local",
 * "carrier-grade NAT", "unspecified", "multicast", "reserved",
 * "documentation", ...). IPv4-mapped, IPv4-compatible, NAT64 and 6to4
 * IPv6 addresses are judged by the IPv4 address they carry. */
const char *netaddr_internal(const struct netaddr *a);

/* Parses a comma-separated list of addresses or CIDR blocks ("127.0.0.1",
 * "10.0.0.0/8", "::1", "fd00::/8"; any IPv4 spelling; spaces around items
 * allowed). "" or NULL is the empty list. 0, or -1 with the reason in err. */
int netaddr_list_parse(const char *s, struct netaddr_list *out, char *err, size_t errlen);
/* 1 when a lies in one of the list's blocks (an IPv4-mapped IPv6 address
 * matches IPv4 blocks). */
int netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a);

/* 1 when the first `bits` bits of a and net are equal (addresses in network order). */
int netaddr_prefix_match(const unsigned char *a, const unsigned char *net, int bits);

/* The address as text ("127.0.0.1", "::1"), for logs and connect-to entries. */
void netaddr_format(const struct netaddr *a, char out[NETADDR_TEXT_MAX]);
/* From a socket address (struct sockaddr_in / sockaddr_in6). 0, or -1 for
 * another family. */
int netaddr_from_sockaddr(const void *sa, struct netaddr *out);

#endif
