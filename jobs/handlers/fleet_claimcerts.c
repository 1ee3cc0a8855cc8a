/*
 * fleet_claimcerts.c - the claim policy's targets that no claim record
 * holds (see fleet_claimcerts.h).
 */
#include "fleet_claimcerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/iot.h"
#include "fleet_run.h"
#include "jobs/ratelimit.h"
#include "service/core/err.h"
#include "service/domain/claim_fields.h"
#include "service/domain/store.h"
#include "service/domain/store_claim.h"
#include "service/domain/store_claim_index.h"

#define NO_RECORD "no claim record: made after the data was restored, or outside fleetwarden"

/* The certificate id of a target ARN ("arn:...:cert/ID"), or NULL (a thing group, a Cognito id). */
static const char *cert_id_of(const char *arn)
{
    const char *s = arn ? strstr(arn, ":cert/") : 0;
    return s && s[6] ? s + 6 : 0;
}

/* Drops from ids (strings) those the certificate index gives a claim. */
static int drop_indexed(json_t *ids)
{
    size_t n = json_array_size(ids);
    if (!n)
        return 0;
    const char **cert = calloc(n, sizeof *cert);
    char(*owner)[CLAIM_ID_MAX] = calloc(n, sizeof *owner);
    int rc = cert && owner ? 0 : FW_EINTERNAL;
    for (size_t i = 0; !rc && i < n; i++)
        cert[i] = json_string_value(json_array_get(ids, i));
    if (!rc)
        rc = store_claim_cert_owners(cert, n, owner);
    for (size_t i = n; !rc && i-- > 0;)
        if (owner[i][0])
            json_array_remove(ids, i);
    free(cert);
    free(owner);
    return rc;
}

/* Drops from ids those a claim of the fleet names as its certificateId (a claim recorded by a
 * version before the certificate index has no index entry). Walks the fleet's claims only when
 * something is left to look for. */
static int drop_recorded(const char *fleet, json_t *ids)
{
    const char *fields[] = {claim_field_name(CLAIM_F_CERT_ID)};
    char *cursor = 0;
    int rc = 0;
    do {
        json_t *items = 0;
        char *next = 0;
        rc = store_claim_list_fields(fleet, 0, 500, cursor, fields, 1, &items, &next);
        free(cursor);
        cursor = next;
        for (size_t i = 0; !rc && i < json_array_size(items); i++) {
            const char *have = claim_rec_get(json_array_get(items, i), CLAIM_F_CERT_ID);
            for (size_t j = json_array_size(ids); have && j-- > 0;)
                if (!strcmp(have, json_string_value(json_array_get(ids, j))))
                    json_array_remove(ids, j);
        }
        json_decref(items);
    } while (!rc && cursor && json_array_size(ids));
    free(cursor);
    return rc;
}

/* Why deactivate may not act now ("" when it may): a claim being created may adopt a
 * certificate these lists hold (claim_find.h), so none is touched while one is. */
static int blocked_by_creating(char *why, size_t len)
{
    why[0] = 0;
    int rc = store_claim_index_ready();
    if (rc < 0)
        return rc;
    if (rc == 0) {
        snprintf(why, len, "the claim state indexes are still being built; reconcile again later");
        return 0;
    }
    json_t *ids = 0;
    rc = store_claim_index_before("creating", store_now_ms() + 1, 0, 1, &ids);
    if (!rc && json_array_size(ids))
        snprintf(why, len,
                 "left ACTIVE: claim %s is being created and could be its owner; reconcile "
                 "again once no claim is in state creating",
                 json_string_value(json_array_get(ids, 0)));
    json_decref(ids);
    return rc;
}

static void add_finding(struct fleet_run *r, const char *id, const char *diff, const char *why)
{
    json_t *f = json_pack("{s:s, s:s, s:s}", "resource", "claimCertificates", "name", id,
                          "difference", diff);
    if (why)
        json_object_set_new(f, "notRepaired", json_string(why));
    json_array_append_new(r->findings, f);
}

/* Sets the certificate INACTIVE (when it is not) and detaches the claim policy from it. 0 (a
 * certificate gone meanwhile included) or an AWS error in r->err. */
