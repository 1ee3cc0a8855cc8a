/*
 * route.h - what the HTTP server serves: route tables (method + path pattern
 * -> handler and scope) and the hooks the composition root gives it.
 *
 * The server knows nothing of the routes/ folder or of where tokens and the
 * audit trail are kept: service/main.c hands it a struct http_app (h2o's
 * handlers register into a path config the same way). Patterns are literal
 * segments and "{name}" parameters, e.g. "/v1/jobs/{id}/cancel".
 */
#ifndef FW_HTTP_ROUTE_H
#define FW_HTTP_ROUTE_H

#include <stddef.h>

#include "service/core/auth.h"
#include "service/http/http.h"

typedef void(route_fn)(struct http_req *req, struct http_resp *resp);

/* Route flags. */
#define ROUTE_JSON 1u    /* body must be a JSON object (400 otherwise) */
#define ROUTE_NOAUDIT 2u /* a mutating route that audits itself or must not be audited */
#define ROUTE_METRICS 4u /* public unless FLEETWARDEN_METRICS_PUBLIC=false, then read scope */
/* a GET with an effect (the one-time bundle): HEAD is 405, never this GET */
#define ROUTE_NOHEAD 8u
/* a GET audited like a mutation (the one-time bundle: who took the key) */
#define ROUTE_AUDIT 16u

struct route {
    const char *method;
    const char *pattern;
    enum auth_scope scope; /* SCOPE_NONE = public */
    unsigned flags;
    route_fn *fn;
};

struct route_table {
    const struct route *routes;
    size_t count;
};

#define ROUTE_TABLE(name, arr) const struct route_table name = {arr, sizeof arr / sizeof arr[0]}

/* One line of the audit trail: a mutating /v1 request and its outcome. */
struct http_audit_entry {
    const char *token_id; /* NULL when the caller was not authenticated */
    const char *method;
    const char *path;
    int status;
    const char *request_id;
    const char *client; /* the client's address (service/core/client_addr.h), or NULL */
};

/* Finds a token by the hex SHA-256 of its secret: 0 with *out filled, FW_ENOTFOUND, or
 * FW_EUNAVAILABLE / FW_EREDIS when the store cannot answer. Called from connection threads. */
typedef int(http_token_lookup_fn)(const char *hash_hex, struct auth_token *out);
/* Appends one audit entry (trail capped at maxlen entries); 0 or an FW_E* code. */
typedef int(http_audit_append_fn)(const struct http_audit_entry *e, int maxlen);

/* One request counted against the rate limits (FLEETWARDEN_RATE_LIMIT_ADDRESS and
 * _TOKEN: at most n requests per window of s seconds; n = 0: no limit). */
struct http_rate {
    const char *addr;     /* the client address's key (counts_address_key) */
    const char *token_id; /* NULL when the request is not authenticated */
    int addr_n, addr_s;
    int token_n, token_s;
};
/* Counts the request in windows shared by every process: 0 when it may go on;
 * FW_ETHROTTLED with *retry_after_s (to the end of the window) and *by_token (1 when
 * the token's limit said no, 0 the address's); any other code: the store cannot
 * answer, and the request goes on (the limits fail open). */
typedef int(http_rate_take_fn)(const struct http_rate *r, int *retry_after_s, int *by_token);
/* Finds the token and counts the request (r->token_id ignored: the token found is counted) in
 * one step of the store: returns as http_token_lookup_fn (FW_ENOTFOUND after counting the
 * address); *throttled is FW_ETHROTTLED with *retry_after_s and *by_token, or 0. */
typedef int(http_token_lookup_rated_fn)(const char *hash_hex, const struct http_rate *r,
                                        struct auth_token *out, int *throttled, int *retry_after_s,
                                        int *by_token);

/* A request answered 401, as the server samples it (at most one a second per process,
 * with how many it left out since the last): never the audit trail, which an
 * anonymous flood could otherwise push out. */
struct http_authfail {
    const char *addr; /* the client address's key */
    const char *method;
    const char *path;
    const char *request_id;
    const char *reason; /* "no token", "unknown token" */
    long long skipped;  /* 401s since the previous sample that were not recorded */
};
typedef int(http_authfail_fn)(const struct http_authfail *a);

/* What the server serves. Static and read-only once the server starts. */
struct http_app {
    const struct route_table *const *tables; /* match order */
    size_t ntables;
    http_token_lookup_fn *token_lookup;
    http_audit_append_fn *audit_append;
    http_rate_take_fn *rate_take;                   /* NULL: no rate limits */
    http_token_lookup_rated_fn *token_lookup_rated; /* NULL: token_lookup, then rate_take */
    http_authfail_fn *authfail_record;              /* NULL: 401s are only counted */
};

#endif
