/*
 * fleet_iot.h - the AWS IoT steps of a fleet (see fleet_run.h for the
 * modes): role alias, thing policy, thing groups, provisioning template,
 * claim policy and device endpoints, plus the deletes teardown uses.
 * Each returns 0 or the FW_E* code the handler returns.
 */
#ifndef FW_JOBS_HANDLERS_FLEET_IOT_H
#define FW_JOBS_HANDLERS_FLEET_IOT_H

#include <jansson.h>

struct fleet_run;

int fleet_iot_role_alias(struct fleet_run *r);
int fleet_iot_thing_policy(struct fleet_run *r);
int fleet_iot_thing_groups(struct fleet_run *r);
int fleet_iot_template(struct fleet_run *r);
int fleet_iot_claim_policy(struct fleet_run *r);
int fleet_iot_endpoints(struct fleet_run *r);

/* The template body the fleet wants (new reference): spec.template.body,
 * or the guide's body with the thing policy by name (shared) or as a
 * document (perDevice). */
json_t *fleet_iot_template_body(const struct fleet_run *r);

/* Prunes the oldest non-default version of an IoT policy when five exist
 * and creates a new default version. 0 or a negative code (r->err). */
int fleet_iot_policy_new_version(struct fleet_run *r, const char *name, const char *doc);
/* The same for a provisioning template's body, made the default version when set_default. */
int fleet_iot_template_new_version(struct fleet_run *r, const char *name, const char *body,
                                   int set_default);

/* Teardown: each 0 when done or already gone. */
int fleet_iot_delete_policy(struct fleet_run *r, const char *name);
/* Detaches an IoT policy from every target (certificates); *detached
 * counts the detachments made. AWS may refuse DeletePolicy for up to five
 * minutes afterwards (fleet_settle.h). */
int fleet_iot_detach_targets(struct fleet_run *r, const char *name, size_t *detached);
int fleet_iot_delete_alias(struct fleet_run *r, const char *alias);
int fleet_iot_delete_template(struct fleet_run *r, const char *name);
/* A thing group, only while it holds no thing: FW_ECONFLICT with the
 * reason in r->err when it holds things (provisioned devices) or AWS
 * refuses (child groups, a dynamic group). Takes its rate-limit tokens. */
int fleet_iot_delete_group(struct fleet_run *r, const char *name);

#endif
