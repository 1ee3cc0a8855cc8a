/*
 * fleet_teardown.c - fleet.teardown: undo setup in reverse order.
 *
 * Only what this fleet created goes ("origin": "created" in its record);
 * a resource another fleet of the same account also names stays (shared
 * defaults such as GreengrassV2TokenExchangeRole). Each finished deletion
 * is a job step, so a retry after a crash goes on where it stopped. A
 * DeleteConflict (for instance the thing policy still attached to
 * provisioned devices' certificates) keeps the resource and says why
 * instead of failing the teardown: the devices are not ours to break. For
 * the same reason a thing group the fleet created is deleted only while it
 * holds no thing (fleet_iot_delete_group); each group is its own step.
 *
 * A forced teardown detaches the claim policy from the claim certificates
 * first, and AWS IoT may refuse DeletePolicy "up to five minutes after a
 * policy is detached": the teardown records when it detached (a job step)
 * and retries the refusal as settling (fleet_settle.h) until
 * FLEETWARDEN_POLICY_DELETE_WAIT_S after that; the fleet record stays
 * meanwhile. Refused after that, the policy is reported as left behind,
 * by name, in the result's kept list.
 */
#include "fleet_teardown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsctx.h"
#include "service/domain/claims.h"
#include "fleet_iam.h"
#include "fleet_iot.h"
#include "fleet_run.h"
#include "fleet_settle.h"
#include "fleet_setup.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/domain/store.h"
#include "service/domain/store_claim.h"
#include "service/domain/claim_fields.h"
#include "service/domain/store_fleet.h"
#include "jobs/queue.h"
#include "service/core/log.h"
#include "service/domain/verify_spec.h"

struct teardown {
    struct fleet_run r;
    int force;
    json_t *deleted;
    json_t *kept;
};

typedef int(td_delete_fn)(struct fleet_run *r, const char *name);

static const char *res_field(const json_t *fleet, const char *key, const char *field)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(fleet, "resources"), key), field));
}

static int in_names(const json_t *arr, const char *field, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(field ? json_object_get(v, field) : v);
        if (s && !strcmp(s, name))
            return 1;
    }
    return 0;
}

/* 1 when fleet f records resource key as name; for thing groups, also when
 * its spec names the group (a fleet still being set up has no record yet). */
static int names_resource(const json_t *f, const char *key, const char *name)
{
    const char *other = res_field(f, key, "name");
    if (other && !strcmp(other, name))
        return 1;
    if (strcmp(key, "thingGroups"))
        return 0;
    const json_t *items =
        json_object_get(json_object_get(json_object_get(f, "resources"), key), "items");
    return in_names(items, "name", name) ||
           in_names(json_object_get(json_object_get(f, "spec"), key), 0, name);
}

/* 1 when another fleet of the same account records resource key as name. */
static int used_elsewhere(struct teardown *t, const char *key, const char *name)
{
    json_t *names = 0;
    int used = 0;
    if (store_fleet_list_names(&names))
        return 1; /* cannot tell: keep it */
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *f = 0;
        if (!strcmp(json_string_value(n), t->r.name) || store_fleet_get(json_string_value(n), &f))
            continue;
        const char *acct = json_string_value(json_object_get(f, "accountId"));
        used |= names_resource(f, key, name) && (!acct || !strcmp(acct, t->r.account));
        json_decref(f);
    }
    json_decref(names);
    return used;
}

static int keep(struct teardown *t, const char *key, const char *name, const char *reason)
{
    json_array_append_new(
        t->kept, json_pack("{s:s, s:s?, s:s}", "resource", key, "name", name, "reason", reason));
    return 0;
}

/* An earlier attempt's outcome of a step, back into deleted/kept. */
static void replay(struct teardown *t, const char *text)
{
    json_t *o = json_loads(text, 0, 0);
    json_t *d = json_object_get(o, "deleted"), *k = json_object_get(o, "kept");
    if (json_is_object(d))
        json_array_append(t->deleted, d);
    if (json_is_object(k))
        json_array_append(t->kept, k);
    json_decref(o);
}

/* Records the step with what it did (the last entry it added, if any). */
static int step_done(struct teardown *t, const char *step, size_t nd, size_t nk)
{
    json_t *o = json_object();
    if (json_array_size(t->deleted) > nd)
        json_object_set(o, "deleted", json_array_get(t->deleted, nd));
    if (json_array_size(t->kept) > nk)
        json_object_set(o, "kept", json_array_get(t->kept, nk));
    char *text = json_dumps(o, JSON_COMPACT);
    int rc = job_ctx_step_done(t->r.ctx, step, text ? text : "{}");
    free(text);
    json_decref(o);
    return rc;
}

