/* docs.h - GET /docs (the API reference rendered by Redoc) and its assets. */
#ifndef FW_ROUTES_DOCS_H
#define FW_ROUTES_DOCS_H

#include "routes.h"

extern const struct route_table routes_docs_table;

#endif
