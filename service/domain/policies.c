/*
 * policies.c - the guide's policy documents and template body, built with
 * jansson from the region, account and names, and a normalising
 * comparison so that a document read back from AWS (IAM returns it
 * URL-encoded, IoT may reorder nothing but an operator may reorder
 * actions or write "Action": "x" for ["x"]) counts as equal when it means
 * the same.
 *
 * Nothing here does I/O; the unit tests compare each builder's output with
 * the guide's JSON.
 */
#include "service/domain/policies.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_VERSION "2012-10-17"

const char *policies_partition(const char *region)
{
    if (region && !strncmp(region, "cn-", 3))
        return "aws-cn";
    if (region && !strncmp(region, "us-gov-", 7))
        return "aws-us-gov";
    return "aws";
}

static json_t *statement(json_t *action, json_t *resource)
{
    return json_pack("{s:s, s:o, s:o}", "Effect", "Allow", "Action", action, "Resource", resource);
}

static json_t *document(json_t *statements)
{
    return json_pack("{s:s, s:o}", "Version", POLICY_VERSION, "Statement", statements);
}

static json_t *trust(const char *service)
{
    json_t *st = json_pack("{s:s, s:{s:s}, s:s}", "Effect", "Allow", "Principal", "Service",
                           service, "Action", "sts:AssumeRole");
    return document(json_pack("[o]", st));
}

json_t *policies_tes_trust(void)
{
    return trust("credentials.iot.amazonaws.com");
}

json_t *policies_provisioning_trust(void)
{
    return trust("iot.amazonaws.com");
}

/* iot:DescribeCertificate is one action more than the fleet provisioning
 * guide's policy, on purpose: the Greengrass guide ("Authorize core
 * devices to interact with AWS services") gives nucleus v2.4.x a policy
 * with it and v2.5.0 and later one without. Fleet provisioning works from
 * v2.4.0 and a fleet may pin its devices' nucleus (settings.greengrass),
 * so the action stays: read-only, and a shared policy that earlier fleets
 * created with it keeps matching (dropping it would make every such fleet
 * a difference to adopt). */
json_t *policies_tes_access(const char *region, const json_t *buckets)
{
    json_t *actions = json_pack("[s,s,s,s,s,s]", "iot:DescribeCertificate", "logs:CreateLogGroup",
                                "logs:CreateLogStream", "logs:PutLogEvents",
                                "logs:DescribeLogStreams", "s3:GetBucketLocation");
    json_t *sts = json_pack("[o]", statement(actions, json_string("*")));
    if (json_array_size(buckets) > 0) {
        json_t *res = json_array();
        size_t i;
        json_t *b;
        json_array_foreach(buckets, i, b)
        {
            char arn[160];
            snprintf(arn, sizeof arn, "arn:%s:s3:::%s/*", policies_partition(region),
                     json_string_value(b));
            json_array_append_new(res, json_string(arn));
        }
        json_array_append_new(sts, statement(json_pack("[s]", "s3:GetObject"), res));
    }
    return document(sts);
}

void policies_role_alias_arn(const char *region, const char *account, const char *alias, char *out,
                             size_t n)
{
    snprintf(out, n, "arn:%s:iot:%s:%s:rolealias/%s", policies_partition(region), region, account,
             alias);
}

void policies_iam_policy_arn(const char *region, const char *account, const char *name, char *out,
                             size_t n)
{
    snprintf(out, n, "arn:%s:iam::%s:policy/%s", policies_partition(region), account, name);
}

void policies_registration_policy_arn(const char *region, char *out, size_t n)
{
    snprintf(out, n, "arn:%s:iam::aws:policy/service-role/AWSIoTThingsRegistration",
             policies_partition(region));
}

json_t *policies_thing_policy(const char *region, const char *account, const char *role_alias)
{
    char arn[400];
    policies_role_alias_arn(region, account, role_alias, arn, sizeof arn);
    json_t *a1 = json_pack("[s,s,s,s,s]", "iot:Publish", "iot:Subscribe", "iot:Receive",
                           "iot:Connect", "greengrass:*");
    json_t *s1 = statement(a1, json_pack("[s]", "*"));
    json_t *s2 = statement(json_pack("[s]", "iot:AssumeRoleWithCertificate"), json_string(arn));
    return document(json_pack("[o,o]", s1, s2));
}

