/*
 * generation.h - which generation of a record a job was made for.
 *
 * A fleet or template deleted and created again under the same name is a
 * different resource: each record gets a random "uid" when it is created
 * ("fl_..." for fleets, "tpl_..." for templates), and the routes copy it
 * into the payload of every job they enqueue for it. A job whose uid is
 * not the record's (a dead teardown retried after the fleet was
 * re-created) must not touch the new record or its AWS resources
 * (fleet_run_check_generation fails it). Pure; unit-tested.
 */
#ifndef FW_JOBS_HANDLERS_GENERATION_H
#define FW_JOBS_HANDLERS_GENERATION_H

#include <jansson.h>

#define GENERATION_UID_MAX 32 /* "tpl_" + 24 hex digits + NUL fits */

/* 1 when a job with payload (its "uid") was made for record doc (its
 * "uid"). A record from before generations existed (no uid) matches only
 * a payload without one; a record with a uid matches only that uid (a job
 * from before generations cannot be for a record made after them). Pure. */
int generation_matches(const json_t *payload, const json_t *doc);

#endif
