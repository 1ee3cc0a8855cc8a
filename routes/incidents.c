/*
 * incidents.c - misuse incidents: list (filtered by state, fleet, claim),
 * read, acknowledge, resolve.
 *
 * Incidents are opened only by the watch (jobs/handlers/watch_eval.c);
 * people acknowledge them ("seen, working on it": the watch still updates
 * an acknowledged incident when the breach continues) and resolve them
 * (the next breach opens a new incident). Both changes are idempotent.
 */
#include "incidents.h"

#include "idempotency.h"

#include <string.h>

#include "service/core/err.h"
#include "service/domain/fleet_names.h"
#include "service/domain/store.h"
#include "service/domain/store_claim.h"
#include "service/domain/store_watch.h"

#define NOTE_MAX 500

/* Checks the list filters; 0 or FW_EINVAL after answering 400. */
static int filters(struct http_req *req, struct http_resp *resp, const char **state,
                   const char **fleet, const char **claim)
{
    *state = http_req_query(req, "state");
    *fleet = http_req_query(req, "fleet");
    *claim = http_req_query(req, "claim");
    int bad = 0;
    if (*state && strcmp(*state, "open") && strcmp(*state, "acknowledged") &&
        strcmp(*state, "resolved"))
        bad |= 1;
    if (*fleet && !fleet_names_fleet(*fleet))
        bad |= 2;
    if (*claim && !store_claim_id_valid(*claim))
        bad |= 4;
    if (!bad)
        return 0;
    http_problem(resp, 400, 0, "invalid query parameter");
    if (bad & 1)
        http_problem_field(resp, "state", "must be one of open, acknowledged, resolved");
    if (bad & 2)
        http_problem_field(resp, "fleet",
                           "must be a fleet name: 1-64 of letters, digits, '_' and '-'");
    if (bad & 4)
        http_problem_field(resp, "claim", "must be a claim id (clm_ and 24 hex digits)");
    return FW_EINVAL;
}

static void list_incidents(struct http_req *req, struct http_resp *resp)
{
    int limit;
    const char *state, *fleet, *claim;
    if (http_req_limit(req, resp, &limit) || filters(req, resp, &state, &fleet, &claim))
        return;
    json_t *items = 0;
    char *next = 0;
    int rc = store_incident_list(state, fleet, claim, limit, http_req_query(req, "cursor"), &items,
                                 &next);
    http_list_answer(resp, rc, items, next);
}

static void answer_incident(struct http_resp *resp, const char *id, int status)
{
    json_t *inc = 0;
    int rc = store_incident_get(id, &inc);
    if (rc == FW_ENOTFOUND) {
        http_problem(resp, 404, 0, "no incident with this id");
        return;
    }
    if (rc) {
        http_problem_store(resp, rc);
        return;
    }
    http_resp_json(resp, status, inc);
}

static void get_incident(struct http_req *req, struct http_resp *resp)
{
    answer_incident(resp, http_req_param(req, "id"), 200);
}

/* The optional body {"note": "..."}: a new reference, or NULL after answering 400. */
static json_t *note_body(struct http_req *req, struct http_resp *resp)
{
    json_t *b = http_req_optional_object(req), *n = json_object_get(b, "note");
    /* nothing but the note, and the note a short string */
    if (b && json_object_size(b) == (n ? 1u : 0u) &&
        (!n || (json_is_string(n) && strlen(json_string_value(n)) <= NOTE_MAX)))
        return b;
    http_problem(resp, 400, 0, "the body must be empty or {\"note\": \"...\"}");
    http_problem_field(resp, "note", "optional: a string of at most 500 characters");
    json_decref(b);
    return 0;
}

static void transition(struct http_req *req, struct http_resp *resp, const char *to)
{
    const char *id = http_req_param(req, "id");
    json_t *body = note_body(req, resp);
    if (!body)
        return;
    int rc = store_incident_transition(id, to, json_string_value(json_object_get(body, "note")),
                                       store_now_ms());
    json_decref(body);
    if (rc == FW_ENOTFOUND) {
        http_problem(resp, 404, 0, "no incident with this id");
        return;
    }
    if (rc == FW_ECONFLICT) {
        http_problem(resp, 409, 0, "the incident is resolved; a new breach opens a new incident");
        return;
    }
    if (rc) {
        http_problem_store(resp, rc);
        return;
    }
    answer_incident(resp, id, 200);
}

static void ack_incident(struct http_req *req, struct http_resp *resp)
{
    transition(req, resp, "acknowledged");
}

static void resolve_incident(struct http_req *req, struct http_resp *resp)
{
    transition(req, resp, "resolved");
}

IDEMPOTENCY_ONCE(ack_incident)
IDEMPOTENCY_ONCE(resolve_incident)

static const struct route s_routes[] = {
    {"GET", "/v1/incidents", SCOPE_READ, 0, list_incidents},
    {"GET", "/v1/incidents/{id}", SCOPE_READ, 0, get_incident},
    {"POST", "/v1/incidents/{id}/ack", SCOPE_OPERATE, 0, ack_incident_once},
    {"POST", "/v1/incidents/{id}/resolve", SCOPE_OPERATE, 0, resolve_incident_once},
};

ROUTE_TABLE(routes_incidents_table, s_routes);
