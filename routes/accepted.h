/*
 * accepted.h - the 202 Accepted answer of a route that queued a job.
 */
#ifndef FW_ROUTES_ACCEPTED_H
#define FW_ROUTES_ACCEPTED_H

#include <jansson.h>

#include "service/http/http.h"

/* Answers 202 with {"job": {"id", "state": "queued", "href"}} plus the members of members (an
 * object, stolen; NULL = none: the resource as it stands, e.g. "claim" or "fleet") and
 * Location: the job's href (/v1/jobs/ID). */
void routes_accepted(struct http_resp *resp, const char *job_id, json_t *members);

#endif
