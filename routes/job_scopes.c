/*
 * job_scopes.c - job type -> the scope that creating it needs.
 *
 * Jobs that handlers enqueue themselves take the scope of the request
 * behind them: claim.retire and claim.autorotate come from rotation
 * (operate), webhook.deliver from a watch cycle (operate can run one).
 */
#include "routes/job_scopes.h"

#include <string.h>

struct job_scope {
    const char *type;
    enum auth_scope scope;
};

static const struct job_scope s_scopes[] = {
    {"fleet.setup", SCOPE_ADMIN},     /* POST /v1/fleets */
    {"fleet.plan", SCOPE_ADMIN},      /* POST /v1/fleets?dryRun=true */
    {"fleet.teardown", SCOPE_ADMIN},  /* DELETE /v1/fleets/{name} */
    {"fleet.reconcile", SCOPE_ADMIN}, /* POST /v1/fleets/{name}/reconcile */
    {"fleet.verify",
     SCOPE_OPERATE}, /* POST /v1/fleets/{name}/verify, and the fleet's verify schedule */
    {"template.create", SCOPE_ADMIN},    /* POST /v1/templates */
    {"template.update", SCOPE_ADMIN},    /* PATCH /v1/templates/{name} */
    {"template.version", SCOPE_ADMIN},   /* POST .../versions, PUT .../default-version */
    {"template.delete", SCOPE_ADMIN},    /* DELETE /v1/templates/{name} */
    {"claim.create", SCOPE_OPERATE},     /* POST /v1/fleets/{name}/claims */
    {"claim.rotate", SCOPE_OPERATE},     /* POST /v1/claims/{id}/rotate */
    {"claim.retire", SCOPE_OPERATE},     /* the end of a rotation's grace period */
    {"claim.autorotate", SCOPE_OPERATE}, /* the rotation schedule */
    {"claim.disable", SCOPE_OPERATE},    /* POST /v1/claims/{id}/disable */
    {"claim.enable", SCOPE_OPERATE},     /* POST /v1/claims/{id}/enable */
    {"claim.delete", SCOPE_OPERATE},     /* DELETE /v1/claims/{id} */
    {"watch.cycle", SCOPE_OPERATE},      /* POST /v1/watch/run */
    {"webhook.deliver", SCOPE_OPERATE},  /* an incident of a watch cycle */
};

static const struct job_scope *find(const char *type)
{
    for (size_t i = 0; type && i < sizeof s_scopes / sizeof s_scopes[0]; i++)
        if (!strcmp(s_scopes[i].type, type))
            return &s_scopes[i];
    return 0;
}

enum auth_scope job_scope_for(const char *type)
{
    const struct job_scope *s = find(type);
    return s ? s->scope : SCOPE_ADMIN;
}

int job_scope_known(const char *type)
{
    return find(type) != 0;
}
