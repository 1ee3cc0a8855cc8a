/*
 * policies.h - the documents of AWS's "Set up AWS IoT fleet provisioning for
 * Greengrass core devices" guide with the placeholders filled, and a
 * semantic comparison of policy documents. Pure functions, unit-tested.
 *
 * Every builder returns a new JSON reference (never NULL). ARNs use the
 * partition of the region ("aws", "aws-cn", "aws-us-gov").
 */
#ifndef FW_JOBS_HANDLERS_POLICIES_H
#define FW_JOBS_HANDLERS_POLICIES_H

#include <stddef.h>
#include <jansson.h>

#define POLICIES_PARTITION_MAX 16

/* The partition of a region: "aws-cn" for cn-*, "aws-us-gov" for us-gov-*, else "aws". */
const char *policies_partition(const char *region);

/* Trust policy of the token exchange role: credentials.iot.amazonaws.com may sts:AssumeRole. */
json_t *policies_tes_trust(void);
/* Access policy of the token exchange role: iot:DescribeCertificate, the
 * four logs actions and s3:GetBucketLocation on "*", plus s3:GetObject on
 * arn:P:s3:::BUCKET/(any key) for each bucket name in buckets (array; may be NULL). */
json_t *policies_tes_access(const char *region, const json_t *buckets);
/* The Greengrass thing policy: iot:Publish/Subscribe/Receive/Connect and
 * greengrass:* on "*", iot:AssumeRoleWithCertificate on the role alias's
 * full ARN arn:P:iot:REGION:ACCOUNT:rolealias/ALIAS. */
json_t *policies_thing_policy(const char *region, const char *account, const char *role_alias);
/* Trust policy of the provisioning role: iot.amazonaws.com may sts:AssumeRole. */
json_t *policies_provisioning_trust(void);
/* arn:P:iam::aws:policy/service-role/AWSIoTThingsRegistration into out. */
void policies_registration_policy_arn(const char *region, char *out, size_t n);
/* The claim policy: iot:Connect on "*"; iot:Publish and iot:Receive on
 * topic/$aws/certificates/create/(any) and
 * topic/$aws/provisioning-templates/TEMPLATE/provision/(any); iot:Subscribe on the same as
 * topicfilter/. With allow_csr, the $aws/certificates/create-from-csr/(any) topics too. */
json_t *policies_claim_policy(const char *region, const char *account, const char *template_name,
                              int allow_csr);
/* Where a device's thing name comes from (a fleet's spec.template.thingName). */
struct policies_thing_name {
    const char *from;   /* NULL or "parameter": the device sends ThingName;
                         * "serialNumber": prefix + the SerialNumber parameter;
                         * "certificateId": prefix + the new certificate's id
                         * (AWS's side: one config serves a whole line) */
    const char *prefix; /* NULL = "" */
};

/* The provisioning template body of the Greengrass guide: parameters
 * ThingName (or SerialNumber, or none, by tn; tn NULL = ThingName),
 * ThingGroupName, AWS::IoT::Certificate::Id; resources MyThing with the
 * guide's OverrideSettings (AttributePayload, ThingGroups and ThingTypeName
 * REPLACE: a device provisioned again is put back into its thing group),
 * MyPolicy (PolicyName = policy_name, or PolicyDocument = policy_document
 * as a JSON string, borrowed, when policy_document is not NULL) and
 * MyCertificate. */
json_t *policies_template_body(const char *policy_name, const json_t *policy_document,
                               const struct policies_thing_name *tn);

/* IAM/IoT ARNs built from parts, into out. */
void policies_iam_policy_arn(const char *region, const char *account, const char *name, char *out,
                             size_t n);
void policies_role_alias_arn(const char *region, const char *account, const char *alias, char *out,
                             size_t n);

/*
 * Semantic equality of two policy documents (or template bodies): JSON
 * equality after normalising a policy's Statement to an array, Action,
 * NotAction, Resource and NotResource strings to one-element arrays and
 * sorting those arrays, sorting Statement arrays by each statement's
 * canonical JSON text (statements compare as a multiset: their order means
 * nothing to AWS), and dropping Sid. a is JSON text (NULL or not JSON
 * is different); b a document. 1 when equal. When different and diff is
 * not NULL, a short description of the first difference ("Statement[1]
 * .Action: [..] != [..]") is written into diff.
 */
int policies_equal(const char *a, const json_t *b, char *diff, size_t difflen);
/* The same with both sides parsed. */
int policies_equal_json(const json_t *a, const json_t *b, char *diff, size_t difflen);

#endif
