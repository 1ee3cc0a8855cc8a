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
/* The account of an IAM role or Lambda function ARN into out (12 digits
 * and NUL); 0 when s is not such an ARN. */
int fleet_names_arn_account(const char *s, char out[13]);
/* 1 when Lambda function ARN s is in region and (account not NULL or "")
 * in account: AWS IoT invokes a pre-provisioning hook only in the
 * template's own account and region. */
int fleet_names_lambda_in(const char *s, const char *region, const char *account);
/* sts:AssumeRole external id: 2-1224 of [\w+=,.@:/-]. */
int fleet_names_external_id(const char *s);
/* The characters of a thing name (RegisterThing: [a-zA-Z0-9:_-]+). */
#define THING_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-"
/* The Greengrass nucleus version device configs name unless a fleet sets
 * settings.greengrass.nucleusVersion (AWS IoT Greengrass V2 document
 * history: nucleus v2.16.1, 23 December 2025). */
#define GREENGRASS_NUCLEUS_DEFAULT "2.16.1"
/* A component version: MAJOR.MINOR.PATCH, each 1-6 digits. */
int fleet_names_version(const char *s);
/* 1 when s is 1..max chars all in set (a strspn-style charset). */
int fleet_names_charset(const char *s, unsigned max, const char *set);

#endif
