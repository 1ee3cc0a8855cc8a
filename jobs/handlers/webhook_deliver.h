/*
 * webhook_deliver.h - the webhook.deliver job: POSTs an incident to the
 * webhook of its fleet (settings.watch.webhook), signed.
 *
 * Payload {"incidentId", "event"} - never the secret: the handler reads
 * the URL and secret from the fleet's settings in Redis at delivery time.
 * Body: {"event", "incident": <GET /v1/incidents/{id}>, "deliveredAt"}.
 * Headers: Content-Type application/json, X-Fleetwarden-Event,
 * X-Fleetwarden-Delivery (the job id), X-Fleetwarden-Signature
 * (sha256=HEX, see webhook_check.h). 2xx is delivered; 408, 429 and 5xx
 * and connection errors are retried with the job's backoff (8 attempts);
 * other 4xx and 3xx (redirects are not followed) fail at once.
 * 5 s connect and total timeouts; at most 64 KiB of the answer is read.
 */
#ifndef FW_JOBS_HANDLERS_WEBHOOK_DELIVER_H
#define FW_JOBS_HANDLERS_WEBHOOK_DELIVER_H

#include <jansson.h>

#include "jobs/registry.h"

int webhook_deliver_handler(struct job_ctx *ctx, json_t *payload, void *ud);

#endif
