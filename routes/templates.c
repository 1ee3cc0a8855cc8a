/*
 * templates.c - /v1/templates routes.
 *
 * validate is pure (template_check.c) and answers 200 with the verdict.
 * Writes check everything first (name pattern, body, role and hook ARNs,
 * description length, unknown fields), store the desired state in the
 * template record and enqueue the template.* job that makes AWS match
 * (jobs/handlers/template_jobs.c); they answer 202 with the job. Reads
 * come from the record, which the jobs refresh from AWS (ARN, versions).
 */
#include "templates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accepted.h"
#include "idempotency.h"
#include "service/domain/fleet_names.h"
#include "service/domain/generation.h"
#include "service/domain/template_check.h"
#include "jobs/queue.h"
#include "service/core/err.h"
#include "service/core/json_keys.h"
#include "service/core/randid.h"
#include "service/domain/store_fleet.h"

static void field_error(json_t *errors, const char *field, const char *msg)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

static void unknown_fields(const json_t *req, const char *const *allowed, json_t *errors)
{
    const char *unknown[16];
    size_t n = json_unknown_keys(req, allowed, unknown, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        field_error(errors, unknown[i], "unknown field");
}

/* The verdict for a body member (object or JSON text); new reference. */
static json_t *check_member(const json_t *b)
{
    if (json_is_string(b))
        return template_check(json_string_value(b), json_string_length(b));
    return template_check_json(b);
}

/* Checks req.body; returns the parsed body (new reference) or NULL. */
static json_t *body_of(const json_t *req, json_t *errors)
{
    const json_t *b = json_object_get(req, "body");
    if (!json_is_object(b) && !json_is_string(b)) {
        field_error(errors, "body", "required: the template body (an object or its JSON text)");
        return 0;
    }
    json_t *res = check_member(b);
    template_check_fields(res, "body", errors);
    int ok = json_is_true(json_object_get(res, "valid"));
    json_decref(res);
    if (!ok)
        return 0;
    return json_is_string(b) ? json_loads(json_string_value(b), 0, 0) : json_deep_copy(b);
}

static void validate(struct http_req *req, struct http_resp *resp)
{
    const json_t *b = json_object_get(req->json, "body");
    if (b && json_object_size(req->json) == 1)
        http_resp_json(resp, 200, check_member(b));
    else
        http_resp_json(resp, 200, template_check_json(req->json));
}

static void accepted(struct http_resp *resp, const char *job_id, const char *name)
{
    json_t *t = 0;
    routes_accepted(resp, job_id,
                    store_template_get_etag(name, &t, 0) ? 0 : json_pack("{s:o}", "template", t));
}

static int enqueue(const char *type, const char *name, const json_t *payload, char id[JOB_ID_MAX])
{
    char res[100];
    snprintf(res, sizeof res, "template:%s", name);
    char *text = json_dumps(payload, JSON_COMPACT);
    struct job_spec spec = {.type = type, .payload_json = text, .resource = res};
    int rc = text ? jobs_enqueue(&spec, id, 0) : FW_EINTERNAL;
    free(text);
    return rc;
}

/* payload (returned, owned) with the template's generation (doc's "uid",
 * jobs/handlers/generation.h): a job kept for later never acts on a
 * template re-created under the same name. */
static json_t *with_uid(const json_t *doc, json_t *payload)
{
    const json_t *uid = json_object_get(doc, "uid");
    if (json_is_string(uid))
        json_object_set(payload, "uid", (json_t *)uid);
    return payload;
}

/* Enqueues, records the job on the template, answers 202 (or the error). */
static void start(struct http_resp *resp, const char *type, const char *name, json_t *payload)
{
    char id[JOB_ID_MAX];
    int rc = enqueue(type, name, payload, id);
    json_decref(payload);
    if (rc) {
        http_problem_store(resp, rc);
        return;
    }
    json_t *o = json_pack("{s:{s:s, s:s}}", "job", "id", id, "type", type);
    store_template_update(name, o, 0, 0);
    json_decref(o);
    accepted(resp, id, name);
}

/* Settings shared by create and PATCH into out; errors appended. */
static void settings_of(const json_t *req, json_t *out, json_t *errors)
{
    const json_t *v;
    char why[200];
    if ((v = json_object_get(req, "description")) && !json_is_null(v)) {
        if (!json_is_string(v))
            field_error(errors, "description", "must be a string of at most 500 characters");
        else if (template_description_check(json_string_value(v), json_string_length(v), why,
                                            sizeof why))
            field_error(errors, "description", why);
        else
            json_object_set(out, "description", (json_t *)v);
    }
    if ((v = json_object_get(req, "enabled"))) {
        if (!json_is_boolean(v))
            field_error(errors, "enabled", "must be true or false");
        else
            json_object_set(out, "enabled", (json_t *)v);
    }
    if ((v = json_object_get(req, "provisioningRoleArn"))) {
        if (!fleet_names_role_arn(json_string_value(v)))
            field_error(errors, "provisioningRoleArn",
                        "must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
        else
            json_object_set(out, "provisioningRoleArn", (json_t *)v);
    }
    if ((v = json_object_get(req, "preProvisioningHook"))) {
        if (!json_is_null(v) && !fleet_names_lambda_arn(json_string_value(v)))
            field_error(errors, "preProvisioningHook", "must be a Lambda function ARN or null");
        else
            json_object_set(out, "preProvisioningHook", (json_t *)v);
    }
}

/* AWS IoT invokes a pre-provisioning hook only in the template's account
 * (the provisioning role's) and region (when known here). */
static void hook_place(const json_t *req, const json_t *doc, json_t *errors)
{
    const char *hook = json_string_value(json_object_get(req, "preProvisioningHook"));
    const json_t *role = json_object_get(req, "provisioningRoleArn");
    const json_t *rg = json_object_get(req, "region");
    char acct[13] = "";
    fleet_names_arn_account(
        json_string_value(role ? role : json_object_get(doc, "provisioningRoleArn")), acct);
    const char *region = json_string_value(rg ? rg : json_object_get(doc, "region"));
    if (hook && fleet_names_lambda_arn(hook) && !fleet_names_lambda_in(hook, region, acct))
        field_error(errors, "preProvisioningHook",
                    "must be a Lambda function in the template's account (the provisioning role's) "
                    "and region: "
                    "AWS IoT invokes hooks only there");
}

static const char *const s_create_fields[] = {
    "name",   "body", "description", "enabled", "provisioningRoleArn", "preProvisioningHook",
    "region", 0};

static json_t *create_doc(const json_t *req, json_t *errors, const char *uid)
{
    unknown_fields(req, s_create_fields, errors);
    const char *name = json_string_value(json_object_get(req, "name"));
    if (!fleet_names_template(name))
        field_error(errors, "name", "required: 1-36 characters of letters, digits, '_' and '-'");
    if (!json_object_get(req, "provisioningRoleArn"))
        field_error(errors, "provisioningRoleArn",
                    "required: the role IoT assumes to provision devices");
    const json_t *rg = json_object_get(req, "region");
    if (rg && !fleet_names_region(json_string_value(rg)))
        field_error(errors, "region", "must be an AWS region such as us-east-1");
    json_t *doc = json_pack("{s:s?, s:s, s:s, s:s?, s:b, s:n, s:n, s:[], s:n}", "name", name, "uid",
                            uid, "state", "creating", "region", json_string_value(rg), "enabled", 1,
                            "arn", "defaultVersionId", "versions", "origin");
    json_t *body = body_of(req, errors);
    if (body)
        json_object_set_new(doc, "body", body);
    settings_of(req, doc, errors);
    hook_place(req, doc, errors);
    return doc;
}

/* The template exists: 409, unless an earlier attempt of this request (its Idempotency-Key,
 * resumed after a 5xx) made it with the uid the key reserved; then its template.create job is
 * enqueued if that attempt stopped before (it answered 409 and left the template creating with no
 * job), or answered again. */
static void existing(struct http_resp *resp, const char *name, const struct idempotency *ip)
{
    json_t *doc = 0;
    int rc = store_template_get_etag(name, &doc, 0);
    const char *uid = json_string_value(json_object_get(doc, "uid"));
    const char *jid = json_string_value(json_object_get(json_object_get(doc, "job"), "id"));
    if (rc && rc != FW_ENOTFOUND)
        http_problem_store(resp, rc);
    else if (rc || !ip->resumed || !uid || strcmp(uid, ip->id))
        http_problem(resp, 409, 0, "a template with this name exists");
    else if (jid)
        accepted(resp, jid, name);
    else
        start(resp, "template.create", name, with_uid(doc, json_pack("{s:s}", "template", name)));
    json_decref(doc);
}

static void create_template(struct http_req *req, struct http_resp *resp,
                            const struct idempotency *ip)
{
    json_t *errors = json_array();
    json_t *doc = create_doc(req->json, errors, ip->id);
    const char *name = json_string_value(json_object_get(doc, "name"));
    int rc = json_array_size(errors) ? FW_EINVAL : store_template_create(name, doc);
    if (rc == FW_EINVAL)
        http_problem_fields(resp, errors);
    else if (rc == FW_ECONFLICT)
        existing(resp, name, ip);
    else if (rc)
        http_problem_store(resp, rc);
    else
        start(resp, "template.create", name, with_uid(doc, json_pack("{s:s}", "template", name)));
    json_decref(doc);
    json_decref(errors);
}

static void list_templates(struct http_req *req, struct http_resp *resp)
{
    http_list_page(req, resp, store_template_list, 0);
}

/* Loads {name}; answers 404/503 itself (NULL then). */
static json_t *load(struct http_req *req, struct http_resp *resp, char etag[STORE_ETAG_MAX])
{
    const char *name = http_req_param(req, "name");
    json_t *doc = 0;
    int rc = fleet_names_template(name) ? store_template_get_etag(name, &doc, etag) : FW_ENOTFOUND;
    if (rc == FW_ENOTFOUND)
        http_problem(resp, 404, 0, "no template with this name");
    else if (rc)
        http_problem_store(resp, rc);
    return rc ? 0 : doc;
}

static void get_template(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX];
    json_t *doc = load(req, resp, etag);
    if (!doc)
        return;
    http_resp_json(resp, 200, doc);
    http_resp_header(resp, "ETag", etag);
}

/* 0 when the request's If-Match (if any) names etag; else FW_EPRECOND, answered 412. */
static int if_match(struct http_req *req, struct http_resp *resp, const char *etag)
{
    const char *m = http_req_header(req, "If-Match");
    if (m && strcmp(m, "*") && strcmp(m, etag)) {
        http_problem(resp, 412, 0, "If-Match does not match the template's current ETag");
        return FW_EPRECOND;
    }
    return 0;
}

/* Writes obj to the record under If-Match; 0 or answered. */
static int write_record(struct http_req *req, struct http_resp *resp, const json_t *obj,
                        const char *etag)
{
    if (if_match(req, resp, etag))
        return FW_EPRECOND;
    int rc = store_template_update(http_req_param(req, "name"), obj, etag, 0);
    if (rc == FW_EPRECOND)
        http_problem(resp, 412, 0, "the template changed meanwhile; read it again");
    else if (rc)
        http_problem_store(resp, rc);
    return rc;
}

/* The fleet whose template (resources.template.name, or spec.template.name before its setup
 * made it) is name in region (a template of no region: any), into fleet; 1 when there is one,
 * 0 when none, or the store error. */
static int fleet_of_template(const char *name, const char *region, char *fleet, size_t len)
{
    json_t *names = 0;
    int rc = store_fleet_list_names(&names);
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *f = 0;
        if (rc || store_fleet_get(json_string_value(n), &f))
            continue;
        const char *r = json_string_value(json_object_get(f, "region"));
        const json_t *res = json_object_get(json_object_get(f, "resources"), "template");
        const json_t *spec = json_object_get(json_object_get(f, "spec"), "template");
        const char *a = json_string_value(json_object_get(res, "name"));
        const char *b = json_string_value(json_object_get(spec, "name"));
        if (((a && !strcmp(a, name)) || (b && !strcmp(b, name))) &&
            (!region || !r || !strcmp(region, r))) {
            snprintf(fleet, len, "%s", json_string_value(n));
            rc = 1;
        }
        json_decref(f);
    }
    json_decref(names);
    return rc;
}

