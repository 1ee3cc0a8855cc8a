/*
 * store_idem.h - Idempotency-Key records in Redis: the one implementation
 * behind every creating POST (routes/idempotency.h applies it to requests).
 *
 * A key belongs to its holder (the API token that sent it: another token's
 * same key is another key) and is kept FLEETWARDEN_IDEM_TTL seconds (24 h)
 * from its first use. The first request under a key takes it "pending"
 * for a lease, with the fingerprint of the request (idem_key.h) and an id
 * reserved for what the request creates; once answered, the answer
 * (status, JSON body, Location) is kept and every later request with the
 * same fingerprint gets it again. A different fingerprint is a mismatch.
 * Taking a key is one Lua script, so concurrent requests under one key
 * never both run. A request that ended without an answer to keep (a 5xx,
 * a crash: the lease runs out) leaves the key to the next request with the
 * same fingerprint, which resumes with the same reserved id.
 *
 * Layout (prefix P): P reqidem:HOLDER:KEY  HASH  fp id state(pending|done)
 *                    lease(ms) status body loc;  PEXPIRE the key's lifetime
 * Errors: FW_EUNAVAILABLE / FW_EREDIS as store_argv_run reports them.
 */
#ifndef FW_DOMAIN_STORE_IDEM_H
#define FW_DOMAIN_STORE_IDEM_H

#include <stddef.h>

#define STORE_IDEM_ID_MAX 64

enum store_idem_state {
    STORE_IDEM_NEW,      /* taken now: run the request with the reserved id */
    STORE_IDEM_RESUMED,  /* an earlier attempt stopped unanswered: run again with its reserved id */
    STORE_IDEM_DONE,     /* answered before: the answer is filled in */
    STORE_IDEM_MISMATCH, /* the key was used for another request */
    STORE_IDEM_BUSY,     /* a request under this key is running now */
};

/* One key of one holder, as a request uses it. Strings are borrowed. */
struct store_idem_ref {
    const char *holder; /* the API token's id */
    const char *key;    /* a valid Idempotency-Key (idem_key_valid) */
    const char *fp;     /* the request's fingerprint (idem_key.h) */
};

/* A kept answer. body and location are malloc'd (NULL when absent). */
struct store_idem_answer {
    int status;
    char *body;
    size_t body_len;
    char *location;
};

/* Takes the key, or finds what became of it. candidate_id ("" or NULL =
 * none) is reserved for a new key; id gets the key's reserved id ("" when
 * none). ans is filled for STORE_IDEM_DONE (free with
 * store_idem_answer_free). ttl_ms: the key's lifetime; lease_ms: how long
 * a pending request keeps it. 0 or an error. */
int store_idem_begin(const struct store_idem_ref *ref, const char *candidate_id, long long ttl_ms,
                     long long lease_ms, enum store_idem_state *st, char id[STORE_IDEM_ID_MAX],
                     struct store_idem_answer *ans);

/* How a request that held a key ended. */
enum store_idem_end {
    STORE_IDEM_KEEP,    /* answered with success: keep the answer for replays */
    STORE_IDEM_FORGET,  /* refused (4xx), nothing made: the key is free again */
    STORE_IDEM_RELEASE, /* failed unanswered (5xx): the next same request resumes at once */
};

/* Ends the request that holds ref's key (nothing when another request
 * holds it now). ans is read for STORE_IDEM_KEEP only. 0 or an error. */
int store_idem_end(const struct store_idem_ref *ref, enum store_idem_end how,
                   const struct store_idem_answer *ans);

void store_idem_answer_free(struct store_idem_answer *ans);

#endif
