/*
 * store_claim.h - claim records in Redis.
 *
 * A claim is one provisioning claim certificate of a fleet. Its record is
 * a hash of string fields; routes render it (routes/claims.c), job
 * handlers (jobs/handlers/claim_*.c) move it through its states, the misuse
 * watch reads it and writes registrations. The sealed private key (see
 * service/domain/seal.h) lives in its own key with an EXPIRE, never in the hash,
 * so it disappears by itself when nobody downloads it.
 *
 * Layout (prefix P, default "fw:"):
 *   P claim:ID          HASH    fields below
 *   P claimkey:ID       STRING  sealed private key, EX = FLEETWARDEN_CLAIM_KEY_TTL
 *   P claims            ZSET    id by created ms (every claim)
 *   P claims:f:FLEET    ZSET    id by created ms (one fleet)
 *   P claims:rotdue     ZSET    id by due ms of its automatic rotation
 *   P claims:cert       HASH    certificate id -> the claim that holds it
 *   P claims:s:STATE, P claims:fs:FLEET:STATE   ZSETs by state (store_claim_index.h)
 *
 * Hash fields: one row each in service/domain/claim_fields.h (their names,
 *   how the API shows them, which step writes them).
 *
 * Every function uses the calling thread's Redis connection and is
 * thread-safe. Errors: FW_EUNAVAILABLE (Redis unreachable), FW_EREDIS,
 * FW_ENOTFOUND, others as stated. State changes are single Lua scripts, so
 * two concurrent requests never both win a transition.
 */
#ifndef FW_STORE_CLAIM_H
#define FW_STORE_CLAIM_H

#include <stddef.h>
#include <jansson.h>

#include "service/domain/claim_fields.h"

#define CLAIM_ID_MAX 32    /* "clm_" + 24 hex + NUL */
#define CLAIM_NOTE_MAX 500 /* characters of a note */

enum claim_state {
    CLAIM_CREATING = 0,
    CLAIM_ACTIVE,
    CLAIM_ROTATING, /* a successor exists; still ACTIVE at AWS until the grace period ends */
    CLAIM_INACTIVE,
    CLAIM_REVOKED,
    CLAIM_DELETED,
    CLAIM_FAILED,
    CLAIM_NSTATES
};

/* "creating", ...; NULL when out of range. */
const char *store_claim_state_name(int state);
/* State by name, or -1. */
int store_claim_state_parse(const char *s);
/* 1 when a claim may go from `from` to `to` (pure; the table in
 * store_claim.c, unit-tested). Staying in the same state is allowed where
 * it makes a retried job idempotent (inactive, revoked, deleted). */
int store_claim_transition_ok(int from, int to);
/* 1 for states that still hold a usable certificate at AWS: creating,
 * active, rotating (what DELETE /v1/fleets counts). */
int store_claim_state_active(int state);

/* A new random id "clm_" + 24 hex. 0 or FW_ECRYPTO. */
int store_claim_id_new(char out[CLAIM_ID_MAX]);
/* 1 when s looks like a claim id. */
int store_claim_id_valid(const char *s);

struct claim_new {
    const char *fleet;          /* required */
    const char *key_source;     /* "generated", "csr", "aws" */
    const char *key_type;       /* "ec-p256", "rsa2048", or the CSR's type */
    const char *csr;            /* csr source: the validated CSR, else NULL */
    const char *public_key_fp;  /* csr source: its fingerprint, else NULL */
    const char *note;           /* NULL = none */
    long long expected_devices; /* 0 = not given */
    const char *predecessor;    /* rotation/replacement: the old claim, else NULL */
    const char *job;            /* the job that creates it, or NULL */
    const char *fleet_uid;      /* the fleet's generation (store_fleet_uid), or NULL */
    const char *purpose;        /* "verification" for a fleet verification's own claim (never
                                 * handed out), or NULL for a production claim */
};

/* Creates the record in state creating and indexes it. 0. */
int store_claim_create(const char *id, const struct claim_new *c);

/* The record's fields as a new JSON object of strings. 0, FW_ENOTFOUND. */
int store_claim_get(const char *id, json_t **fields);

/* Sets the fields of kv (built with CLAIM_BY_SET) on an existing record;
 * a certificateId is also entered in P claims:cert. Never "state" (its row
 * is not CLAIM_BY_SET: store_claim_transition changes states and their
 * indexes; FW_EINVAL if asserts are off). 0, FW_ENOTFOUND. */
int store_claim_set(const char *id, const struct claim_kv *kv);

/* For each of n certificate ids, the claim that holds it ("" for none:
 * not made by fleetwarden, or made by a version before this index). 0,
 * FW_EUNAVAILABLE, FW_EREDIS. */
int store_claim_cert_owners(const char *const *cert_ids, size_t n, char (*owners)[CLAIM_ID_MAX]);

/* Moves the claim to state `to` when store_claim_transition_ok(current,
 * to), setting the fields of kv (CLAIM_BY_SET; NULL for none) in the same script. *from (may be
 * NULL) gets the state it was in. 0, FW_ENOTFOUND, FW_ECONFLICT (not allowed from the current
 * state; *from says which). */
