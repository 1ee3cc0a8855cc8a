/*
 * template_jobs.c - template.create/update/version/delete.
 *
 * The route writes the desired state into the template record first
 * (state pending), then the job makes AWS match it and writes back what AWS
 * holds (arn, default version, the list of versions) with state ready, or
 * failed with the error when no retry follows. Every operation is
 * idempotent at AWS or looked up first, so a retried job converges: a
 * create finds its template, a version whose body is already the default
 * (or, for a non-default one, a non-default version's) is not made twice.
 *
 * A record owns the template at AWS only when it made it (origin
 * "created", written before CreateProvisioningTemplate so that a retry
 * knows). A template that was already there (a fleet's, or one made
 * outside fleetwarden) is a conflict unless it is the same in body,
 * provisioning role, hook and enabled; then the record adopts it (origin
 * "adopted") and a delete removes only the record.
 */
#include "template_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/iot.h"
#include "awsctx.h"
#include "fleet_iot.h"
#include "fleet_run.h"
#include "jobs/retry.h"
#include "jobs/worker.h"
#include "service/domain/policies.h"
#include "service/core/err.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"

struct tjob {
    struct fleet_run r; /* ctx, aws, err (the rest unused) */
    const char *name;
    json_t *doc;
    char why[300];  /* the record's error when set (else the AWS error's message) */
    int keep_state; /* 1: a failure leaves the record as it is (nothing changed at AWS) */
};

static int tjob_open(struct tjob *t, struct job_ctx *ctx, const json_t *payload)
{
    memset(t, 0, sizeof *t);
    t->r.ctx = ctx;
    t->name = json_string_value(json_object_get(payload, "template"));
    int rc = t->name ? store_template_get_etag(t->name, &t->doc, 0) : FW_EINVAL;
    if (rc)
        return rc;
    if ((rc = fleet_run_check_generation(ctx, payload, t->doc, "template", t->name)) != 0) {
        json_decref(t->doc); /* finish() then writes nothing to the new template */
        t->doc = 0;
        return rc;
    }
    const json_t *ar = json_object_get(t->doc, "assumeRole");
    t->r.aws = awsctx_client(json_string_value(json_object_get(t->doc, "region")),
                             json_string_value(json_object_get(ar, "roleArn")),
                             json_string_value(json_object_get(ar, "externalId")), &t->r.err);
    return t->r.aws ? 0 : awsctx_fail(ctx, &t->r.err);
}

static const char *dstr(const struct tjob *t, const char *key)
{
    const char *s = json_string_value(json_object_get(t->doc, key));
    return s && *s ? s : 0;
}

/* Reads the template and its versions back into the record. */
static int refresh(struct tjob *t, const char *state)
{
    struct iot_template tp = {0};
    struct iot_template_version_list l = {0};
    if (iot_describe_provisioning_template(t->r.aws, t->name, &tp, &t->r.err) ||
        iot_list_provisioning_template_versions(t->r.aws, t->name, &l, &t->r.err)) {
        iot_template_cleanup(&tp);
        return awsctx_fail(t->r.ctx, &t->r.err);
    }
    json_t *vs = json_array();
    for (size_t i = 0; i < l.n; i++) {
        char at[32];
        store_format_time((long long)(l.items[i].creation_date * 1000), at);
        json_array_append_new(vs, json_pack("{s:i, s:b, s:s}", "versionId", l.items[i].version_id,
                                            "isDefault", l.items[i].is_default_version, "createdAt",
                                            at));
    }
    json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:b, s:n}", "state", state, "arn", tp.template_arn,
                          "defaultVersionId", tp.default_version_id, "versions", vs, "enabled",
                          tp.enabled, "error");
    /* The body shown is the default version's (it was the one first asked for, for ever). */
    json_t *body = tp.template_body ? json_loads(tp.template_body, 0, 0) : 0;
    if (json_is_object(body))
        json_object_set(o, "body", body);
    json_decref(body);
    int rc = store_template_update(t->name, o, 0, 0);
    json_decref(o);
    iot_template_cleanup(&tp);
    iot_template_version_list_cleanup(&l);
    return rc == FW_ENOTFOUND ? 0 : rc;
}

static int finish(struct tjob *t, int rc)
{
    if (rc && rc != FW_ECANCELED && t->doc && !t->keep_state) {
        enum job_fail_class cls = awsctx_fail_class(&t->r.err, rc);
        if (retry_decide(cls, job_ctx_attempt(t->r.ctx), job_ctx_max_attempts(t->r.ctx),
                         job_ctx_runs(t->r.ctx)) == RETRY_DEAD) {
            json_t *o = json_pack("{s:s, s:s}", "state", "failed", "error",
                                  t->why[0]             ? t->why
                                  : t->r.err.message[0] ? t->r.err.message
                                                        : fw_strerror(rc));
            store_template_update(t->name, o, 0, 0);
            json_decref(o);
        }
    }
    if (!rc) {
        char res[200];
        snprintf(res, sizeof res, "{\"template\":\"%s\"}", t->name);
        job_ctx_set_result(t->r.ctx, res);
    }
    json_decref(t->doc);
    return rc;
}