/* 0 when no fleet provisions with this template; else answers 409 naming the fleet (or the
 * store's error) and returns nonzero. Deleting a template the record made (change 0), or changing
 * one it adopted (change 1: a fleet's, found at AWS), would change what the fleet's devices
 * provision with behind the fleet's back. A template this API made and a fleet chose to use by
 * name stays this API's to change. */
static int fleet_refuses(struct http_req *req, struct http_resp *resp, const json_t *doc,
                         int change)
{
    char fleet[200], why[600];
    const char *origin = json_string_value(json_object_get(doc, "origin"));
    if (change && !(origin && !strcmp(origin, "adopted")))
        return 0;
    int rc =
        fleet_of_template(http_req_param(req, "name"),
                          json_string_value(json_object_get(doc, "region")), fleet, sizeof fleet);
    if (rc == 1) {
        snprintf(
            why, sizeof why, "fleet %s provisions with this template: %s /v1/fleets/%s%s", fleet,
            change ? "it is the fleet's to change: PATCH" : "tear the fleet down first: DELETE",
            fleet, change ? ", then reconcile" : "");
        http_problem(resp, 409, 0, why);
    } else if (rc)
        http_problem_store(resp, rc);
    return rc;
}

static void patch_template(struct http_req *req, struct http_resp *resp)
{
    static const char *const allowed[] = {"description", "enabled", "provisioningRoleArn",
                                          "preProvisioningHook", 0};
    char etag[STORE_ETAG_MAX];
    json_t *doc = load(req, resp, etag), *errors = json_array(), *changes = json_object();
    if (doc) {
        unknown_fields(req->json, allowed, errors);
        settings_of(req->json, changes, errors);
        hook_place(req->json, doc, errors);
        int remove = json_is_null(json_object_get(req->json, "preProvisioningHook"));
        json_object_set_new(changes, "state", json_string("updating"));
        if (json_array_size(errors))
            http_problem_fields(resp, errors);
        else if (!fleet_refuses(req, resp, doc, 1) && !write_record(req, resp, changes, etag))
            start(resp, "template.update", http_req_param(req, "name"),
                  with_uid(doc, json_pack("{s:s, s:b}", "template", http_req_param(req, "name"),
                                          "removeHook", remove)));
    }
    json_decref(doc);
    json_decref(errors);
    json_decref(changes);
}