/* Deletes resource key (name from its record) when this fleet created it. */
static int remove_one(struct teardown *t, const char *key, td_delete_fn *fn)
{
    const char *name = fleet_run_res_str(&t->r, key, "name");
    const char *origin = fleet_run_res_str(&t->r, key, "origin");
    if (!name)
        return 0;
    if (!origin || strcmp(origin, "created"))
        return keep(t, key, name, "not created by this fleet");
    if (used_elsewhere(t, key, name))
        return keep(t, key, name, "used by another fleet");
    int rc = fn(&t->r, name);
    if (rc == FW_ECONFLICT)
        return keep(t, key, name, t->r.err.message);
    if (rc)
        return awsctx_fail(t->r.ctx, &t->r.err);
    json_array_append_new(t->deleted, json_pack("{s:s, s:s}", "resource", key, "name", name));
    return 0;
}

#define DETACHED_STEP "detached:claimPolicy"

/* When this teardown detached the claim policy (epoch ms), 0 when it did not. */
static long long detached_at(struct fleet_run *r)
{
    char *text = 0;
    if (job_ctx_step_result(r->ctx, DETACHED_STEP, &text))
        return 0;
    json_t *o = json_loads(text, 0, 0);
    free(text);
    long long at = (long long)json_integer_value(json_object_get(o, "at"));
    json_decref(o);
    return at;
}

static int del_claim_policy_forced(struct fleet_run *r, const char *name)
{
    size_t n = 0;
    int rc = fleet_iot_detach_targets(r, name, &n);
    if (!rc && n && !detached_at(r)) {
        char v[96];
        snprintf(v, sizeof v, "{\"at\":%lld,\"targets\":%zu}", store_now_ms(), n);
        rc = job_ctx_step_done(r->ctx, DETACHED_STEP, v);
    }
    if (rc || (rc = fleet_iot_delete_policy(r, name)) != FW_ECONFLICT)
        return rc;
    long long at = detached_at(r), wait = fleet_settle_policy_delete_s();
    if (fleet_settle_within(at, wait, store_now_ms())) {
        fleet_settle_mark(&r->err,
                          "AWS IoT refuses DeletePolicy for up to five minutes after DetachPolicy: "
                          "retried until FLEETWARDEN_POLICY_DELETE_WAIT_S after the detach");
        return FW_EUNAVAILABLE;
    }
    if (at)
        awserr_append(
            &r->err,
            "left behind: still refused %lld s after this teardown detached it; delete it "
            "later with: aws iot delete-policy --policy-name %s",
            (store_now_ms() - at) / 1000, name);
    return rc;
}

static int del_claim_policy(struct fleet_run *r, const char *name)
{
    return fleet_iot_delete_policy(r, name);
}

static int del_thing_policy(struct fleet_run *r, const char *name)
{
    return fleet_iot_delete_policy(r, name);
}

static int del_tes_policy(struct fleet_run *r, const char *name)
{
    const char *arn = fleet_run_res_str(r, "tokenExchangePolicy", "arn");
    const char *role = fleet_run_spec_str(r, "tokenExchangeRole", "name");
    (void)name;
    int rc = fleet_iam_detach(r, role, arn);
    return rc ? rc : fleet_iam_delete_policy(r, arn);
}

/* Asks for the disable of one claim; its job's id is made from the claim's and this job's, so a
 * retry of the teardown asks for none twice. Conflict: its state changed meanwhile. */
static int disable_one(struct teardown *t, const char *id)
{
    int e = claims_enqueue_disable_by(id, "fleet teardown (force)", job_ctx_id(t->r.ctx));
    return e == FW_ECONFLICT ? 0 : e;
}

/* A claim creating whose creation job was canceled is failed: no run will finish it, and the
 * teardown would wait for it until its own retries ran out. */
static int fail_abandoned(struct teardown *t, const char *id)
{
    (void)t;
    claims_fail_abandoned(id);
    return 0;
}

