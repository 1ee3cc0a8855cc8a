/*
 * netresolve.c - resolve a name and refuse internal addresses (see
 * netresolve.h).
 */
#include "netresolve.h"

#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>

#include "service/core/err.h"

/* The kind of internal range a lies in unless allow lists it, else NULL. */
static const char *refused_kind(const struct netaddr *a, const struct netaddr_list *allow)
{
    const char *kind = netaddr_internal(a);
    return kind && allow && netaddr_list_contains(allow, a) ? 0 : kind;
}

int netresolve_checked(const char *host, int port, const struct netaddr_list *allow,
                       const char *setting, char pin[NETADDR_TEXT_MAX], char *why, size_t whylen)
{
    struct addrinfo hints = {0}, *res = 0;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    pin[0] = '\0';
    int gai = host && host[0] ? getaddrinfo(host, ps, &hints, &res) : EAI_NONAME;
    if (gai || !res) {
        snprintf(why, whylen, "cannot resolve %s: %s", host ? host : "(no host)",
                 gai_strerror(gai));
        return FW_EUNAVAILABLE;
    }
    int rc = 0;
    for (const struct addrinfo *ai = res; ai && !rc; ai = ai->ai_next) {
        struct netaddr a;
        if (netaddr_from_sockaddr(ai->ai_addr, &a))
            continue;
        char text[NETADDR_TEXT_MAX];
        netaddr_format(&a, text);
        const char *kind = refused_kind(&a, allow);
        if (kind) {
            snprintf(why, whylen, "%s resolves to %s, a %s address (%s)", host, text, kind,
                     setting);
            rc = FW_EFORBIDDEN;
        } else if (!pin[0]) {
            snprintf(pin, NETADDR_TEXT_MAX, "%s", text);
        }
    }
    freeaddrinfo(res);
    if (!rc && !pin[0]) {
        snprintf(why, whylen, "%s has no IPv4 or IPv6 address", host);
        rc = FW_EUNAVAILABLE;
    }
    if (rc)
        pin[0] = '\0';
    return rc;
}
