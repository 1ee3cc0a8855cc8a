/*
 * ratelimit.h - token buckets per AWS operation family, shared by every
 * worker of every process through Redis (lua/prelude.lua rl_take).
 *
 * The bucket reserves: a token may be taken before it is due. A job whose
 * type names a family takes its token when it starts; when the token is
 * not due yet the job is parked in the delayed set until it is (no
 * failure, no attempt used, counted as a rate-limit wait), so no worker
 * sleeps on a limit. How far ahead a job may reserve depends on its lane
 * (jobs/README.md "Rate limits"): critical any distance, others only a
 * token due within one interval, else they wait unreserved for the family's pump, so queued
 * bulk work never stands between a critical job and the next token.
 * Handlers making several calls of another family use ratelimit_acquire,
 * which reserves like a critical job and sleeps until the token is due.
 *
 * Rates default to AWS's published default quotas (requests per second)
 * and are overridden by FLEETWARDEN_RATE_<FAMILY>=RATE[:BURST] (family
 * upper-cased, '-' and '.' as '_'); burst defaults to one second's worth.
 */
#ifndef FW_JOBS_RATELIMIT_H
#define FW_JOBS_RATELIMIT_H

#include <stddef.h>

/* Rate (tokens/s) and burst of family. Thread-safe (reads the environment). */
void ratelimit_lookup(const char *family, double *rate, double *burst);
/* Takes a token of family, sleeping until it is due. 0, FW_EUNAVAILABLE (Redis
 * cannot be reached) or FW_EREDIS (Redis answered an error). */
int ratelimit_acquire(const char *family);

/* The family as FLEETWARDEN_RATE_<FAMILY> spells it: iot-cert-create is IOT_CERT_CREATE. */
void ratelimit_family_var(const char *family, char *out, size_t outlen);

/* The default table, for docs and metrics: name, rate; NULL name ends it. */
struct ratelimit_default {
    const char *family;
    double rate;
    const char *covers; /* the AWS operations it stands for */
};
extern const struct ratelimit_default ratelimit_defaults[];

#endif