static void delete_template(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX];
    json_t *doc = load(req, resp, etag);
    if (!doc)
        return;
    /* A delete that would delete the template at AWS (this record made it, or a record from
     * before origins) is refused while a fleet provisions with a template of that name. */
    const json_t *origin = json_object_get(doc, "origin");
    int at_aws =
        !origin || (json_is_string(origin) && !strcmp(json_string_value(origin), "created"));
    if (at_aws && fleet_refuses(req, resp, doc, 0)) {
        json_decref(doc);
        return;
    }
    json_t *p = with_uid(doc, json_pack("{s:s}", "template", http_req_param(req, "name")));
    json_decref(doc);
    json_t *o = json_pack("{s:s}", "state", "deleting");
    if (!write_record(req, resp, o, etag))
        start(resp, "template.delete", http_req_param(req, "name"), p);
    else
        json_decref(p);
    json_decref(o);
}

static void list_versions(struct http_req *req, struct http_resp *resp)
{
    char etag[STORE_ETAG_MAX];
    json_t *doc = load(req, resp, etag);
    if (!doc)
        return;
    json_t *v = json_object_get(doc, "versions");
    http_resp_json(
        resp, 200,
        json_pack("{s:O, s:n}", "items", json_is_array(v) ? v : json_array(), "nextCursor"));
    json_decref(doc);
}

