/*
 * templates.h - /v1/templates: validate template bodies (no AWS), and
 * create, read, change, version and delete provisioning templates.
 */
#ifndef FW_ROUTES_TEMPLATES_H
#define FW_ROUTES_TEMPLATES_H

#include "routes.h"

extern const struct route_table routes_templates_table;

#endif
