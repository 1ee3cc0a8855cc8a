/* events.h - GET /v1/events: job state changes as server-sent events (read scope). */
#ifndef FW_ROUTES_EVENTS_H
#define FW_ROUTES_EVENTS_H

#include "routes.h"

extern const struct route_table routes_events_table;

#endif
