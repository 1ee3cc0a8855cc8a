/*
 * job.h - the job record: lanes, states, ids, payload rules and the JSON
 * the API shows. Pure functions (no Redis, no clock), unit-tested.
 */
#ifndef FW_JOBS_JOB_H
#define FW_JOBS_JOB_H

#include <stddef.h>
#include <jansson.h>

#include "job_record.h"

#define JOB_ID_MAX 160 /* ids incl. NUL: "j_" + 24 hex, or "s_<schedule>_<slot ms>" */
#define JOB_TYPE_MAX 64
#define JOB_RESOURCE_MAX 200
#define JOB_PAYLOAD_MAX 65536 /* bytes of payload JSON */

enum job_lane { JOB_LANE_CRITICAL = 0, JOB_LANE_DEFAULT, JOB_LANE_BULK, JOB_NLANES };

/* What a caller asks to run. Strings are borrowed for the call only. */
struct job_spec {
    const char *type;         /* required, [a-z0-9._-]{1,64}, e.g. "claim.create" */
    const char *payload_json; /* a JSON object, never with secrets; NULL = "{}" */
    const char *lane;         /* "critical"|"default"|"bulk"; NULL = the type's lane */
    int max_attempts;         /* 0 = the type's (default 5) */
    const char *resource;     /* what the job concerns ("claim:abc"), or NULL */
    const char *id;           /* the job's id, chosen by the caller so that a second enqueue of the
                                 same job returns the first (job_token_valid), or NULL: a new one */
    long long run_at_ms;      /* epoch ms to run at; 0 = now */
};

/* "critical"/"default"/"bulk"; NULL for an out-of-range lane. */
const char *job_lane_name(int lane);
/* Lane by name, or -1. */
int job_lane_parse(const char *s);
/* The order in which a worker looks at the lanes on its pick-th claim:
 * critical first, but every 4th pick default first and every 10th bulk
 * first, so under full load default gets >= 1/4 and bulk >= 1/10 of the
 * picks (never starved). */
void job_lane_order(unsigned long pick, int out[JOB_NLANES]);

/* 1 when s is a valid state name ("queued", ..., "canceled"). */
int job_state_valid(const char *s);
/* 1 for succeeded, dead, canceled. */
int job_state_terminal(const char *s);

/* 1 when type matches [a-z0-9._-]{1,64}. */
int job_type_valid(const char *type);
/* 1 when s is 1..max-1 chars of [A-Za-z0-9._:/@=+-] (ids, resources, keys). */
int job_token_valid(const char *s, size_t max);

/* Checks a payload: a JSON object of at most JOB_PAYLOAD_MAX bytes with no
 * key that names a secret (token, secret, password, privateKey, ...,
 * compared case- and separator-insensitively, at any depth). 0, FW_EBADJSON,
 * FW_ETOOBIG, or FW_EINVAL with the offending key in why. */
int job_payload_check(const char *json, char *why, size_t whylen);
/* 1 when a key (e.g. "private_key", "SessionToken") names a secret. */
int job_key_is_secret(const char *key);

/* Fills out with a new random id "j_" + 24 hex chars. 0 or FW_ECRYPTO. */
int job_id_new(char out[JOB_ID_MAX]);

/* Epoch ms as RFC 3339 UTC with ms ("2026-11-28T05:15:00.000Z"). */
void job_time_rfc3339(long long ms, char out[32]);

/* Renders a job read by job_record_expand into the API's JSON object: the
 * rows of job_record.h's table in order, each as its view says. New
 * reference; never NULL. Unparsable JSON fields are shown as strings. */
json_t *job_render(const struct job_fields *f);

#endif
