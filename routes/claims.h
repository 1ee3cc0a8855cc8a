/* claims.h - claim certificates: POST /v1/fleets/{name}/claims, GET /v1/claims[/{id}],
 * GET /v1/claims/{id}/bundle, POST /v1/claims/{id}/rotate|disable|enable, DELETE /v1/claims/{id}.
 */
#ifndef FW_ROUTES_CLAIMS_H
#define FW_ROUTES_CLAIMS_H

#include "routes.h"

extern const struct route_table routes_claims_table;

#endif
