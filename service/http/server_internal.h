/*
 * server_internal.h - state shared by server.c (MHD glue) and
 * server_req.c (routing, auth, CORS, sending). Not for other modules.
 */
#ifndef FW_SERVER_INTERNAL_H
#define FW_SERVER_INTERNAL_H

#include "service/core/buf.h"
#include "service/core/client_addr.h"
#include "service/http/http.h"

struct MHD_Connection;
struct server;
struct fw_service;
struct http_app;

struct arena_block {
    struct arena_block *next;
    max_align_t data[];
};

struct req_state {
    struct server *srv;
    struct fw_service *svc;
    const struct http_app *app;   /* routes and hooks (service/http/route.h) */
    struct MHD_Connection *conn;
    const char *method;        /* MHD's, valid for the request */
    const char *url;           /* MHD's decoded path, valid for the request */
    long long start_ns;
    struct buf body;
    int toobig;                /* body exceeded 1 MiB */
    int raw_nul;               /* the raw URI had %00: MHD's decoded path would be cut at it */
    int responded;             /* a response was queued */
    char request_id[129];
    char client[CLIENT_ADDR_MAX]; /* the client's address (client_addr.h), for logs and audit */
    const char *route;         /* matched pattern (static), for metrics */
    struct http_req req;
    struct http_resp resp;
    struct arena_block *arena;
};

/* Routes, authenticates, runs the handler and queues the response.
 * Returns 1 when a response was queued, 0 when MHD should close. */
int server__respond(struct req_state *st);
/* Sets st->client from the TCP peer and, behind a trusted proxy, its
 * X-Forwarded-For. Call once the headers are in. */
void server__client(struct req_state *st);
/* Frees everything the request owns. */
void server__req_free(struct req_state *st);

#endif
