/*
 * routes.c - the list of route tables, in match order.
 * Each resource file exports one table; add new ones here.
 */
#include "routes.h"

#include "claims.h"
#include "docs.h"
#include "events.h"
#include "fleets.h"
#include "incidents.h"
#include "jobs.h"
#include "ops.h"
#include "templates.h"
#include "tokens.h"
#include "watch.h"

static const struct route_table *const s_tables[] = {
    &routes_ops_table,       &routes_tokens_table,    &routes_docs_table,
    &routes_jobs_table,      &routes_events_table,    &routes_claims_table,
    &routes_fleets_table,    &routes_templates_table, /* fleets, templates */
    &routes_incidents_table, &routes_watch_table,     /* misuse watch */
};

const struct route_table *const *routes_all(size_t *ntables)
{
    *ntables = sizeof s_tables / sizeof s_tables[0];
    return s_tables;
}

const struct route_table *const *routes_ops_only(size_t *ntables)
{
    *ntables = 1; /* s_tables[0] is the ops table */
    return s_tables;
}
