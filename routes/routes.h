/*
 * routes.h - the route table: method + path pattern -> handler and scope.
 *
 * Patterns are literal segments and "{name}" parameters, e.g.
 * "/v1/jobs/{id}/cancel". Each routes/X.c exports one table; routes.c joins
 * them. The server matches, checks auth and scope, parses JSON bodies for
 * routes flagged ROUTE_JSON, then calls the handler.
 */
#ifndef FW_ROUTES_H
#define FW_ROUTES_H

#include <stddef.h>

#include "service/auth.h"
#include "service/http.h"

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

/* All route tables of the service, in match order (static, read-only). */
const struct route_table *const *routes_all(size_t *ntables);
/* Only the ops table (/healthz, /readyz, /metrics, /openapi.json): what a
 * `worker` process with FLEETWARDEN_HEALTH_LISTEN answers. */
const struct route_table *const *routes_ops_only(size_t *ntables);

#define ROUTE_TABLE(name, arr) const struct route_table name = {arr, sizeof arr / sizeof arr[0]}

#endif
