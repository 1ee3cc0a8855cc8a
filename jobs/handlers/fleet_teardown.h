/*
 * fleet_teardown.h - the fleet.teardown job handler.
 *
 * Payload {"fleet": NAME, "force": bool}. Deletes, in reverse setup order,
 * the resources the fleet created that no other fleet of the same account
 * still uses; adopted, pre-existing and shared resources stay. Refuses
 * (CONFLICT) while the fleet has active claims unless force, which first
 * disables them through claim.disable and detaches the claim policy from
 * their certificates. Ends by removing the fleet record. Result
 * {"fleet", "deleted": [...], "kept": [{resource, name, reason}]}.
 */
#ifndef FW_JOBS_HANDLERS_FLEET_TEARDOWN_H
#define FW_JOBS_HANDLERS_FLEET_TEARDOWN_H

#include <jansson.h>

struct job_ctx;

int fleet_teardown_run(struct job_ctx *ctx, json_t *payload, void *ud);

#endif
