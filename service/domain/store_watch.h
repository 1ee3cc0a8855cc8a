/*
 * store_watch.h - the misuse watch's records in Redis: incidents, each
 * claim's running total and moving average, and the watch counters.
 *
 * An incident is opened per (fleet, subject, rule) and stays the one
 * incident for that key until it is resolved: a breach seen again in a
 * later cycle updates it (breaches, lastSeenAt, latest finding), even
 * when it was acknowledged. Only resolving frees the key, so the next
 * breach after a resolve opens a new incident.
 *
 * Layout (prefix P, default "fw:"):
 *   P inc:ID            HASH   id seq fleet subject claim template rule state openedAt
 *                              updatedAt lastSeenAt ackAt resolvedAt breaches finding
 *                              (JSON) firstFinding (JSON) action (JSON) actionState
 *                              (pending|done|none) webhookJob note
 *   P incs              ZSET   id by seq (every incident)
 *   P incs:s:STATE      ZSET   id by seq, per state (open, acknowledged, resolved)
 *   P incs:f:FLEET      ZSET   id by seq, per fleet
 *   P incs:c:CLAIM      ZSET   id by seq, per claim
 *   P incopen:FLEET:SUBJECT:RULE  STRING  the unresolved incident of that key
 *   P incseq            STRING sequence
 *   P watch:claim       HASH   claim id -> the watch's state of the claim (opaque text)
 *   P watch:stats       HASH   counters for /metrics
 *
 * Opening an incident, acknowledging and resolving it each publish an
 * event {"type":"incident","id","state","change","fleet","resource",
 * "claimId","rule","job","ts"} into P events:log (the job
 * events' feed, jobs/queue_events.h), from the same script as the change.
 *
 * Every function uses the calling thread's Redis connection and is
 * thread-safe. Errors: FW_EUNAVAILABLE, FW_EREDIS, FW_ENOTFOUND,
 * FW_ECONFLICT (a state change not allowed), FW_EINVAL (bad cursor/state).
 */
#ifndef FW_STORE_WATCH_H
#define FW_STORE_WATCH_H

#include <jansson.h>
#include <stddef.h>

#define INCIDENT_ID_MAX 32 /* "inc_" + 24 hex + NUL */

struct incident_new {
    const char *fleet;        /* required */
    const char *subject;      /* "claim:ID" or "template:NAME" */
    const char *claim;        /* or NULL */
    const char *template_;    /* or NULL */
    const char *rule;         /* "registrationsPerHour", ... */
    const char *finding_json; /* observed values, threshold, data points (JSON object) */
    const char *action_json;  /* the action the fleet asks for (JSON object) */
    int action_pending;       /* 1: an action (disable/revoke) is still to be taken */
};

/*
 * Opens the incident of (fleet, subject, rule), or updates the unresolved
 * one (breaches + 1, finding, lastSeenAt). One Lua script, so concurrent
 * cycles never open two. id gets the incident id, *created 1 when it was
 * opened now, *action_pending 1 while its action is still to be taken.
 */
int store_incident_upsert(const struct incident_new *in, long long now_ms, char id[INCIDENT_ID_MAX],
                          int *created, int *action_pending);
/* Sets fields (n name/value pairs) on an existing incident. FW_ENOTFOUND. */
int store_incident_set(const char *id, const char *const *kv, size_t n);
/* The incident as the API shows it (new reference). FW_ENOTFOUND. */
int store_incident_get(const char *id, json_t **out);
/* Moves to "acknowledged" or "resolved" (note may be NULL), atomically:
 * ack from open (again: no change), resolve from open or acknowledged
 * (again: no change). FW_ENOTFOUND, FW_ECONFLICT (ack of a resolved one). */
int store_incident_transition(const char *id, const char *to, const char *note, long long now_ms);
/* Announces on the event feed (P events:log; GET /v1/events)
 * that claim was disabled (revoked: revoked) by job because of incident
 * (may be NULL) and the claim's other unresolved incidents whose action
 * names job. Nothing is stored on the incidents. FW_EREDIS. */
int store_incident_claim_off(const char *claim, const char *incident, const char *job, int revoked,
                             long long now_ms);
/* A page, newest first, filtered by state/fleet/claim (NULL = any).
 * *items a new array; *next a new cursor or NULL. FW_EINVAL. */
int store_incident_list(const char *state, const char *fleet, const char *claim, int limit,
                        const char *cursor, json_t **items, char **next);
/* 1 when id looks like an incident id. */
int store_incident_id_valid(const char *s);

/* The watch's state text of each claim (vals[i] a new string or NULL). */
int store_watch_claims_get(const char *const *ids, size_t n, char **vals);
/* Stores the state text of each claim (n of them). */
int store_watch_claims_set(const char *const *ids, const char *const *vals, size_t n);

/* Adds by to counter field of P watch:stats (e.g. "cycles"). */
int store_watch_stat_add(const char *field, long long by);
/* Sets counter field to value (gauges such as the last cycle's calls). */
int store_watch_stat_set(const char *field, long long value);
/* Every counter of P watch:stats as a new JSON object {field: integer}. */
int store_watch_stats(json_t **out);

#endif
