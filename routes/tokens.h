/* tokens.h - POST/GET /v1/tokens, DELETE /v1/tokens/{id}, GET /v1/audit (admin). */
#ifndef FW_ROUTES_TOKENS_H
#define FW_ROUTES_TOKENS_H

#include "routes.h"

extern const struct route_table routes_tokens_table;

#endif