static int create_it(struct tjob *t, const char *body)
{
    struct iot_create_template_input in = {0};
    in.template_name = t->name;
    in.template_body = body;
    in.provisioning_role_arn = dstr(t, "provisioningRoleArn");
    in.description = dstr(t, "description");
    in.enabled = !json_is_false(json_object_get(t->doc, "enabled"));
    in.type = "FLEET_PROVISIONING";
    in.hook_target_arn = dstr(t, "preProvisioningHook");
    struct iot_template out = {0};
    int rc = iot_create_provisioning_template(t->r.aws, &in, &out, &t->r.err);
    iot_template_cleanup(&out);
    return rc ? awsctx_fail(t->r.ctx, &t->r.err) : 0;
}

static int same_str(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* The first setting in which the template AWS holds differs from the record's, or NULL. */
static const char *differs(const struct tjob *t, const struct iot_template *tp)
{
    if (!policies_equal(tp->template_body, json_object_get(t->doc, "body"), 0, 0))
        return "body";
    if (!same_str(tp->provisioning_role_arn, dstr(t, "provisioningRoleArn")))
        return "provisioningRoleArn";
    if (!same_str(tp->hook_target_arn, dstr(t, "preProvisioningHook")))
        return "preProvisioningHook";
    if (!tp->enabled != json_is_false(json_object_get(t->doc, "enabled")))
        return "enabled";
    return 0;
}

static int set_origin(struct tjob *t, const char *origin)
{
    json_t *o = json_pack("{s:s}", "origin", origin);
    int rc = store_template_update(t->name, o, 0, 0);
    json_decref(o);
    if (!rc)
        json_object_set_new(t->doc, "origin", json_string(origin));
    return rc;
}

/* The template is at AWS: this record's (made by an earlier attempt), the same one made
 * elsewhere (adopted), or a conflict. */
static int found(struct tjob *t, const struct iot_template *tp)
{
    const char *what = differs(t, tp);
    if (what) {
        snprintf(t->why, sizeof t->why,
                 "template %s already exists at AWS and was not made by this record (a fleet's "
                 "template, or one made outside fleetwarden): its %s differs; choose another name",
                 t->name, what);
        job_ctx_set_error_msg(t->r.ctx, JOB_FAIL_CONFLICT, "TemplateExists", "%s", t->why);
        return FW_ECONFLICT;
    }
    return dstr(t, "origin") && !strcmp(dstr(t, "origin"), "created") ? 0
                                                                      : set_origin(t, "adopted");
}

int template_create_run(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct tjob t;
    int rc = tjob_open(&t, ctx, payload);
    if (rc == FW_ENOTFOUND && !t.doc)
        return 0;
    char *body = rc ? 0 : json_dumps(json_object_get(t.doc, "body"), JSON_COMPACT);
    struct iot_template tp = {0};
    if (!rc && !body)
        rc = FW_EINVAL;
    if (!rc) {
        rc = iot_describe_provisioning_template(t.r.aws, t.name, &tp, &t.r.err);
        if (rc == FW_ENOTFOUND) {
            /* origin first: a retry after a lost answer knows the template is this record's */
            rc = set_origin(&t, "created");
            if (!rc && (rc = create_it(&t, body)) == FW_ECONFLICT) {
                /* made meanwhile (by the lost attempt of this very call, or elsewhere) */
                iot_template_cleanup(&tp);
                memset(&t.r.err, 0, sizeof t.r.err);
                rc = iot_describe_provisioning_template(t.r.aws, t.name, &tp, &t.r.err);
                rc = rc ? awsctx_fail(ctx, &t.r.err) : found(&t, &tp);
            }
        } else if (rc)
            rc = awsctx_fail(ctx, &t.r.err);
        else
            rc = found(&t, &tp);
    }
    iot_template_cleanup(&tp);
    free(body);
    if (!rc)
        rc = refresh(&t, "ready");
    return finish(&t, rc);
}

int template_update_run(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct tjob t;
    int rc = tjob_open(&t, ctx, payload);
    if (rc == FW_ENOTFOUND && !t.doc)
        return 0;
    if (!rc) {
        struct iot_update_template_input u = {0};
        u.template_name = t.name;
        u.description = dstr(&t, "description");
        u.enabled = json_is_boolean(json_object_get(t.doc, "enabled"))
                        ? json_is_true(json_object_get(t.doc, "enabled"))
                        : -1;
        u.provisioning_role_arn = dstr(&t, "provisioningRoleArn");
        u.hook_target_arn = dstr(&t, "preProvisioningHook");
        u.remove_hook = json_is_true(json_object_get(payload, "removeHook"));
        if (iot_update_provisioning_template(t.r.aws, &u, &t.r.err))
            rc = awsctx_fail(ctx, &t.r.err);
    }
    if (!rc)
        rc = refresh(&t, "ready");
    return finish(&t, rc);
}

static int set_default(struct tjob *t, int version)
{
    struct iot_update_template_input u = {0};
    u.template_name = t->name;
    u.enabled = -1;
    u.default_version_id = version;
    return iot_update_provisioning_template(t->r.aws, &u, &t->r.err)
               ? awsctx_fail(t->r.ctx, &t->r.err)
               : 0;
}

/* 1 when a non-default version already has body (an earlier attempt made it and its answer was
 * lost), 0 when none has, or the failure. */
static int find_side_version(struct tjob *t, const json_t *body)
{
    struct iot_template_version_list l = {0};
    if (iot_list_provisioning_template_versions(t->r.aws, t->name, &l, &t->r.err))
        return awsctx_fail(t->r.ctx, &t->r.err);
    int rc = 0;
    for (size_t i = 0; i < l.n && !rc; i++) {
        if (l.items[i].is_default_version)
            continue;
        struct iot_template_version v = {0};
        int drc = iot_describe_provisioning_template_version(t->r.aws, t->name,
                                                             l.items[i].version_id, &v, &t->r.err);
        if (drc == FW_ENOTFOUND) /* pruned meanwhile */
            memset(&t->r.err, 0, sizeof t->r.err);
        else if (drc)
            rc = awsctx_fail(t->r.ctx, &t->r.err);
        else
            rc = policies_equal(v.template_body, body, 0, 0);
        iot_template_version_cleanup(&v);
    }
    iot_template_version_list_cleanup(&l);
    return rc;
}

/* A new version unless the default already has this body, or (for a non-default one) a
 * non-default version has it: a retry. */
static int new_version(struct tjob *t, const json_t *body, int set_default_flag)
{
    struct iot_template tp = {0};
    if (iot_describe_provisioning_template(t->r.aws, t->name, &tp, &t->r.err))
        return awsctx_fail(t->r.ctx, &t->r.err);
    int same = policies_equal(tp.template_body, body, 0, 0);
    iot_template_cleanup(&tp);
    if (same && set_default_flag)
        return 0;
    if (!set_default_flag) {
        int rc = find_side_version(t, body);
        if (rc)
            return rc > 0 ? 0 : rc;
    }
    char *text = json_dumps(body, JSON_COMPACT);
    /* Default or not, the oldest non-default version makes room when AWS's five are there (a
     * non-default one was created directly and died on VersionsLimitExceeded). */
    int rc = fleet_iot_template_new_version(&t->r, t->name, text, set_default_flag);
    free(text);
    return rc ? awsctx_fail(t->r.ctx, &t->r.err) : 0;
}

int template_version_run(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct tjob t;
    int rc = tjob_open(&t, ctx, payload);
    if (rc == FW_ENOTFOUND && !t.doc)
        return 0;
    const json_t *dv = json_object_get(payload, "defaultVersionId");
    if (!rc && json_is_integer(dv)) {
        /* a refused default (no such version) changed nothing at AWS: the job fails, the
         * template stays as it was */
        t.keep_state = 1;
        rc = set_default(&t, (int)json_integer_value(dv));
        t.keep_state = rc != 0; /* a refresh that fails after the change marks the record */
    } else if (!rc)
        rc = new_version(&t, json_object_get(payload, "body"),
                         !json_is_false(json_object_get(payload, "setAsDefault")));
    if (!rc)
        rc = refresh(&t, "ready");
    return finish(&t, rc);
}

int template_delete_run(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct tjob t;
    int rc = tjob_open(&t, ctx, payload);
    if (rc == FW_ENOTFOUND && !t.doc)
        return 0;
    /* a template this record did not make (adopted, or never made) stays at AWS; a record from
     * before origins were kept (no member) deletes it as it always did */
    const json_t *origin = t.doc ? json_object_get(t.doc, "origin") : 0;
    if (!rc && (!origin || !strcmp(dstr(&t, "origin") ? dstr(&t, "origin") : "", "created"))) {
        rc = iot_delete_provisioning_template(t.r.aws, t.name, &t.r.err);
        if (rc == FW_ENOTFOUND)
            rc = 0;
        else if (rc)
            rc = awsctx_fail(ctx, &t.r.err);
    }
    if (!rc && (rc = store_template_delete(t.name)) == FW_ENOTFOUND)
        rc = 0;
    return finish(&t, rc);
}