/* Runs each(t, id) for every claim of the fleet in state (every page); the first error. */
static int each_claim_in(struct teardown *t, const char *state,
                         int (*each)(struct teardown *, const char *))
{
    char *cursor = 0;
    int rc;
    do {
        json_t *items = 0;
        char *next = 0;
        rc = store_claim_list(t->r.name, state, 500, cursor, &items, &next);
        free(cursor);
        cursor = next;
        size_t i;
        json_t *c;
        json_array_foreach(items, i, c)
        {
            int e = each(t, claim_field_str(c, CLAIM_F_ID));
            if (e && !rc)
                rc = e;
        }
        json_decref(items);
    } while (!rc && cursor);
    free(cursor);
    return rc;
}

/* Refuses while the fleet has live claims (creating, active or rotating), or with force disables
 * them and waits until none is left: the claim policy goes next, and a certificate left ACTIVE
 * would outlive the fleet at AWS, unknown to anyone (before, the teardown only asked for the
 * disables and went on, and the disables then found no fleet). A claim still being created would
 * attach the claim policy behind our back: it is waited for, then disabled; one whose creation
 * job was canceled is failed instead (nothing will finish it). */
static int claims_off(struct teardown *t)
{
    int n = 0;
    int rc = store_claim_count_active(t->r.name, &n);
    if (rc || n == 0)
        return rc;
    if (!t->force) {
        job_ctx_set_error_msg(
            t->r.ctx, JOB_FAIL_CONFLICT, "ActiveClaims",
            "the fleet has %d active claim(s); delete them or tear down with force", n);
        return FW_ECONFLICT;
    }
    rc = each_claim_in(t, "active", disable_one);
    rc = rc ? rc : each_claim_in(t, "rotating", disable_one);
    rc = rc ? rc : each_claim_in(t, "creating", fail_abandoned);
    if (rc)
        return rc;
    if ((rc = store_claim_count_active(t->r.name, &n)) != 0 || n == 0)
        return rc; /* only abandoned ones were left */
    job_ctx_set_error_msg(t->r.ctx, JOB_FAIL_SETTLING, "ClaimsLive",
                          "%d claim(s) of the fleet are still active, rotating or being created: "
                          "the teardown waits until their certificates are disabled "
                          "(claim.disable jobs)",
                          n);
    return FW_EUNAVAILABLE;
}

static void note_error(struct teardown *t, int rc)
{
    json_t *e = json_string(t->r.err.message[0] ? t->r.err.message : fw_strerror(rc));
    store_fleet_set(t->r.name, "error", e);
    json_decref(e);
}

/* Runs one step unless an earlier attempt finished it (then replays what
 * it did): fn(t, arg) adds to deleted/kept. */
typedef int(td_step_fn)(struct teardown *t, const void *arg);

static int run_step(struct teardown *t, const char *step, td_step_fn *fn, const void *arg)
{
    char *done = 0;
    if (!job_ctx_step_result(t->r.ctx, step, &done)) {
        replay(t, done);
        free(done);
        return 0;
    }
    size_t nd = json_array_size(t->deleted), nk = json_array_size(t->kept);
    int rc = fn(t, arg);
    return rc ? rc : step_done(t, step, nd, nk);
}

/* One thing group of the fleet ({name, arn, origin}): deleted when this
 * fleet created it, no other fleet names it and it holds no thing. */
static int remove_group(struct teardown *t, const void *arg)
{
    const char *name = json_string_value(json_object_get(arg, "name"));
    const char *origin = json_string_value(json_object_get(arg, "origin"));
    if (!name)
        return 0;
    if (!origin || strcmp(origin, "created"))
        return keep(t, "thingGroups", name, "not created by this fleet");
    if (used_elsewhere(t, "thingGroups", name))
        return keep(t, "thingGroups", name, "used by another fleet");
    int rc = fleet_iot_delete_group(&t->r, name);
    if (rc == FW_ECONFLICT)
        return keep(t, "thingGroups", name, t->r.err.message);
    if (rc == FW_EREDIS)
        return rc; /* a rate-limit token, not AWS: r.err says nothing */
    if (rc)
        return awsctx_fail(t->r.ctx, &t->r.err);
    json_array_append_new(t->deleted,
                          json_pack("{s:s, s:s}", "resource", "thingGroups", "name", name));
    return 0;
}

/* Each group is its own step, so a retry does not ask AWS again about a
 * group already deleted or kept. */
static int remove_groups(struct teardown *t)
{
    const json_t *items = json_object_get(json_object_get(t->r.resources, "thingGroups"), "items");
    size_t i;
    json_t *g;
    int rc = 0;
    json_array_foreach(items, i, g)
    {
        char step[160];
        snprintf(step, sizeof step, "delete:thingGroups:%s",
                 json_string_value(json_object_get(g, "name")));
        if ((rc = run_step(t, step, remove_group, g)) != 0)
            return rc;
    }
    return 0;
}

