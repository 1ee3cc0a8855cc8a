/*
 * routes.h - the service's route tables (service/http/route.h has the types).
 *
 * Each routes/X.c exports one table; routes.c joins them in match order. The
 * composition root (service/main.c) hands them to the HTTP server, which
 * matches, checks auth and scope, parses JSON bodies for routes flagged
 * ROUTE_JSON, then calls the handler.
 */
#ifndef FW_ROUTES_H
#define FW_ROUTES_H

#include <stddef.h>

#include "service/http/route.h"

/* All route tables of the service, in match order (static, read-only). */
const struct route_table *const *routes_all(size_t *ntables);
/* Only the ops table (/healthz, /readyz, /metrics, /openapi.json): what a
 * `worker` process with FLEETWARDEN_HEALTH_LISTEN answers. */
const struct route_table *const *routes_ops_only(size_t *ntables);

#endif
