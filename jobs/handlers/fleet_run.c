/*
 * fleet_run.c - the bookkeeping every fleet step shares: reading the spec
 * and the records, writing a record to the fleet and the job (so a crash
 * at any point resumes without duplicates), and the decision table for a
 * missing, matching or differing resource in each mode.
 */
#include "fleet_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsctx.h"
#include "fleet_settle.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/domain/generation.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"

const char *fleet_run_spec_str(const struct fleet_run *r, const char *part, const char *key)
{
    const json_t *p = part ? json_object_get(r->spec, part) : r->spec;
    return json_string_value(json_object_get(p, key));
}

const char *fleet_run_res_str(const struct fleet_run *r, const char *key, const char *field)
{
    return json_string_value(json_object_get(json_object_get(r->resources, key), field));
}

const char *fleet_run_found_origin(const struct fleet_run *r, const char *key)
{
    const char *o = fleet_run_res_str(r, key, "origin");
    if (o && (!strcmp(o, "created") || !strcmp(o, "adopted")))
        return o;
    return "existing";
}

/* The fleet's stored ETag and whether it is being deleted. FW_ECANCELED when it is gone. */
static int current(const struct fleet_run *r, char etag[STORE_ETAG_MAX], int *deleting)
{
    json_t *doc = 0;
    int rc = store_fleet_get_etag(r->name, &doc, etag);
    if (rc)
        return rc == FW_ENOTFOUND ? FW_ECANCELED : rc;
    const char *st = json_string_value(json_object_get(doc, "state"));
    *deleting = st && !strcmp(st, "deleting");
    json_decref(doc);
    return 0;
}

static int deleting_error(struct fleet_run *r)
{
    job_ctx_set_error_msg(r->ctx, JOB_FAIL_VALIDATION, "FleetDeleting",
                          "the fleet %s is being deleted (DELETE /v1/fleets/%s was accepted): "
                          "this job stops without touching AWS, as what it made would stay "
                          "there after the teardown",
                          r->name, r->name);
    return FW_EINVAL;
}

int fleet_run_guard(struct fleet_run *r)
{
    if (r->mode == FLEET_MODE_PLAN)
        return 0;
    char etag[STORE_ETAG_MAX];
    int del = 0, rc = current(r, etag, &del);
    return rc ? rc : del ? deleting_error(r) : 0;
}

/* Writes members obj and resources res (borrowed, either NULL) unless the fleet is deleting
 * (*deleting = 1, nothing written): one compare-and-set on the version, read again when another
 * writer came between. FW_ECANCELED when the fleet is gone. */
static int write_unless_deleting(const struct fleet_run *r, const json_t *obj, const json_t *res,
                                 int *deleting)
{
    *deleting = 0;
    for (int i = 0; i < 20; i++) {
        char etag[STORE_ETAG_MAX];
        int rc = current(r, etag, deleting);
        if (rc || *deleting)
            return rc;
        rc = store_doc_update(STORE_DOC_FLEET, r->name, obj, res, etag, 0);
        if (rc != FW_EPRECOND)
            return rc == FW_ENOTFOUND ? FW_ECANCELED : rc;
    }
    return FW_EUNAVAILABLE; /* twenty writers in between: try again later */
}

int fleet_run_set_state(struct fleet_run *r, const char *state, const char *error)
{
    json_t *o = json_pack("{s:s, s:s?}", "state", state, "error", error);
    int del = 0, rc = write_unless_deleting(r, o, 0, &del);
    json_decref(o);
    return rc ? rc : del ? FW_ECANCELED : 0;
}

int fleet_run_mark_creating(struct fleet_run *r, const char *key, const char *name)
{
    if (r->mode == FLEET_MODE_PLAN)
        return 0;
    json_t *rec = json_pack("{s:s, s:s, s:s, s:n}", "name", name, "state", "creating", "origin",
                            "created", "error");
    json_t *res = json_pack("{s:O}", key, rec);
    int del = 0, rc = write_unless_deleting(r, 0, res, &del);
    json_decref(res);
    if (!rc && del)
        rc = deleting_error(r);
    if (!rc)
        json_object_set(r->resources, key, rec);
    json_decref(rec);
    return rc;
}

int fleet_run_record(struct fleet_run *r, const char *key, json_t *rec)
{
    if (!json_object_get(rec, "state"))
        json_object_set_new(rec, "state", json_string("ready"));
    if (!json_object_get(rec, "error"))
        json_object_set_new(rec, "error", json_null());
    json_object_set(r->resources, key, rec);
    int rc = 0;
    if (r->mode != FLEET_MODE_PLAN) {
        rc = store_fleet_set_resource(r->name, key, rec);
        if (rc == FW_ENOTFOUND)
            rc = FW_ECANCELED;
    }
    if (!rc && r->mode == FLEET_MODE_SETUP) {
        char *text = json_dumps(rec, JSON_COMPACT);
        rc = job_ctx_step_done(r->ctx, key, text);
        free(text);
    }
    json_decref(rec);
    return rc;
}

