/*
 * server.h - the HTTP server (libmicrohttpd in epoll mode, a few
 * event-loop threads for every connection).
 *
 * Long polls and server-sent events do not block a thread: they park their
 * request (http.h) until woken. Connections per client address, the idle
 * timeout, and streams and long polls per token bound what one client can
 * hold (server.c).
 */
#ifndef FW_SERVER_H
#define FW_SERVER_H

#include <stddef.h>

struct fw_service;
struct http_app;
struct server;

/* Binds and starts serving app's routes (service/http/route.h; app is borrowed and must
 * outlive the server). 0, or FW_EIO with a reason in err. */
int server_start(struct fw_service *svc, const struct http_app *app, struct server **out, char *err,
                 size_t errlen);
/* The port actually bound (useful with port 0). */
int server_port(const struct server *s);
/* Stops accepting new connections without resetting one the kernel already took: holds new
 * handshakes back (drain.h), waits up to 1 s for the half-done ones, serves what is left in
 * the listen backlog (a 503 over the connection limit), then takes the socket out of LISTEN
 * so later clients are refused at connect. In-flight requests go on. */
void server_quiesce(struct server *s);
/* Waits until no request is in flight or timeout_s passes; 1 if idle. */
int server_wait_idle(struct server *s, int timeout_s);
/* Closes every connection and frees the server. NULL is a no-op. */
void server_stop(struct server *s);

#endif
