/*
 * drain.c - closing a listening socket without resetting a client (drain.h).
 */
#include "service/http/drain.h"

#include "service/core/clock.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TCP_FLAGS_OFFSET 13 /* in the TCP header, where a socket filter's offsets start */
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10
#define STATE_SYN_RECV 3 /* linux/tcp_states.h: TCP_SYN_RECV */

int drain_stop_syns(int fd)
{
    /* A SYN without ACK opens a handshake: drop it, so the listener sends no SYN-ACK and
     * the client's connect() waits. Everything else passes: the last ACK of a handshake
     * already started, and (the filter being inherited) the traffic of accepted sockets. */
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, TCP_FLAGS_OFFSET),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TCP_FLAG_SYN | TCP_FLAG_ACK),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TCP_FLAG_SYN, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) ? -1 : 0;
}

/* Counts the SYN_RECV sockets of one address family whose local port is port. */
static int half_open_family(int nl, int family, int port)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = sizeof req;
    req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.r.sdiag_family = (unsigned char)family;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = 1u << STATE_SYN_RECV;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(nl, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) !=
        (ssize_t)sizeof req)
        return -1;
    int n = 0;
    for (;;) {
        long buf[8192 / sizeof(long)]; /* aligned for struct nlmsghdr */
        ssize_t len = recv(nl, buf, sizeof buf, 0);
        if (len <= 0)
            return -1;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
             h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return n;
            if (h->nlmsg_type == NLMSG_ERROR)
                return -1;
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            n += m->idiag_state == STATE_SYN_RECV && ntohs(m->id.idiag_sport) == port;
        }
    }
}

int drain_half_open(int port)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -1;
    struct timeval tv = {1, 0};
    setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    /* An IPv6 listener's IPv4 clients have IPv4 request sockets: count both. */
    int v4 = half_open_family(nl, AF_INET, port);
    int v6 = v4 < 0 ? -1 : half_open_family(nl, AF_INET6, port);
    close(nl);
    return v4 < 0 || v6 < 0 ? -1 : v4 + v6;
}

void drain_refuse(int fd)
{
    static const char body[] =
        "{\"type\":\"https://fleetwarden.dev/problems/503\",\"title\":\"Service Unavailable\","
        "\"status\":503,\"detail\":\"the server is shutting down; try again\"}";
    char head[256];
    int n =
        snprintf(head, sizeof head,
                 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
                 "Content-Length: %zu\r\nRetry-After: 1\r\nCache-Control: no-store\r\nConnection: "
                 "close\r\n\r\n",
                 sizeof body - 1);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL | MSG_MORE) == n &&
        send(fd, body, sizeof body - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof body - 1))
        shutdown(fd, SHUT_WR);
    /* Closing with the request unread would send a reset that can destroy the answer
     * before the client reads it: read the request away until the client closes. */
    char sink[4096];
    long long end_ms = clock_mono_ms() + 1000;
    while (clock_mono_ms() < end_ms && recv(fd, sink, sizeof sink, 0) > 0)
        ;
    close(fd);
}
