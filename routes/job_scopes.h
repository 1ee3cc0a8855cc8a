/*
 * job_scopes.h - the scope a caller needs to cancel or retry a job: the
 * scope that creating a job of that type needs. One table, so a
 * retry can never run with less than the request that made the job.
 *
 * Pure; unit-tested (tests/unit/service/job_scopes_test.c).
 */
#ifndef FW_ROUTES_JOB_SCOPES_H
#define FW_ROUTES_JOB_SCOPES_H

#include "service/core/auth.h"

/* The scope that creating a job of type needs: admin for fleet.* and
 * template.*, operate for claim.*, watch.cycle and webhook.deliver. A type
 * the table does not know (NULL too) needs admin: new types fail closed. */
enum auth_scope job_scope_for(const char *type);
/* 1 when the table has a line for type (a test checks every registered type). */
int job_scope_known(const char *type);

#endif