static json_t *topics(const char *region, const char *account, const char *kind, const char *tpl,
                      int csr)
{
    const char *p = policies_partition(region);
    char a[400], b[400], c[400];
    snprintf(a, sizeof a, "arn:%s:iot:%s:%s:%s/$aws/certificates/create/*", p, region, account,
             kind);
    snprintf(b, sizeof b, "arn:%s:iot:%s:%s:%s/$aws/provisioning-templates/%s/provision/*", p,
             region, account, kind, tpl);
    snprintf(c, sizeof c, "arn:%s:iot:%s:%s:%s/$aws/certificates/create-from-csr/*", p, region,
             account, kind);
    json_t *arr = json_pack("[s,s]", a, b);
    if (csr)
        json_array_append_new(arr, json_string(c));
    return arr;
}

json_t *policies_claim_policy(const char *region, const char *account, const char *tpl,
                              int allow_csr)
{
    json_t *s1 = statement(json_pack("[s]", "iot:Connect"), json_string("*"));
    json_t *s2 = statement(json_pack("[s,s]", "iot:Publish", "iot:Receive"),
                           topics(region, account, "topic", tpl, allow_csr));
    json_t *s3 = statement(json_string("iot:Subscribe"),
                           topics(region, account, "topicfilter", tpl, allow_csr));
    return document(json_pack("[o,o,o]", s1, s2, s3));
}

/* ThingName: the device's parameter, or prefix + a parameter AWS knows. */
static json_t *thing_name(const struct policies_thing_name *tn)
{
    const char *from = tn && tn->from ? tn->from : "parameter";
    if (!strcmp(from, "parameter"))
        return json_pack("{s:s}", "Ref", "ThingName");
    const char *ref = !strcmp(from, "serialNumber") ? "SerialNumber" : "AWS::IoT::Certificate::Id";
    return json_pack("{s:[s,[s,{s:s}]]}", "Fn::Join", "", tn->prefix ? tn->prefix : "", "Ref", ref);
}

static json_t *thing_resource(const struct policies_thing_name *tn)
{
    return json_pack("{s:{s:s, s:s, s:s}, s:{s:{}, s:[{s:s}], s:o}, s:s}", "OverrideSettings",
                     "AttributePayload", "REPLACE", "ThingGroups", "REPLACE", "ThingTypeName",
                     "REPLACE", "Properties", "AttributePayload", "ThingGroups", "Ref",
                     "ThingGroupName", "ThingName", thing_name(tn), "Type", "AWS::IoT::Thing");
}

static json_t *template_params(const struct policies_thing_name *tn)
{
    json_t *p = json_pack("{s:{s:s}, s:{s:s}}", "ThingGroupName", "Type", "String",
                          "AWS::IoT::Certificate::Id", "Type", "String");
    const char *from = tn && tn->from ? tn->from : "parameter";
    if (!strcmp(from, "parameter"))
        json_object_set_new(p, "ThingName", json_pack("{s:s}", "Type", "String"));
    else if (!strcmp(from, "serialNumber"))
        json_object_set_new(p, "SerialNumber", json_pack("{s:s}", "Type", "String"));
    return p;
}

json_t *policies_template_body(const char *policy_name, const json_t *policy_document,
                               const struct policies_thing_name *tn)
{
    json_t *props;
    if (policy_document) {
        char *doc = json_dumps(policy_document, JSON_COMPACT);
        props = json_pack("{s:s}", "PolicyDocument", doc ? doc : "{}");
        free(doc);
    } else {
        props = json_pack("{s:s}", "PolicyName", policy_name);
    }
    json_t *cert =
        json_pack("{s:{s:{s:s}, s:s}, s:s}", "Properties", "CertificateId", "Ref",
                  "AWS::IoT::Certificate::Id", "Status", "Active", "Type", "AWS::IoT::Certificate");
    json_t *res = json_pack("{s:o, s:{s:o, s:s}, s:o}", "MyThing", thing_resource(tn), "MyPolicy",
                            "Properties", props, "Type", "AWS::IoT::Policy", "MyCertificate", cert);
    return json_pack("{s:o, s:o}", "Parameters", template_params(tn), "Resources", res);
}

/* ---- comparison ---- */

