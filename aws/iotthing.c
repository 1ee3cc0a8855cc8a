/*
 * iotthing.c - things, their principals, groups and attached policies
 * (see iotthing.h). Paging: nextToken (things, groups) or marker
 * (attached policies); a page loop stops after 100 pages.
 */
#include "aws/iotthing.h"

#include <string.h>

#include "aws/client.h"
#include "service/core/err.h"

#define MAX_PAGES 100

static int run(struct aws_client *c, struct aws_call *call, struct aws_reply *r,
               struct aws_api_error *err)
{
    int rc = aws_client_call(c, call, r, err);
    aws_call_cleanup(call);
    return rc;
}

static int run_only(struct aws_client *c, struct aws_call *call, struct aws_api_error *err)
{
    struct aws_reply r;
    int rc = run(c, call, &r, err);
    if (!rc)
        aws_reply_cleanup(&r);
    return rc;
}

static void thing_call(struct aws_call *call, const char *op, const char *method, const char *thing,
                       const char *suffix)
{
    aws_call_init_rest(call, AWS_SVC_IOT, op, method);
    aws_call_path(call, "/things/");
    aws_call_path_label(call, thing);
    if (suffix)
        aws_call_path(call, suffix);
}

int iot_describe_thing(struct aws_client *c, const char *thing, struct aws_api_error *err)
{
    struct aws_call call;
    thing_call(&call, "DescribeThing", "GET", thing, 0);
    return run_only(c, &call, err);
}

int iot_delete_thing(struct aws_client *c, const char *thing, struct aws_api_error *err)
{
    struct aws_call call;
    thing_call(&call, "DeleteThing", "DELETE", thing, 0);
    return run_only(c, &call, err);
}

int iot_detach_thing_principal(struct aws_client *c, const char *thing, const char *principal,
                               struct aws_api_error *err)
{
    struct aws_call call;
    thing_call(&call, "DetachThingPrincipal", "DELETE", thing, "/principals");
    aws_call_header(&call, "x-amzn-principal", principal);
    return run_only(c, &call, err);
}

int iot_remove_thing_from_group(struct aws_client *c, const char *group, const char *thing,
                                struct aws_api_error *err)
{
    struct aws_call call;
    aws_call_init_rest(&call, AWS_SVC_IOT, "RemoveThingFromThingGroup", "PUT");
    aws_call_path(&call, "/thing-groups/removeThingFromThingGroup");
    json_t *body = json_pack("{s:s, s:s}", "thingGroupName", group, "thingName", thing);
    int rc = aws_call_json(&call, body);
    json_decref(body);
    if (rc) {
        aws_call_cleanup(&call);
        return rc;
    }
    return run_only(c, &call, err);
}

/* One list operation: start(call, token) builds a page's call; member and
 * field name what to collect (field NULL: the items are strings). */
struct lister {
    void (*start)(struct aws_call *call, const char *arg, const char *token);
    const char *arg;
    const char *member, *field, *next;
};

static void collect(const json_t *body, const struct lister *l, struct aws_strlist *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, l->member), i, v)
    {
        const char *s =
            l->field ? json_string_value(json_object_get(v, l->field)) : json_string_value(v);
        if (s)
            aws_strlist_push(out, s);
    }
}

static int list_all(struct aws_client *c, const struct lister *l, struct aws_strlist *out,
                    struct aws_api_error *err)
{
    char token[1024] = "";
    memset(out, 0, sizeof *out);
    for (int page = 0; page < MAX_PAGES; page++) {
        struct aws_call call;
        struct aws_reply r;
        l->start(&call, l->arg, token[0] ? token : 0);
        int rc = run(c, &call, &r, err);
        if (rc) {
            aws_strlist_cleanup(out);
            return rc;
        }
        collect(r.json, l, out);
        const char *next = json_string_value(json_object_get(r.json, l->next));
        int more = next && next[0] && strlen(next) < sizeof token;
        if (more)
            memcpy(token, next, strlen(next) + 1);
        aws_reply_cleanup(&r);
        if (!more)
            break;
    }
    return 0;
}

static void start_principal_things(struct aws_call *call, const char *principal, const char *token)
{
    aws_call_init_rest(call, AWS_SVC_IOT, "ListPrincipalThings", "GET");
    aws_call_path(call, "/principals/things");
    aws_call_header(call, "x-amzn-principal", principal);
    aws_call_qs(call, "maxResults", "250");
    if (token)
        aws_call_qs(call, "nextToken", token);
}

int iot_list_principal_things(struct aws_client *c, const char *principal, struct aws_strlist *out,
                              struct aws_api_error *err)
{
    struct lister l = {start_principal_things, principal, "things", 0, "nextToken"};
    return list_all(c, &l, out, err);
}

static void start_thing_groups(struct aws_call *call, const char *thing, const char *token)
{
    thing_call(call, "ListThingGroupsForThing", "GET", thing, "/thing-groups");
    aws_call_qs(call, "maxResults", "250");
    if (token)
        aws_call_qs(call, "nextToken", token);
}

int iot_list_thing_groups_for_thing(struct aws_client *c, const char *thing,
                                    struct aws_strlist *out, struct aws_api_error *err)
{
    struct lister l = {start_thing_groups, thing, "thingGroups", "groupName", "nextToken"};
    return list_all(c, &l, out, err);
}

static void start_attached(struct aws_call *call, const char *target, const char *marker)
{
    aws_call_init_rest(call, AWS_SVC_IOT, "ListAttachedPolicies", "POST");
    aws_call_path(call, "/attached-policies/");
    aws_call_path_label(call, target);
    aws_call_qs(call, "pageSize", "250");
    if (marker)
        aws_call_qs(call, "marker", marker);
}

int iot_list_attached_policies(struct aws_client *c, const char *target, struct aws_strlist *out,
                               struct aws_api_error *err)
{
    struct lister l = {start_attached, target, "policies", "policyName", "nextMarker"};
    return list_all(c, &l, out, err);
}
