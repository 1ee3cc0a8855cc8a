/* ops.h - /healthz, /readyz, /metrics, /openapi.json. */
#ifndef FW_ROUTES_OPS_H
#define FW_ROUTES_OPS_H

#include "routes.h"

extern const struct route_table routes_ops_table;

#endif
