/*
 * drain.h - closing a listening socket without resetting a client.
 *
 * Closing (or shutting down) a listening TCP socket resets every connection
 * in its accept queue, and a handshake that is half done at that moment is
 * reset too when its last ACK arrives: the client has connected and sent
 * its request, and gets ECONNRESET. To close cleanly the server first stops
 * new handshakes (drain_stop_syns), waits for the half-done ones to land in
 * the accept queue (drain_half_open), accepts everything in the queue, and
 * only then closes. A client that connects afterwards gets no SYN-ACK; its
 * SYN is retransmitted and, the listener being gone, refused (ECONNREFUSED:
 * nothing was sent, so it may retry safely, e.g. on another instance).
 *
 * Linux only (a classic BPF socket filter and sock_diag); elsewhere the
 * functions fail and the caller falls back to closing at once.
 */
#ifndef FW_DRAIN_H
#define FW_DRAIN_H

/* Makes the kernel drop the SYNs that would start new handshakes on the
 * listening socket fd; handshakes already started finish. 0, or -1. */
int drain_stop_syns(int fd);

/* The number of handshakes to local TCP port `port` that are half done
 * (SYN_RECV, not yet in an accept queue), or -1 when it cannot be read. */
int drain_half_open(int port);

/* Answers the accepted connection fd, whose request has not been read,
 * with a complete 503 (Connection: close, Retry-After) and closes it. For a
 * connection the server cannot take any more (its connection limit): the
 * client gets an answer, not a reset. Blocks at most about a second. */
void drain_refuse(int fd);

#endif
