/* jobs.h - GET /v1/jobs, GET /v1/jobs/{id} (?wait= long-poll), POST /v1/jobs/{id}/cancel and
 * /retry. */
#ifndef FW_ROUTES_JOBS_H
#define FW_ROUTES_JOBS_H

#include "routes.h"

extern const struct route_table routes_jobs_table;

#endif
