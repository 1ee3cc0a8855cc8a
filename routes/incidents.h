/* incidents.h - GET /v1/incidents (?state=&fleet=&claim=, paged), GET /v1/incidents/{id},
 * POST /v1/incidents/{id}/ack and /resolve (operate). */
#ifndef FW_ROUTES_INCIDENTS_H
#define FW_ROUTES_INCIDENTS_H

#include "routes.h"

extern const struct route_table routes_incidents_table;

#endif
