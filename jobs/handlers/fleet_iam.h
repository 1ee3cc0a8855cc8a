/*
 * fleet_iam.h - the IAM steps of a fleet (see fleet_run.h for the modes):
 * the token exchange role, its access policy and the attachment, and the
 * provisioning role with AWSIoTThingsRegistration attached.
 * Each returns 0 or the FW_E* code the handler returns.
 */
#ifndef FW_JOBS_HANDLERS_FLEET_IAM_H
#define FW_JOBS_HANDLERS_FLEET_IAM_H

struct fleet_run;

int fleet_iam_tes_role(struct fleet_run *r);
int fleet_iam_tes_policy(struct fleet_run *r);
int fleet_iam_tes_attach(struct fleet_run *r);
int fleet_iam_prov_role(struct fleet_run *r);
int fleet_iam_prov_attach(struct fleet_run *r);

/* Teardown helpers: each 0 when done or nothing to do. */
int fleet_iam_delete_role(struct fleet_run *r, const char *role);
int fleet_iam_delete_policy(struct fleet_run *r, const char *arn);
int fleet_iam_detach(struct fleet_run *r, const char *role, const char *arn);

#endif