int store_claim_transition(const char *id, int to, const struct claim_kv *kv, int *from);

/* Records a generated key once: when the record has no CSR yet, sets csr,
 * publicKeyFp, keyType, keyHeld=1 and stores sealed under P claimkey:ID
 * with EX ttl_s; *already = 0. When a CSR was already recorded (a retried
 * job), changes nothing and sets *already = 1: the caller must use the
 * recorded CSR. 0, FW_ENOTFOUND. */
int store_claim_key_init(const char *id, const char *csr, const char *fp, const char *key_type,
                         const char *sealed, long ttl_s, int *already);
/* Stores a sealed key (keySource aws) with EX ttl_s and keyHeld=1. */
int store_claim_key_put(const char *id, const char *sealed, long ttl_s);
/* Erases the sealed key (revoke, delete, failure); reason is recorded. */
int store_claim_key_erase(const char *id, const char *reason);

/* The bundle download in two steps, so a key is taken only once it is
 * known to decrypt: peek checks the claim and reads the sealed
 * key, changing nothing; take then checks again, and marks the claim
 * downloaded and deletes the key only while the key is still `expected`
 * (what peek read; NULL when the claim holds none), in one script: of two
 * concurrent downloads exactly one takes it. peek's *sealed is a new
 * string, NULL when the claim never held a key. Both return 0,
 * FW_ENOTFOUND, FW_EGONE (already downloaded, key expired, or the claim is
 * revoked/deleted/failed; why says which), FW_ECONFLICT (still creating,
 * or the key changed between peek and take). */
int store_claim_bundle_peek(const char *id, char **sealed, char *why, size_t whylen);
int store_claim_bundle_take(const char *id, const char *expected, char *why, size_t whylen);

/* A page of claims, newest first, optionally of one fleet and/or state.
 * *items is a new array of field objects; *next a new cursor or NULL.
 * The cursor is a keyset (the last entry examined, see the cursor
 * functions below): claims created while a caller pages are newer than
 * it, so no claim is listed twice or skipped. A state filter reads the
 * state's index (store_claim_index.h), so its pages are full; until an
 * upgraded store's migration has finished, a page examines at most 5,000
 * claims and a filtered page may be short with a cursor. With a fleet, only
 * the claims of its current generation: one that records another fleetUid
 * (an earlier fleet of the name, deleted, then made again) is skipped, and
 * counts among the entries examined (a page may be short with a cursor).
 * 0, FW_EINVAL (bad cursor). */
int store_claim_list(const char *fleet, const char *state, int limit, const char *cursor,
                     json_t **items, char **next);
/* As store_claim_list, reading only the named fields of each record (at
 * most 80); a record that exists but has none of them is an object with
 * "id": "". The list route names what claims_view shows (CLAIM_SHOWN_NAMES). */
int store_claim_list_fields(const char *fleet, const char *state, int limit, const char *cursor,
                            const char *const *fields, size_t nfields, json_t **items, char **next);

/* The list cursor: "MS.ID", the created ms (the index score, 1 to 15
 * digits) and the claim id of the last entry a page examined. Opaque to
 * API clients. format: 0, FW_EINVAL (ms out of range, id not a claim
 * id). parse: 0, FW_EINVAL (anything else than what format makes). */
#define CLAIM_CURSOR_MAX (16 + CLAIM_ID_MAX)
int store_claim_cursor_format(long long ms, const char *id, char out[CLAIM_CURSOR_MAX]);
int store_claim_cursor_parse(const char *s, long long *ms, char id[CLAIM_ID_MAX]);

/* Claims of fleet's current generation (as store_claim_list) in states
 * creating, active or rotating (DELETE /v1/fleets refuses while this is > 0). */
int store_claim_count_active(const char *fleet, int *n);

/* For the misuse watch: records registrations seen for a claim (shown as
 * registrations {lastHour, total, updatedAt}). 0, FW_ENOTFOUND. */
int store_claim_set_registrations(const char *id, long long last_hour, long long total,
                                  long long updated_ms);

/* Rotation: the claim's successor, created (state creating, same fleet,
 * key source, key type, expected devices and note; predecessor set) when
 * it has none yet. Atomic: concurrent callers get the same successor.
 * *created is 1 when this call made it. For csr claims the caller passes
 * the new CSR and its fingerprint (else NULL). 0, FW_ENOTFOUND. */
int store_claim_successor_ensure(const char *id, const char *csr, const char *fp,
                                 const char *key_type, char out[CLAIM_ID_MAX], int *created);

/* Automatic rotation: sets (or clears, due_ms <= 0) the claim's due time. */
int store_claim_rotation_due(const char *id, long long due_ms);
/* The same, but only when the claim has no due time yet (ZADD NX). */
int store_claim_rotation_due_nx(const char *id, long long due_ms);
/* Takes up to max claims whose rotation is due at now_ms (removing them
 * from the due set). ids is a new array of strings. */
int store_claim_rotation_take(long long now_ms, int max, json_t **ids);

#endif