static int listish(const char *key)
{
    static const char *const keys[] = {"Action",  "NotAction", "Resource", "NotResource",
                                       "Service", "AWS",       "Federated"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(key, keys[i]))
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    const char *x = json_string_value(*(json_t *const *)a),
               *y = json_string_value(*(json_t *const *)b);
    return strcmp(x ? x : "", y ? y : "");
}

/* Sorts an array made only of strings (a new array). */
static json_t *sorted_strings(json_t *arr)
{
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(arr, i)))
            return arr;
    json_t **v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp_str);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, v[i]);
    free(v);
    json_decref(arr);
    return out;
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts an array by each element's canonical JSON text (a new array): statements are a set (AWS
 * evaluates every one; order means nothing), compared as a multiset. */
static json_t *sorted_canonical(json_t *arr)
{
    size_t n = json_array_size(arr);
    char **t = calloc(n ? n : 1, sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = json_dumps(json_array_get(arr, i), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    qsort(t, n, sizeof *t, cmp_text);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(out, json_loads(t[i], JSON_DECODE_ANY, 0));
        free(t[i]);
    }
    free(t);
    json_decref(arr);
    return out;
}

static json_t *normalize(const json_t *v, const char *key);

static json_t *normalize_object(const json_t *v)
{
    json_t *out = json_object();
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)v, k, m)
    {
        if (!strcmp(k, "Sid"))
            continue;
        json_object_set_new(out, k, normalize(m, k));
    }
    return out;
}

static json_t *normalize(const json_t *v, const char *key)
{
    if (key && !strcmp(key, "PolicyDocument") && json_is_string(v)) {
        json_t *p = json_loads(json_string_value(v), 0, 0);
        if (p) {
            json_t *n = normalize(p, 0);
            json_decref(p);
            return n;
        }
    }
    if (json_is_object(v) && key && !strcmp(key, "Statement")) {
        json_t *list = json_pack("[O]", v);
        json_t *n = normalize(list, key);
        json_decref(list);
        return n;
    }
    if (json_is_string(v) && key && listish(key))
        return json_pack("[O]", v);
    if (json_is_object(v))
        return normalize_object(v);
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) json_array_append_new(out, normalize(e, 0));
        return key && !strcmp(key, "Statement") ? sorted_canonical(out) : sorted_strings(out);
    }
    return json_deep_copy(v);
}

static void describe(const char *path, const json_t *a, const json_t *b, char *diff, size_t n)
{
    char *x = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : 0;
    char *y = b ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY) : 0;
    snprintf(diff, n, "%s: %.160s (AWS) != %.160s (wanted)", *path ? path : "(document)",
             x ? x : "absent", y ? y : "absent");
    free(x);
    free(y);
}

/* Finds the first difference of a and b below path; 1 when found. */
static int first_diff(const json_t *a, const json_t *b, const char *path, char *diff, size_t n)
{
    if (json_equal((json_t *)a, (json_t *)b))
        return 0;
    char sub[300];
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)b, k, m)
        {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            if (first_diff(json_object_get(a, k), m, sub, diff, n))
                return 1;
        }
        json_object_foreach((json_t *)a, k, m)
        {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            if (!json_object_get(b, k))
                return describe(sub, m, 0, diff, n), 1;
        }
    }
    if (json_is_array(a) && json_is_array(b)) {
        size_t na = json_array_size(a), nb = json_array_size(b), i;
        for (i = 0; i < na && i < nb; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (first_diff(json_array_get(a, i), json_array_get(b, i), sub, diff, n))
                return 1;
        }
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        describe(sub, json_array_get(a, i), json_array_get(b, i), diff, n);
        return 1;
    }
    describe(path, a, b, diff, n);
    return 1;
}

int policies_equal_json(const json_t *a, const json_t *b, char *diff, size_t difflen)
{
    if (!a || !b) {
        if (diff)
            describe("", a, b, diff, difflen);
        return 0;
    }
    json_t *na = normalize(a, 0), *nb = normalize(b, 0);
    int eq = json_equal(na, nb);
    if (!eq && diff)
        first_diff(na, nb, "", diff, difflen);
    json_decref(na);
    json_decref(nb);
    return eq;
}

int policies_equal(const char *a, const json_t *b, char *diff, size_t difflen)
{
    json_t *pa = a ? json_loads(a, JSON_DECODE_ANY, 0) : 0;
    int eq = policies_equal_json(pa, b, diff, difflen);
    json_decref(pa);
    return eq;
}
