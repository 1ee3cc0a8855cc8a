/*
 * iotthing.h - the AWS IoT registry operations for a thing and its
 * certificate that RegisterThing made, as a cleanup needs them
 * (rest-json, 2015-05-28, paths and members as botocore's iot model).
 *
 * Every function: 0, or a negative FW_E* (awserr_to_fw) with err filled:
 * ResourceNotFoundException -> FW_ENOTFOUND, and so on (iot.h). Lists
 * page to the end (at most 100 pages). Outputs are aws_strlist
 * (client.h): free with aws_strlist_cleanup.
 */
#ifndef FW_AWS_IOTTHING_H
#define FW_AWS_IOTTHING_H

#include "aws/awserr.h"

struct aws_client;
struct aws_strlist;

/* DescribeThing: 0 when the thing exists. */
int iot_describe_thing(struct aws_client *c, const char *thing, struct aws_api_error *err);
/* DeleteThing: a thing that does not exist is success (AWS answers 200). */
int iot_delete_thing(struct aws_client *c, const char *thing, struct aws_api_error *err);
/* ListPrincipalThings: the things a certificate (ARN) is attached to. */
int iot_list_principal_things(struct aws_client *c, const char *principal, struct aws_strlist *out,
                              struct aws_api_error *err);
/* DetachThingPrincipal (AWS finishes it asynchronously). */
int iot_detach_thing_principal(struct aws_client *c, const char *thing, const char *principal,
                               struct aws_api_error *err);
/* ListThingGroupsForThing: the names of the thing's groups. */
int iot_list_thing_groups_for_thing(struct aws_client *c, const char *thing,
                                    struct aws_strlist *out, struct aws_api_error *err);
/* RemoveThingFromThingGroup. */
int iot_remove_thing_from_group(struct aws_client *c, const char *group, const char *thing,
                                struct aws_api_error *err);
/* ListAttachedPolicies: the names of the policies attached to target (a certificate ARN). */
int iot_list_attached_policies(struct aws_client *c, const char *target, struct aws_strlist *out,
                               struct aws_api_error *err);

#endif
