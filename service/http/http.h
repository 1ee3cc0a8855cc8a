/*
 * http.h - what a route handler sees of a request and builds as a response.
 *
 * routes/ never include microhttpd.h: the server (service/http/server.c) turns
 * each MHD request into a struct http_req, calls the route's handler, and
 * sends the struct http_resp it filled. Everything a handler allocates
 * through http_req_alloc() lives until the request completes.
 *
 * Error answers are RFC 9457 problem details built with http_problem*().
 */
#ifndef FW_HTTP_H
#define FW_HTTP_H

#include <stddef.h>
#include <jansson.h>

#include "service/core/auth.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 12

struct fw_service;

struct http_req {
    const char *method;                       /* "GET", "POST", ... */
    const char *path;                         /* decoded path, without query */
    const char *param_names[HTTP_MAX_PARAMS]; /* from the route pattern "{name}" */
    const char *param_values[HTTP_MAX_PARAMS];
    int nparams;
    const char *body; /* raw body (NUL-terminated), or NULL */
    size_t body_len;
    json_t *json;            /* parsed JSON body when the route asks; borrowed */
    const char *request_id;  /* accepted or generated */
    const char *client_addr; /* the client's address (service/client_addr.h) */
    struct auth_token token; /* the caller, when the route needs auth */
    struct fw_service *svc;  /* config and shared state */
    void *impl;              /* the server's per-request state */
};

/* A streaming body (server-sent events). Called on one of the server's
 * threads, which serve other connections too: it must not block. Returns
 * bytes written into buf (> 0), -1 to end the stream, or HTTP_STREAM_WAIT
 * when it has nothing to send yet: the connection then holds no thread
 * until the request's waker is woken (http_req_waker) or its deadline
 * passes (http_waker_deadline), and fn is called again. */
typedef long(http_stream_fn)(void *ud, char *buf, size_t max);
typedef void(http_stream_free_fn)(void *ud);
#define HTTP_STREAM_WAIT (-2L)

struct http_resp {
    int status;                /* 0 until set */
    http_stream_fn *stream_fn; /* set by http_resp_stream */
    http_stream_free_fn *stream_free;
    void *stream_ud;
    json_t *json; /* owned: sent as application/json */
    char *body;   /* owned raw body, used when json is NULL */
    size_t body_len;
    int body_secret;          /* body holds a secret: sent without a copy, wiped after */
    const char *content_type; /* static string for raw bodies */
    const char *header_names[HTTP_MAX_HEADERS]; /* static names */
    char *header_values[HTTP_MAX_HEADERS];      /* owned values */
    int nheaders;
    const char *header_refused; /* the first header refused for want of room (a bug: 500) */
    int is_problem;             /* set by http_problem*: application/problem+json */
};

/* Query parameter (decoded) or NULL; borrowed for the request's lifetime. */
const char *http_req_query(struct http_req *req, const char *name);
/* Request header or NULL (case-insensitive name); borrowed. */
const char *http_req_header(struct http_req *req, const char *name);
/* Path parameter by name ("id" for "/v1/jobs/{id}") or NULL. */
const char *http_req_param(const struct http_req *req, const char *name);
/* Memory freed when the request completes; never NULL. */
void *http_req_alloc(struct http_req *req, size_t n);
/* The body of a route whose JSON body is optional (it does not ask for ROUTE_JSON): a new
 * reference to the object, an empty object when there is no body (none, no bytes or only
 * whitespace), or NULL when the body is not one JSON object (malformed, a member named twice as
 * every JSON body, null, an array, a scalar). Nothing is answered: the route says what it takes. */
json_t *http_req_optional_object(const struct http_req *req);

/* Sets status and a JSON body (takes ownership of body). */
void http_resp_json(struct http_resp *resp, int status, json_t *body);
/* Sets status and a raw body (copied). */
void http_resp_raw(struct http_resp *resp, int status, const char *content_type, const char *body,
                   size_t len);
/* Sets status and a body that holds a secret (a claim's private key):
 * takes body (malloc'd, len bytes plus a NUL). The server hands it to the
 * HTTP library without a copy and wipes it once sent, or when the request
 * ends unsent; a later http_resp_* call wipes it too. */
void http_resp_secret(struct http_resp *resp, int status, const char *content_type, char *body,
                      size_t len);
/* Frees the raw body (wiping a secret one). */
void http_resp_body_free(struct http_resp *resp);
/* Streams the body from fn (see http_stream_fn); free_fn(ud) runs when done. */
void http_resp_stream(struct http_resp *resp, int status, const char *content_type,
                      http_stream_fn *fn, http_stream_free_fn *free_fn, void *ud);
/* Adds or replaces a response header (name static, value copied). 0, or FW_ETOOBIG when
 * HTTP_MAX_HEADERS are set already: the header is refused, and the server answers 500 instead of
 * this response (a handler that needs more headers is a bug, never a silent drop). */
