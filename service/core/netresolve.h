/*
 * netresolve.h - resolving a host name for an outbound call that must not
 * reach internal addresses (STYLE: "a new outbound call refuses internal
 * addresses"): every address the name has is classified with
 * netaddr_internal(); one internal address not in the allow list refuses
 * the whole name (a name that mixes public and internal addresses is how
 * DNS rebinding reaches inside). The caller then connects to the address
 * returned here and nowhere else (aws_http_request.pin_address, or the
 * numeric host given to libmosquitto), so a second lookup cannot change it.
 *
 * Used by webhook delivery and by a fleet verification's IoT data plane
 * calls. Blocking (getaddrinfo); thread-safe.
 */
#ifndef FW_NETRESOLVE_H
#define FW_NETRESOLVE_H

#include <stddef.h>

#include "service/core/netaddr.h"

/* Resolves host (a name or a literal) for port. 0 with the first allowed
 * address in pin ("192.0.2.1", "2001:db8::1"); FW_EUNAVAILABLE when the
 * name does not resolve or has no IPv4/IPv6 address (why: the resolver's
 * reason), FW_EFORBIDDEN when an address is internal and not in allow
 * (why: "HOST resolves to ADDR, a KIND address (SETTING)", SETTING being
 * the variable that would allow it). allow may be NULL (nothing internal). */
int netresolve_checked(const char *host, int port, const struct netaddr_list *allow,
                       const char *setting, char pin[NETADDR_TEXT_MAX], char *why, size_t whylen);

#endif
