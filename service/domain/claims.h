/*
 * claims.h - starting claim work from elsewhere: routes/claims.c, the
 * fleet.setup handler (its first claim) and the misuse watch (disable).
 *
 * Each function writes what the API must show at once (the claim record in
 * state creating, or nothing) and enqueues the job that does the AWS work.
 * Thread-safe; uses the calling thread's Redis connection. Errors:
 * FW_EINVAL (bad argument), FW_ENOTFOUND (no such claim), FW_EREDIS /
 * FW_EUNAVAILABLE (Redis), as stated otherwise.
 *
 * Job types (registered by handlers_register_all, see register.c):
 *   claim.create   default lane, one per claim     make the certificate, attach the claim policy
 *   claim.rotate   default lane, one per claim     successor first, this one "rotating" until grace
 * ends claim.retire   default lane, one per claim     end of grace: INACTIVE; schedules
 * claim.delete claim.delete   default lane, one per claim     detach policy, deactivate, delete the
 * certificate claim.disable  CRITICAL lane                   INACTIVE or REVOKED, optional
 * replacement claim claim.enable   CRITICAL lane                   back to ACTIVE (never for
 * REVOKED) claim.autorotate default lane, recurring       enqueues claim.rotate for claims due (see
 * claim_rotate.h)
 */
#ifndef FW_JOBS_HANDLERS_CLAIMS_H
#define FW_JOBS_HANDLERS_CLAIMS_H

#include <stddef.h>

#include "service/domain/store_claim.h"

/* FLEETWARDEN_CLAIM_KEY_TTL: seconds an undownloaded sealed key is kept
 * (default 86400; 1..31 days). Read once. */
long claims_key_ttl_s(void);

/* The id of claim id's claim.create job (made from the claim's: enqueueing it again returns
 * the first) into out (n >= JOB_ID_MAX). */
void claims_create_job_id(const char *id, char *out, size_t n);

/*
 * Creates a claim of fleet with key_source "generated" (EC P-256) or
 * "aws", and enqueues its claim.create job. claim_id_out / job_id_out
 * (sizes >= CLAIM_ID_MAX / JOB_ID_MAX) get the ids. Used by fleet.setup for
 * the first claim. FW_EINVAL for key_source "csr" (needs a CSR: use
 * claims_enqueue_create_ex) or an unknown one.
 */
int claims_enqueue_create(const char *fleet, const char *key_source, char *claim_id_out,
                          size_t claim_id_len, char *job_id_out, size_t job_id_len);

/* The full form, for POST /v1/fleets/{name}/claims. */
struct claims_create_opts {
    const char *fleet;
    const char *key_source;     /* "generated", "csr", "aws" */
    const char *key_type;       /* generated: "ec-p256" (NULL) or "rsa2048" */
    const char *csr;            /* csr: the validated CSR PEM */
    const char *csr_fp;         /* csr: its public-key fingerprint */
    const char *csr_key_type;   /* csr: its key type name */
    long long expected_devices; /* 0 = not given */
    const char *note;           /* NULL = none */
    const char *preset_id; /* the id to use (bound to an Idempotency-Key), or NULL for a new one */
};
/* When preset_id names an existing claim (an earlier attempt of the same request made it), that
 * attempt is finished instead: the claim still creating gets its creation job, the same one when
 * the earlier attempt enqueued it (the creation job's id is "create_" + the claim's id), and
 * job_id is filled. FW_ECONFLICT only when that claim is gone again. */
int claims_enqueue_create_ex(const struct claims_create_opts *o, char claim_id[CLAIM_ID_MAX],
                             char *job_id, size_t job_id_len);

/*
 * Disables a claim now, on the critical lane (ahead of queued bulk work):
 * INACTIVE (reversible with claims_enqueue_enable) or, with revoke,
 * REVOKED (final). reason (<= 500 chars) is recorded as disableReason;
 * replace issues a replacement claim (same fleet and key source) once the
 * certificate is off. For the misuse watch and the API. FW_ECONFLICT when
 * the claim cannot be disabled from its state (creating, deleted, failed,
 * or revoked when revoke is 0).
 */
int claims_enqueue_disable(const char *claim_id, const char *reason, int revoke, int replace,
                           char *job_id, size_t job_id_len);
/* The same for the misuse watch: incident (may be NULL) is the incident
 * that asks for it; once the claim is off, its incidents' event feed
 * announces it (store_incident_claim_off). */
int claims_enqueue_disable_for(const char *claim_id, const char *incident, const char *reason,
                               int revoke, int replace, char *job_id, size_t job_id_len);
/* claims_enqueue_disable (INACTIVE, no replacement) asked by job by_job, which may ask again
 * (its retries): the disable job's id is made from the claim's and by_job, so asking again
 * returns the first job. FW_ECONFLICT as above. */
int claims_enqueue_disable_by(const char *claim_id, const char *reason, const char *by_job);
/* Fails claim_id when it is still creating and its creation job (the one the claim records, its
 * claim.create or the claim.rotate making it as a successor) was canceled: no run will finish it.
 * 1 when it is failed now, 0 otherwise (also when it cannot be read). */
int claims_fail_abandoned(const char *claim_id);
/* Enables an INACTIVE claim (critical lane). FW_ECONFLICT for a revoked
 * or otherwise not inactive claim. */
int claims_enqueue_enable(const char *claim_id, char *job_id, size_t job_id_len);

/*
 * Rotates a claim: creates its successor record (returned in succ_id) and
 * enqueues claim.rotate. grace_s < 0 = the fleet's
 * settings.rotation.graceSeconds (default 3600). csr/csr_fp/csr_key_type:
 * the successor's CSR for keySource csr (required then), else NULL.
 * lane NULL = default. FW_ECONFLICT unless active.
 */
int claims_enqueue_rotate(const char *claim_id, long grace_s, const char *csr, const char *csr_fp,
                          const char *csr_key_type, const char *lane, char succ_id[CLAIM_ID_MAX],
                          char *job_id, size_t job_id_len);

/* Deletes a claim (detach, deactivate, delete the certificate). run_at_ms
 * 0 = now (used with the retention period by claim.retire). FW_ECONFLICT
 * while creating. */
int claims_enqueue_delete(const char *claim_id, long long run_at_ms, char *job_id,
                          size_t job_id_len);

/* Internal (claim.disable with replace): enqueues claim.create for an
 * existing record in state creating (a successor). */
int claims__enqueue_existing(const char *claim_id, char *job_id, size_t job_id_len);
/* Internal (claim.retire): the delete at the end of the retention period;
 * it deletes only a claim that is still inactive or revoked (an enable in
 * between keeps the claim). */
int claims__enqueue_retention_delete(const char *claim_id, long long run_at_ms);

#endif