struct td_step {
    const char *key;
    td_delete_fn *fn; /* NULL for thingGroups (remove_groups) */
};

static int remove_keyed(struct teardown *t, const void *arg)
{
    const struct td_step *s = arg;
    return remove_one(t, s->key, s->fn);
}

static int run_deletes(struct teardown *t)
{
    const struct td_step steps[] = {
        {"claimPolicy", t->force ? del_claim_policy_forced : del_claim_policy},
        {"template", fleet_iot_delete_template},
        {"thingGroups", 0},
        {"provisioningRole", fleet_iam_delete_role},
        {"thingPolicy", del_thing_policy},
        {"roleAlias", fleet_iot_delete_alias},
        {"tokenExchangePolicy", del_tes_policy},
        {"tokenExchangeRole", fleet_iam_delete_role},
    };
    const int n = (int)(sizeof steps / sizeof steps[0]);
    int rc = claims_off(t);
    for (int i = 0; !rc && i < n; i++) {
        char step[64];
        snprintf(step, sizeof step, "delete:%s", steps[i].key);
        rc = job_ctx_progress(t->r.ctx, i, n, step);
        if (!rc)
            rc = steps[i].fn ? run_step(t, step, remove_keyed, &steps[i]) : remove_groups(t);
        /* Counted again once the claim policy is gone (or kept): a claim made live while it was
         * being deleted (a rotation's or a replacement's successor, an enable queued before the
         * DELETE) is refused, or with force disabled and waited for, instead of outliving the
         * fleet with an ACTIVE certificate. Later ones find no claim policy to attach. */
        if (!rc && i == 0)
            rc = claims_off(t);
    }
    return rc;
}

/* A teardown runs only after DELETE /v1/fleets/{name} put the fleet in
 * state deleting: a retried old job never tears down a fleet in use. */
static int check_deleting(struct teardown *t)
{
    const char *st = json_string_value(json_object_get(t->r.fleet, "state"));
    if (st && !strcmp(st, "deleting"))
        return 0;
    job_ctx_set_error_msg(
        t->r.ctx, JOB_FAIL_VALIDATION, "FleetNotDeleting",
        "the fleet %s is %s, not deleting: a teardown runs only after DELETE /v1/fleets/%s",
        t->r.name, st ? st : "in no state", t->r.name);
    return FW_EINVAL;
}

/* The fleet's verification schedule goes with the fleet. */
static void drop_verify_schedule(const char *fleet)
{
    char name[VERIFY_SCHEDULE_NAME_MAX];
    verify_spec_schedule_name(fleet, name);
    int rc = jobs_schedule_delete(name);
    if (rc && rc != FW_ENOTFOUND)
        log_msg(LOG_WARN,
                "the deleted fleet's verification schedule could not be removed (its runs end as "
                "FleetNotReady)");
}

int fleet_teardown_run(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    struct teardown t = {.force = json_is_true(json_object_get(payload, "force"))};
    int rc = fleet_setup_open(&t.r, ctx, payload, FLEET_MODE_SETUP);
    if (rc == FW_ENOTFOUND && !t.r.fleet) {
        job_ctx_set_result(ctx, "{\"skipped\":\"the fleet no longer exists\"}");
        return 0;
    }
    if (!rc && (rc = check_deleting(&t)) != 0) {
        fleet_setup_close(&t.r); /* nothing is written to a fleet that is not being deleted */
        return rc;
    }
    t.deleted = json_array();
    t.kept = json_array();
    const char *acct = json_string_value(json_object_get(t.r.fleet, "accountId"));
    snprintf(t.r.account, sizeof t.r.account, "%s", acct ? acct : "");
    if (!rc && !acct)
        rc = fleet_setup_account(&t.r);
    if (!rc)
        rc = run_deletes(&t);
    if (!rc && (rc = store_fleet_delete(t.r.name)) == FW_ENOTFOUND)
        rc = 0;
    if (!rc)
        drop_verify_schedule(t.r.name);
    if (!rc)
        fleet_setup_result(&t.r, json_pack("{s:s, s:o, s:o}", "fleet", t.r.name, "deleted",
                                           t.deleted, "kept", t.kept));
    else if (t.r.fleet)
        note_error(&t, rc);
    if (rc) {
        json_decref(t.deleted);
        json_decref(t.kept);
    }
    fleet_setup_close(&t.r);
    return rc;
}