int http_resp_header(struct http_resp *resp, const char *name, const char *value);

/* Problem details: type is derived from status; detail is copied. */
void http_problem(struct http_resp *resp, int status, const char *title, const char *detail);
/* Problem from an FW_E* code (status from the error table). */
void http_problem_err(struct http_resp *resp, int err, const char *detail);
/* Problem for a failed store or queue call: Redis unreachable or erroring
 * (FW_EUNAVAILABLE, FW_EREDIS) is 503 with Retry-After: 1; any other code
 * uses the error table. */
void http_problem_store(struct http_resp *resp, int err);
/* Adds {"field","message"} to the problem's "errors" array (after http_problem). */
void http_problem_field(struct http_resp *resp, const char *field, const char *message);
/* 400 Invalid request naming every {"field","message"} of errors (a validator's list, such as
 * fleet_spec's: all bad fields at once, so a portal can mark them together). */
void http_problem_fields(struct http_resp *resp, const json_t *errors);

/* Parses ?limit= (1..500, default 50). 0, or FW_EINVAL after answering 400. */
int http_req_limit(struct http_req *req, struct http_resp *resp, int *limit);

/* A store's page of a cursor-paginated list: up to limit items after cursor (NULL = the first
 * page) into *items, the next page's cursor (malloc'd; NULL on the last page) into *next.
 * 0, FW_EINVAL for a cursor it did not hand out, or a store error. */
typedef int(http_list_fn)(int limit, const char *cursor, json_t **items, char **next);
/* Answers a list read that failed with rc: 400 naming the cursor when the store refused it
 * (FW_EINVAL), else the store's error (http_problem_store). Returns rc: 0 answers nothing. */
int http_list_failed(struct http_resp *resp, int rc);
/* Answers a list read: 200 {"items", "nextCursor"} (null on the last page) when rc is 0, else as
 * http_list_failed. Takes items and next (either may be NULL when rc is not 0). */
void http_list_answer(struct http_resp *resp, int rc, json_t *items, char *next);
/* Answers GET of a list: ?limit= and ?cursor= read, 200 {"items", "nextCursor"} with each item
 * passed through each (may be NULL; it edits the item in place), 400 naming the cursor when the
 * store refuses it, else the store's error. */
void http_list_page(struct http_req *req, struct http_resp *resp, http_list_fn *list,
                    void (*each)(json_t *item, const struct http_req *req));

/* ---- waiting without a thread: long polls and event streams ----
 *
 * The server runs a few event-loop threads for every connection, so a
 * handler that waits (for a job to finish, for the next event) parks its
 * request instead of blocking: the connection is suspended, holds no thread,
 * and the handler is called again when something wakes it. */

/* What a request holds while it waits: at most so many per token and in
 * total (FLEETWARDEN_MAX_STREAMS[_PER_TOKEN], FLEETWARDEN_MAX_LONG_POLLS[_PER_TOKEN]). */
enum http_hold { HTTP_HOLD_STREAM = 0, HTTP_HOLD_LONG_POLL = 1 };
/* Takes one of the caller's places of that kind until the request ends. 0, or
 * FW_ETHROTTLED after answering 429 (the token's limit) or 503 (the process's),
 * both with Retry-After, counted in /metrics. */
int http_req_hold(struct http_req *req, struct http_resp *resp, enum http_hold kind);

/* Wakes a parked request or stream from any thread. Reference-counted: the
 * request holds one until it ends; whoever keeps the pointer beyond the
 * handler (an event subscription) takes its own. Waking an ended request
 * does nothing. */
struct http_waker;
struct http_waker *http_req_waker(struct http_req *req);
void http_waker_wake(struct http_waker *w);
void http_waker_ref(struct http_waker *w);
void http_waker_unref(struct http_waker *w);
/* Wakes w after timeout_ms even if nobody else does (<= 0: no deadline). */
void http_waker_deadline(struct http_waker *w, int timeout_ms);

/* Parks the request: once woken (or after timeout_ms, or when the server
 * stops), fn(req, resp, ud) is called on a server thread to answer, or to
 * park again. A handler or fn that parks sets no response. */
typedef void(http_park_fn)(struct http_req *req, struct http_resp *resp, void *ud);
void http_req_park(struct http_req *req, int timeout_ms, http_park_fn *fn, void *ud);
/* 1 once the server is stopping, or the request's client has left (found by the watchdog
 * while it was parked): a parked request answers now instead of waiting on (a stream ends). */
int http_req_closing(struct http_req *req);
/* Runs fn(ud) when the request ends, however it ends (at most 4 per request):
 * where a handler drops what it registered elsewhere. */
typedef void(http_done_fn)(void *ud);
void http_req_on_done(struct http_req *req, http_done_fn *fn, void *ud);

#endif