/* Marks the record failed (keeping its origin) in the run and the fleet. */
static void set_failed(struct fleet_run *r, const char *key, const char *name, const char *state,
                       const char *why)
{
    json_t *old = json_object_get(r->resources, key);
    json_t *rec = json_is_object(old) ? json_deep_copy(old) : json_object();
    if (name)
        json_object_set_new(rec, "name", json_string(name));
    json_object_set_new(rec, "state", json_string(state));
    json_object_set_new(rec, "error", json_string(why));
    json_object_set(r->resources, key, rec);
    if (r->mode != FLEET_MODE_PLAN)
        store_fleet_set_resource(r->name, key, rec);
    json_decref(rec);
}

static void plan_add(struct fleet_run *r, const char *key, const char *name, const char *action,
                     const char *diff)
{
    json_array_append_new(r->plan, json_pack("{s:s, s:s?, s:s, s:s?}", "resource", key, "name",
                                             name, "action", action, "difference", diff));
}

static void finding(struct fleet_run *r, const char *key, const char *name, const char *what)
{
    if (r->mode == FLEET_MODE_RECONCILE)
        json_array_append_new(r->findings, json_pack("{s:s, s:s?, s:s}", "resource", key, "name",
                                                     name, "difference", what));
}

static void repaired(struct fleet_run *r, const char *key, const char *name, const char *how)
{
    if (r->mode == FLEET_MODE_RECONCILE)
        json_array_append_new(r->repaired, json_pack("{s:s, s:s?, s:s}", "resource", key, "name",
                                                     name, "action", how));
}

int fleet_run_missing(struct fleet_run *r, const char *key, const char *name)
{
    if (r->mode == FLEET_MODE_PLAN) {
        plan_add(r, key, name, "create", 0);
        return 0;
    }
    finding(r, key, name, "missing");
    repaired(r, key, name, "created");
    return 1;
}

void fleet_run_matches(struct fleet_run *r, const char *key, const char *name)
{
    if (r->mode == FLEET_MODE_PLAN)
        plan_add(r, key, name, "exists-matches", 0);
}

/* RECONCILE of a resource this fleet did not create: listed, left as it is. */
static int not_ours(struct fleet_run *r, const char *key, const char *name, const char *diff,
                    const char *origin)
{
    char why[600];
    snprintf(why, sizeof why,
             "not this fleet's to change: the fleet did not create %s %s (%s), and other fleets "
             "that use it may want it otherwise; change it by hand, or give the fleet a %s of "
             "its own",
             key, name ? name : "?",
             !origin                       ? "it has no record of it"
             : !strcmp(origin, "adopted")  ? "it existed, and setup updated it under adopt"
             : !strcmp(origin, "existing") ? "it existed and matched when the fleet was set up"
                                           : origin,
             key);
    json_array_append_new(r->findings, json_pack("{s:s, s:s?, s:s, s:s}", "resource", key, "name",
                                                 name, "difference", diff, "notRepaired", why));
    r->unrepaired++;
    return 0;
}

int fleet_run_differs(struct fleet_run *r, const char *key, const char *name, const char *diff)
{
    if (r->mode == FLEET_MODE_PLAN) {
        plan_add(r, key, name, "exists-differs", diff);
        return 0;
    }
    if (r->mode == FLEET_MODE_RECONCILE) {
        /* Shared resources are not one desired state for every fleet (the TES policy's
         * artifact buckets, the thing policy's role alias, the alias's duration): only what
         * this fleet made is its to repair. */
        const char *origin = fleet_run_res_str(r, key, "origin");
        if (!origin || strcmp(origin, "created"))
            return not_ours(r, key, name, diff, origin);
        finding(r, key, name, diff);
        repaired(r, key, name, "updated");
        return 1;
    }
    if (r->adopt)
        return 1;
    job_ctx_set_error_msg(
        r->ctx, JOB_FAIL_CONFLICT, "ResourceDiffers",
        "%s %s exists and differs from what the fleet needs (%s); set adopt: true to update it, "
        "or name another resource",
        key, name, diff);
    set_failed(r, key, name, "failed", diff);
    return FW_ECONFLICT;
}

int fleet_run_blocked(struct fleet_run *r, const char *key, const char *name, const char *why)
{
    if (r->mode == FLEET_MODE_PLAN) {
        plan_add(r, key, name, "missing", why);
        return 0;
    }
    finding(r, key, name, why);
    job_ctx_set_error_msg(r->ctx, JOB_FAIL_CONFLICT, "ResourceMissing", "%s %s: %s", key, name,
                          why);
    set_failed(r, key, name, "failed", why);
    return FW_ECONFLICT;
}

