/*
 * fleets.h - /v1/fleets: set up, read, change settings, reconcile and tear
 * down fleets, and the Greengrass config for their devices.
 */
#ifndef FW_ROUTES_FLEETS_H
#define FW_ROUTES_FLEETS_H

#include "routes.h"

extern const struct route_table routes_fleets_table;

#endif