static void create_version(struct http_req *req, struct http_resp *resp)
{
    static const char *const allowed[] = {"body", "setAsDefault", 0};
    char etag[STORE_ETAG_MAX];
    json_t *doc = load(req, resp, etag), *errors = json_array();
    const json_t *sd = json_object_get(req->json, "setAsDefault");
    json_t *body = 0;
    if (doc) {
        unknown_fields(req->json, allowed, errors);
        if (sd && !json_is_boolean(sd))
            field_error(errors, "setAsDefault", "must be true or false");
        body = body_of(req->json, errors);
        if (json_array_size(errors))
            http_problem_fields(resp, errors);
        else if (!fleet_refuses(req, resp, doc, 1))
            start(
                resp, "template.version", http_req_param(req, "name"),
                with_uid(doc, json_pack("{s:s, s:O, s:b}", "template", http_req_param(req, "name"),
                                        "body", body, "setAsDefault", !json_is_false(sd))));
    }
    json_decref(body);
    json_decref(doc);
    json_decref(errors);
}

static void set_default_version(struct http_req *req, struct http_resp *resp)
{
    static const char *const allowed[] = {"versionId", 0};
    char etag[STORE_ETAG_MAX];
    json_t *doc = load(req, resp, etag), *errors = json_array();
    const json_t *v = json_object_get(req->json, "versionId");
    if (doc) {
        unknown_fields(req->json, allowed, errors);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000)
            field_error(errors, "versionId", "required: a version number (1 or more)");
        if (json_array_size(errors))
            http_problem_fields(resp, errors);
        else if (!if_match(req, resp, etag) && !fleet_refuses(req, resp, doc, 1))
            start(resp, "template.version", http_req_param(req, "name"),
                  with_uid(doc, json_pack("{s:s, s:O}", "template", http_req_param(req, "name"),
                                          "defaultVersionId", v)));
    }
    json_decref(doc);
    json_decref(errors);
}