static int deactivate_one(struct fleet_run *r, const char *policy, const char *arn,
                          const struct iot_certificate *c)
{
    int rc = 0;
    if (!c->status || strcmp(c->status, "INACTIVE")) {
        ratelimit_acquire("iot-cert-update");
        rc = iot_update_certificate(r->aws, c->certificate_id, "INACTIVE", &r->err);
    }
    if (!rc) {
        ratelimit_acquire("iot-policy-attach");
        rc = iot_detach_policy(r->aws, policy, arn, &r->err);
    }
    return rc && r->err.cls == AWS_ERRC_NOTFOUND ? 0 : rc;
}

/* One target no claim holds: described, listed, and deactivated when asked and safe. */
static int one(struct fleet_run *r, const char *policy, const char *arn, const char *id,
               const char *blocked, long long before_ms)
{
    struct iot_certificate c = {0};
    ratelimit_acquire("iot-describe");
    int rc = iot_describe_certificate(r->aws, id, &c, &r->err);
    if (rc) {
        iot_certificate_cleanup(&c);
        return r->err.cls == AWS_ERRC_NOTFOUND ? (awserr_clear(&r->err), 0) : rc;
    }
    char at[32], diff[300], why[300];
    long long made_ms = (long long)(c.creation_date * 1000.0);
    store_format_time(made_ms, at);
    snprintf(diff, sizeof diff, "holds the claim policy %s; certificate %s, created %s", policy,
             c.status ? c.status : "?", at);
    if (!blocked) {
        add_finding(r, id, diff, NO_RECORD);
    } else if (blocked[0]) {
        snprintf(why, sizeof why, "%s; %s", NO_RECORD, blocked);
        add_finding(r, id, diff, why);
    } else if (made_ms > before_ms) {
        snprintf(why, sizeof why,
                 "%s; left ACTIVE: created less than %d minutes before this reconcile, it may "
                 "be a claim's still being recorded; reconcile again later",
                 NO_RECORD, FLEET_CLAIMCERTS_MARGIN_S / 60);
        add_finding(r, id, diff, why);
    } else if ((rc = deactivate_one(r, policy, arn, &c)) == 0) {
        add_finding(r, id, diff, 0);
        json_array_append_new(r->repaired,
                              json_pack("{s:s, s:s, s:s}", "resource", "claimCertificates", "name",
                                        id, "action", "deactivated"));
    }
    iot_certificate_cleanup(&c);
    return rc;
}

int fleet_claimcerts_check(struct fleet_run *r, int deactivate, long long started_ms)
{
    const char *policy = fleet_run_res_str(r, "claimPolicy", "name"),
               *thing = fleet_run_res_str(r, "thingPolicy", "name");
    if (r->mode != FLEET_MODE_RECONCILE || !policy || (thing && !strcmp(thing, policy)))
        return 0;
    struct aws_strlist targets = {0};
    json_t *ids = json_array(), *arns = json_object();
    ratelimit_acquire("iot-describe");
    int rc = iot_list_targets_for_policy(r->aws, policy, &targets, &r->err);
    if (rc)
        rc = r->err.cls == AWS_ERRC_NOTFOUND ? (awserr_clear(&r->err), 0) : fleet_run_fail(r, 0, 0);
    for (size_t i = 0; !rc && i < targets.n; i++) {
        const char *id = cert_id_of(targets.items[i]);
        if (id && !json_object_get(arns, id)) {
            json_array_append_new(ids, json_string(id));
            json_object_set_new(arns, id, json_string(targets.items[i]));
        }
    }
    aws_strlist_cleanup(&targets);
    /* The index first (one HMGET per 64), then the fleet's records for what is left. A
     * certificate is recorded before the claim policy is attached to it, so a target listed
     * above that no record holds now was never recorded in this data. */
    rc = rc ? rc : drop_indexed(ids);
    rc = rc || !json_array_size(ids) ? rc : drop_recorded(r->name, ids);
    char why[300];
    const char *blocked = 0;
    if (!rc && deactivate && json_array_size(ids)) {
        rc = blocked_by_creating(why, sizeof why);
        blocked = why;
    }
    long long before_ms = started_ms - FLEET_CLAIMCERTS_MARGIN_S * 1000LL;
    for (size_t i = 0; !rc && i < json_array_size(ids); i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        rc = one(r, policy, json_string_value(json_object_get(arns, id)), id, blocked, before_ms);
        if (rc) /* AWS (r->err): a retry of the job lists again */
            rc = fleet_run_fail(r, 0, 0);
    }
    json_decref(ids);
    json_decref(arns);
    return rc;
}
