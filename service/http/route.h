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

#define ROUTE_JSON 1u      /* body must be a JSON object (400 otherwise) */
#define ROUTE_NOAUDIT 2u   /* a mutating route that audits itself or must not be audited */
#define ROUTE_METRICS 4u   /* public unless FLEETWARDEN_METRICS_PUBLIC=false, then read scope */
#define ROUTE_NOHEAD 8u    /* a GET with an effect (the one-time bundle): HEAD is 405, never this GET */

struct route {
    const char *method;
    const char *pattern;
    enum auth_scope scope;   /* SCOPE_NONE = public */
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
    const char *token_id;     /* NULL when the caller was not authenticated */
    const char *method;
    const char *path;
    int status;
    const char *request_id;
    const char *client;       /* the client's address (service/core/client_addr.h), or NULL */
};

/* Finds a token by the hex SHA-256 of its secret: 0 with *out filled, FW_ENOTFOUND, or
 * FW_EUNAVAILABLE / FW_EREDIS when the store cannot answer. Called from connection threads. */
typedef int(http_token_lookup_fn)(const char *hash_hex, struct auth_token *out);
/* Appends one audit entry (trail capped at maxlen entries); 0 or an FW_E* code. */
typedef int(http_audit_append_fn)(const struct http_audit_entry *e, int maxlen);

/* What the server serves. Static and read-only once the server starts. */
struct http_app {
    const struct route_table *const *tables;   /* match order */
    size_t ntables;
    http_token_lookup_fn *token_lookup;
    http_audit_append_fn *audit_append;
};

#endif
