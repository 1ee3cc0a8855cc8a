/*
 * template_jobs.h - job handlers for templates managed through
 * /v1/templates (records in store_fleet.h's template documents).
 *
 * Payload of all four: {"template": NAME, ...}:
 *   template.create   makes the template from its record (body,
 *                     provisioningRoleArn, description, enabled, hook);
 *                     an existing template with the same body is taken over
 *   template.update   applies the record's description, enabled,
 *                     provisioningRoleArn and hook (UpdateProvisioningTemplate)
 *   template.version  {"body": {...}, "setAsDefault": bool} makes a version
 *                     (pruning the oldest non-default one when five exist),
 *                     or {"defaultVersionId": N} makes N the default
 *   template.delete   deletes the template at AWS, then the record
 * Each refreshes the record's arn, defaultVersionId, versions and state.
 */
#ifndef FW_JOBS_HANDLERS_TEMPLATE_JOBS_H
#define FW_JOBS_HANDLERS_TEMPLATE_JOBS_H

#include <jansson.h>

struct job_ctx;

int template_create_run(struct job_ctx *ctx, json_t *payload, void *ud);
int template_update_run(struct job_ctx *ctx, json_t *payload, void *ud);
int template_version_run(struct job_ctx *ctx, json_t *payload, void *ud);
int template_delete_run(struct job_ctx *ctx, json_t *payload, void *ud);

#endif