/* Creating POSTs answer the same Idempotency-Key with the first answer (idempotency.h). */
static void create_template_once(struct http_req *req, struct http_resp *resp)
{
    char uid[GENERATION_UID_MAX];
    struct idempotency ip;
    if (randid_new("tpl_", uid, sizeof uid)) {
        http_problem_err(resp, FW_ECRYPTO, "could not make the template's id");
        return;
    }
    if (idempotency_begin(req, resp, 0, uid, &ip))
        return;
    create_template(req, resp, &ip);
    idempotency_end(&ip, resp);
}

static void create_version_once(struct http_req *req, struct http_resp *resp)
{
    idempotency_run(req, resp, create_version);
}

static const struct route s_routes[] = {
    {"POST", "/v1/templates/validate", SCOPE_READ, ROUTE_JSON | ROUTE_NOAUDIT, validate},
    {"POST", "/v1/templates", SCOPE_ADMIN, ROUTE_JSON, create_template_once},
    {"GET", "/v1/templates", SCOPE_READ, 0, list_templates},
    {"GET", "/v1/templates/{name}", SCOPE_READ, 0, get_template},
    {"PATCH", "/v1/templates/{name}", SCOPE_ADMIN, ROUTE_JSON, patch_template},
    {"DELETE", "/v1/templates/{name}", SCOPE_ADMIN, 0, delete_template},
    {"GET", "/v1/templates/{name}/versions", SCOPE_READ, 0, list_versions},
    {"POST", "/v1/templates/{name}/versions", SCOPE_ADMIN, ROUTE_JSON, create_version_once},
    {"PUT", "/v1/templates/{name}/default-version", SCOPE_ADMIN, ROUTE_JSON, set_default_version},
};

ROUTE_TABLE(routes_templates_table, s_routes);
