/*
 * server_internal.h - state shared by server.c (MHD glue), server_req.c
 * (routing, auth, limits, sending) and server_park.c (requests that wait
 * without a thread). Not for other modules.
 */
#ifndef FW_SERVER_INTERNAL_H
#define FW_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "service/core/buf.h"
#include "service/http/counts.h"
#include "service/core/client_addr.h"
#include "service/core/clock.h"
#include "service/http/http.h"

struct MHD_Connection;
struct MHD_Daemon;
struct fw_service;
struct http_app;

/* What /metrics counts of the limits (server.c renders them). */
enum server_limit {
    LIMIT_CONN_ADDRESS = 0, /* a connection refused at accept: its address holds too many */
    LIMIT_STREAMS_TOKEN,
    LIMIT_STREAMS,
    LIMIT_POLLS_TOKEN,
    LIMIT_POLLS,
    LIMIT_RATE_ADDRESS,
    LIMIT_RATE_TOKEN,
    LIMIT_N
};

struct conn_watch;

struct server {
    struct MHD_Daemon *daemon;
    /* The same for /metrics: set once the daemon's threads run, which may answer a request (the
     * collector reads it) before MHD_start_daemon has returned to the main thread. */
    _Atomic(struct MHD_Daemon *) daemon_live;
    struct fw_service *svc;
    const struct http_app *app; /* borrowed; outlives the server */
    atomic_int inflight;        /* requests between first callback and completion */
    int port;
    pthread_mutex_t wmu; /* guards watched and every deadline_ns */
    struct conn_watch *watched;
    long long idle_ns; /* to a complete header (new and kept-alive connections) */
    long long body_ns; /* to a complete body */
    atomic_int wstop;
    pthread_t wthread;
    int wstarted;
    int listen_fd;            /* once quiesced, until MHD has stopped; else -1 */
    struct counts *per_addr;  /* open connections by client address */
    struct counts *per_token; /* streams ("s:ID") and long polls ("p:ID") by token */
    atomic_int holds[2];      /* open streams, waiting long polls (enum http_hold) */
    atomic_llong limited[LIMIT_N];
    atomic_llong unauthenticated;  /* requests answered 401 */
    atomic_llong authfail_skipped; /* 401s not sampled into the record since the last sample */
    atomic_llong authfail_second;  /* the second of the last sample */
    pthread_mutex_t pmu;           /* guards every waker and the parked list */
    struct http_waker *parked;     /* suspended connections, for deadlines and shutdown */
    int closing;                   /* under pmu: no connection may be suspended any more */
    atomic_int nparked;
};

struct arena_block {
    struct arena_block *next;
    max_align_t data[];
};

#define REQ_DONE_MAX 4

struct req_state {
    struct server *srv;
    struct fw_service *svc;
    const struct http_app *app; /* routes and hooks (service/http/route.h) */
    struct MHD_Connection *conn;
    const char *method; /* MHD's, valid for the request */
    const char *url;    /* MHD's decoded path, valid for the request */
    long long start_ns;
    struct buf body;
    int toobig;    /* body exceeded 1 MiB */
    int raw_nul;   /* the raw URI had %00: MHD's decoded path would be cut at it */
    int responded; /* a response was queued */
    int audited;   /* a mutating /v1 route: audit once answered by an authenticated caller */
    char request_id[129];
    char
        addr[COUNTS_KEY_MAX]; /* the TCP peer's key (counts_address_key): connections per address */
    char client[CLIENT_ADDR_MAX];    /* the client's address (client_addr.h), for logs, audit and
                                        limits */
    char client_key[COUNTS_KEY_MAX]; /* the client's key (an IPv6 client by its /64): rate limits */
    const char *route;               /* matched pattern (static), for metrics */
    int hold;                 /* enum http_hold taken + 1, or 0 (a zeroed state holds nothing) */
    struct http_waker *waker; /* created by http_req_waker; the request's reference */
    http_park_fn *park_fn;    /* set while the request is parked */
    void *park_ud;
    struct {
        http_done_fn *fn;
        void *ud;
    } done[REQ_DONE_MAX];
    int ndone;
    struct http_req req;
    struct http_resp resp;
    struct arena_block *arena;
};

/* Routes, authenticates, runs the handler and queues the response (or parks
 * the request). Returns 1 when MHD should go on, 0 when it should close. */
int server__respond(struct req_state *st);
/* Calls a parked request's handler again, then answers or parks anew. */
int server__resume(struct req_state *st);
/* Sets st->client from the TCP peer and, behind a trusted proxy, its
 * X-Forwarded-For. Call once the headers are in. */
void server__client(struct req_state *st);
/* Frees everything the request owns. */
void server__req_free(struct req_state *st);

/* server_park.c */
/* Suspends the request's connection unless a wake came first (then MHD calls
 * the handler again at once). 1 when suspended. */
int server__park(struct req_state *st);
/* For a stream that has nothing to send: the same for its connection. */
void server__park_stream(struct http_waker *w);
/* The request ended: its waker never resumes anything again. */
void server__waker_done(struct http_waker *w);
/* Wakes the parked requests whose deadline passed (all of them when all). */
void server__wake_due(struct server *srv, long long now_ns, int all);
/* Resumes the parked connections whose client went away, marking them gone. */
void server__check_parked(struct server *srv);
/* 1 when w's client went away: a stream ends. */
int server__waker_gone(struct http_waker *w);
/* No connection may be suspended from now on; wakes every parked one. */
void server__close_parking(struct server *srv);

#endif
