/*
 * fleet_names.h - AWS's own patterns and lengths for the names and ARNs a
 * fleet uses, checked before anything is queued. Pure functions.
 *
 * Each returns 1 when s is valid, 0 otherwise (NULL is invalid).
 */
#ifndef FW_JOBS_HANDLERS_FLEET_NAMES_H
#define FW_JOBS_HANDLERS_FLEET_NAMES_H

/* Fleet: 1-64 of [A-Za-z0-9_-]. */
int fleet_names_fleet(const char *s);
/* IAM role name: 1-64 of [A-Za-z0-9_+=,.@-] (IAM's [\w+=,.@-]). */
int fleet_names_iam_role(const char *s);
/* IAM policy name: 1-128 of [\w+=,.@-]. */
int fleet_names_iam_policy(const char *s);
/* IoT policy name: 1-128 of [\w+=,.@-]. */
int fleet_names_iot_policy(const char *s);
/* IoT role alias: 1-128 of [\w=,@-]. */
int fleet_names_role_alias(const char *s);
/* Provisioning template: 1-36 of [0-9A-Za-z_-]. */
int fleet_names_template(const char *s);
/* Thing group: 1-128 of [a-zA-Z0-9:_-]. */
int fleet_names_thing_group(const char *s);
/* Region such as "us-east-1", "us-gov-west-1", "cn-north-1". */
int fleet_names_region(const char *s);
/* S3 bucket: 3-63 of [a-z0-9.-], starting and ending with a letter or digit. */
int fleet_names_bucket(const char *s);
/* IAM role ARN: arn:PARTITION:iam::ACCOUNT(12 digits):role/[PATH/]NAME. */
int fleet_names_role_arn(const char *s);
/* IAM policy ARN: arn:PARTITION:iam::ACCOUNT(12 digits, or "aws"):policy/[PATH/]NAME. */
int fleet_names_iam_policy_arn(const char *s);
/* Lambda function ARN (pre-provisioning hook):
 * arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]. */
int fleet_names_lambda_arn(const char *s);
/* sts:AssumeRole external id: 2-1224 of [\w+=,.@:/-]. */
int fleet_names_external_id(const char *s);
/* 1 when s is 1..max chars all in set (a strspn-style charset). */
int fleet_names_charset(const char *s, unsigned max, const char *set);

#endif
