/*
 * claims_stuck.h - claims left in state creating without a creation job, marked failed once no
 * retry can resume them (run by claim.autorotate's recurring scan: jobs/handlers/claim_rotate.h).
 */
#ifndef FW_DOMAIN_CLAIMS_STUCK_H
#define FW_DOMAIN_CLAIMS_STUCK_H

/* The margin past FLEETWARDEN_IDEM_TTL after which a claim still creating with no creation job
 * is taken as lost: by then no retry of the request that made it can resume it. */
#define CLAIM_STUCK_MARGIN_S 3600

/* Marks failed (error "its creation job was never queued ...") every claim created more than
 * FLEETWARDEN_IDEM_TTL + CLAIM_STUCK_MARGIN_S ago that is still creating and of which no
 * claim.create job exists, neither the one the claim names nor its derived one
 * (claims_create_job_id); one call looks at the 1,000 oldest candidates at most, walking past
 * those whose job exists. *failed gets how many it failed. 0, or a Redis error of the query
 * (FW_EUNAVAILABLE / FW_EREDIS); a claim that cannot be read or moved is left for the next scan. */
int claims_fail_stuck(int *failed);

/* Moves claim id from creating to failed with error why (logged with the claim's id). 0, or the
 * store's error (FW_ECONFLICT when it is no longer creating). */
int claims_fail_creating(const char *id, const char *why);

#endif
