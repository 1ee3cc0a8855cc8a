/*
 * verify.h - a fleet verification: fleetwarden acts as a device of the
 * fleet against its real endpoints and reports, step by step, whether a
 * device would provision. Run by the fleet.verify job
 * (fleet_verify.c) and by `fleetwarden check --fleet NAME` (service/main.c).
 *
 * The steps (aws/dataplane.h enum dp_step):
 *   1 claim          a short-lived verification claim (its own certificate
 *                    with the fleet's claim policy, key in memory only), or a
 *                    named claim whose sealed key the service holds;
 *   2 certificate    MQTT over TLS to the data endpoint with the claim;
 *                    CreateKeysAndCertificate, or CreateCertificateFromCsr when
 *                    the claim policy allows only the CSR topics;
 *   3 registerThing  RegisterThing through the fleet's template (a thing
 *                    name under the verification prefix by default);
 *   4 thingConnect   MQTT again as the new thing with its certificate;
 *   5 credentials    the credentials provider through the role alias, then
 *                    STS GetCallerIdentity with what it handed out;
 *   6 cleanup        the thing leaves its groups and is deleted, its
 *                    certificate deactivated, detached and deleted, the
 *                    verification claim retired - also after a failed step
 *                    and, on the next attempt, after a crash.
 *
 * Crash safety: what a step is about to make is written to the journal
 * ("verify:made") before it is made, and what it made right after; an
 * attempt that finds a journal without an outcome first removes all of it
 * and then verifies from the start. Keys exist in memory only, so nothing
 * of an interrupted run can be resumed but its cleanup.
 */
#ifndef FW_JOBS_HANDLERS_VERIFY_H
#define FW_JOBS_HANDLERS_VERIFY_H

#include <jansson.h>

#include "aws/awserr.h"
#include "service/core/netaddr.h"
#include "service/domain/verify_spec.h"

/* Where the run keeps what it made and found (the job's steps, or memory
 * for the command line). */
struct verify_journal {
    /* 0 with *out a malloc'd JSON text, or FW_ENOTFOUND. */
    int (*get)(void *ud, const char *key, char **out);
    /* 0, or an error that stops the run (FW_ECANCELED, FW_ECONFLICT: lease lost). */
    int (*put)(void *ud, const char *key, const char *json);
    /* 1 when the run should stop (cancel). */
    int (*canceled)(void *ud);
    /* Progress for the API (may be NULL). */
    void (*progress)(void *ud, int done, int total, const char *step);
    void *ud;
};

struct verify_request {
    const char *fleet;
    const char *fleet_uid;    /* the generation the request was made for, or NULL */
    const json_t *parameters; /* template parameters to add or override, or NULL */
    const char *claim_id;     /* a named claim, or NULL for a verification claim */
    const char *run_id;       /* unique per verification: the job id */
    int final_attempt; /* 1: an AWS outage ends the run as a failed step (no retry follows) */
    const struct verify_settings *settings;
};

struct fw_config;

/* Settings: the ports from the configuration (service/core/config.h), the
 * rest from FLEETWARDEN_* variables read once. */
struct verify_settings {
    int mqtt_port;              /* FLEETWARDEN_IOT_MQTT_PORT, default 8883 */
    int credentials_port;       /* FLEETWARDEN_IOT_CREDENTIALS_PORT, default 443 */
    const char *alpn;           /* FLEETWARDEN_IOT_MQTT_ALPN: auto (443 only), on, off */
    const char *ca_file;        /* FLEETWARDEN_ROOT_CA_FILE, default Debian's Amazon Root CA 1 */
    const char *endpoint_hosts; /* FLEETWARDEN_IOT_ENDPOINT_HOSTS: names allowed besides AWS's */
    /* FLEETWARDEN_IOT_ALLOW_ADDRESSES: internal addresses the endpoints may resolve to
     * (none by default: an endpoint name that resolves to loopback, private, link-local,
     * metadata, ... is refused, netresolve.h) */
    struct netaddr_list allow_addresses;
    long timeout_ms; /* FLEETWARDEN_VERIFY_TIMEOUT_MS: each MQTT or HTTPS wait, default 10000 */
};
void verify_settings_load(const struct fw_config *cfg, struct verify_settings *out);

/*
 * Runs the verification. 0 with *result (new reference): the report, a
 * verification that found a broken setup included:
 *   {"fleet", "result": "passed"|"failed", "failedStep", "steps": [{"step",
 *    "name", "status": "passed"|"failed"|"skipped", "checked", "error":
 *    {"code","message","statusCode","operation"} | null, "hint"}],
 *    "thingName", "claimId", "verificationClaim", "recovered", "awsCalls"}
 * Otherwise a negative FW_E* with err filled (err->cls set when AWS
 * failed, so the job runtime can decide a retry): the fleet is not ready
 * (FW_ECONFLICT), AWS did not answer (transient; what was made is cleaned
 * up first when it can be), or the journal said stop (FW_ECANCELED after
 * cleanup, FW_ECONFLICT when the lease was lost).
 */
int verify_run(const struct verify_request *rq, const struct verify_journal *j, json_t **result,
               struct aws_api_error *err);

/* The fleet's lastVerify member from a report: {"at", "result", "job",
 * "failedStep", "hint"} (new reference). */
json_t *verify_last(const json_t *report, const char *job_id, const char *at);

#endif
