/* watch.h - GET /v1/watch (read: interval and default settings) and POST /v1/watch/run
 * (operate: a misuse-watch cycle now, 202 with its job). */
#ifndef FW_ROUTES_WATCH_H
#define FW_ROUTES_WATCH_H

#include "routes.h"

extern const struct route_table routes_watch_table;

#endif