int fleet_run_unmanaged(struct fleet_run *r, const char *key, const char *name, const char *why)
{
    if (r->mode == FLEET_MODE_PLAN) {
        plan_add(r, key, name, "unmanaged", why);
        return 0;
    }
    return fleet_run_record(
        r, key, json_pack("{s:s?, s:s, s:s}", "name", name, "origin", "precreated", "note", why));
}

int fleet_run_precreated(const struct fleet_run *r)
{
    const char *m = fleet_run_spec_str(r, 0, "iamRoles");
    return m && !strcmp(m, "precreated");
}

/* A create that AWS answers "already exists" lost a race, not a request error: another fleet's
 * job made the resource meanwhile (the fleets of an account share the guide's default names), or
 * this call's own earlier attempt did and its answer was lost (the client retried after a
 * timeout). The job is retried, and the step then finds the resource and checks it as one that
 * exists; before, the job died (conflict) and its fleet failed. The codes are AWS's: IAM CreateRole
 * and CreatePolicy answer EntityAlreadyExists (IAM API reference, "Errors"); IoT CreatePolicy,
 * CreateRoleAlias and CreateProvisioningTemplate answer ResourceAlreadyExistsException, 409 (IoT
 * API reference); tests/awsemu/README.md lists both as the emulator gives them. */
static void retry_when_made_meanwhile(struct aws_api_error *err)
{
    if (strcmp(err->code, "EntityAlreadyExists") &&
        strcmp(err->code, "ResourceAlreadyExistsException"))
        return;
    err->cls = AWS_ERRC_TRANSIENT;
    err->retryable = 1;
    awserr_append(err, "made meanwhile by another job or by this call's own lost attempt: the "
                       "retry checks it as a resource that exists");
}

int fleet_run_fail(struct fleet_run *r, const char *key, const char *name)
{
    retry_when_made_meanwhile(&r->err);
    int rc = awsctx_fail(r->ctx, &r->err);
    if (r->mode != FLEET_MODE_PLAN && key) {
        char msg[700];
        snprintf(msg, sizeof msg, "%s: %s: %s", r->err.operation, r->err.code, r->err.message);
        set_failed(r, key, name, "error", msg);
    }
    return rc;
}

void fleet_run_changed(const struct fleet_run *r, json_t *rec)
{
    if (r->mode == FLEET_MODE_PLAN || !r->ctx)
        return;
    json_object_set_new(rec, "changedAt", json_integer((json_int_t)store_now_ms()));
    json_object_set_new(rec, "changedBy", json_string(job_ctx_id(r->ctx)));
}

/* When this job changed resource key, in epoch ms; 0 when it did not. */
static long long changed_by_this_job(const struct fleet_run *r, const char *key)
{
    const json_t *rec = json_object_get(r->resources, key);
    const char *by = json_string_value(json_object_get(rec, "changedBy"));
    if (!r->ctx || !by || strcmp(by, job_ctx_id(r->ctx)))
        return 0;
    return (long long)json_integer_value(json_object_get(rec, "changedAt"));
}

int fleet_run_fail_iam(struct fleet_run *r, const char *key, const char *name,
                       const char *const *keys)
{
    long long now = store_now_ms(), since = 0;
    for (; keys && *keys; keys++) {
        long long t = changed_by_this_job(r, *keys);
        since = t > since ? t : since;
    }
    if (r->mode != FLEET_MODE_PLAN && fleet_settle_iam_refusal(&r->err) &&
        fleet_settle_within(since, fleet_settle_iam_s(), now)) {
        char what[200];
        snprintf(what, sizeof what,
                 "IAM is eventually consistent and this job changed the role %lld s ago: "
                 "retried until %ld s after the change",
                 (now - since) / 1000, fleet_settle_iam_s());
        fleet_settle_mark(&r->err, what);
    }
    return fleet_run_fail(r, key, name);
}

int fleet_run_check_generation(struct job_ctx *ctx, const json_t *payload, const json_t *doc,
                               const char *what, const char *name)
{
    if (generation_matches(payload, doc))
        return 0;
    const char *want = json_string_value(json_object_get(payload, "uid"));
    job_ctx_set_error_msg(ctx, JOB_FAIL_VALIDATION, "StaleJob",
                          "this job was made for an earlier %s named %s (%s), which was deleted "
                          "and re-created since; "
                          "it does nothing to the current one",
                          what, name ? name : "?",
                          want ? want : "made before generations were recorded");
    return FW_EINVAL;
}
