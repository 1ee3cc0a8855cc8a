/*
 * verify_internal.h - the state of one verification run, shared by
 * verify_run.c (order, journal, report), verify_claim.c (step 1 and the
 * claim's removal), verify_device.c (steps 2-5) and verify_cleanup.c
 * (step 6). Internal to jobs/handlers.
 */
#ifndef FW_JOBS_HANDLERS_VERIFY_INTERNAL_H
#define FW_JOBS_HANDLERS_VERIFY_INTERNAL_H

#include <jansson.h>

#include "aws/dataplane.h"
#include "aws/fleetprov.h"
#include "verify.h"

struct aws_client;
struct iotmqtt;

struct verify_ctx {
    const struct verify_request *rq;
    const struct verify_journal *j;
    const struct verify_settings *st;
    json_t *fleet; /* the fleet document (owned) */
    const char *region;
    char account[16];
    char partition[16];
    struct aws_client *aws; /* the control plane (awsctx: this thread's) */
    char data_host[256], cred_host[256];
    char data_addr[NETADDR_TEXT_MAX],
        cred_addr[NETADDR_TEXT_MAX]; /* what they resolved to, checked */
    struct dp_names names; /* for hints; strings borrowed from fleet or the buffers below */
    char prov_role[300], hook_arn[300], role_arn[300];
    char data_peer[300], cred_peer[300];
    json_t *made;   /* what exists at AWS (journal "verify:made"), owned */
    json_t *steps;  /* step results so far (owned) */
    json_t *notes;  /* what the cleanup could not know or reach, said in its step (owned) */
    char token[16]; /* this run's hex token: in the thing name and the client ids */
    /* in memory only: keys never leave this struct */
    char *claim_cert_pem, *claim_key_pem;
    struct fleetprov_cert dev; /* the device certificate and key from step 2 */
    char thing[FLEETPROV_THING_MAX + 1];
    struct iotmqtt *conn; /* the claim's connection, from step 2 to the end of step 3 */
    char client_id[FLEETPROV_THING_MAX + 1];
    char api[40];                  /* the certificate API step 2 used */
    int control_calls, data_calls; /* what the run cost, for the report */
    struct aws_api_error err;
};

/* A step's outcome: 0 passed, VERIFY_FAILED (recorded, go to cleanup), or
 * a negative FW_E* (AWS did not answer, the journal said stop). */
#define VERIFY_FAILED 1

/* Records a passed step with what was checked. */
void verify_pass(struct verify_ctx *v, int step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records a failed step: what was checked, AWS's error, the hint built from
 * kind/topic (dataplane_hint). Returns VERIFY_FAILED. */
int verify_fail(struct verify_ctx *v, int step, enum dp_fail kind, const char *topic,
                const struct aws_api_error *e, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The same with the hint given. */
int verify_fail_hinted(struct verify_ctx *v, int step, const struct aws_api_error *e,
                       const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* 1 when e is an outage (throttling, transient, no answer) that a later
 * attempt may get past; on the final attempt it is a failed step instead. */
int verify_outage(const struct verify_ctx *v, const struct aws_api_error *e);

/* Writes v->made to the journal ("verify:made"). 0 or the journal's error. */
int verify_save_made(struct verify_ctx *v);
/* "arn:PARTITION:iot:REGION:ACCOUNT:cert/ID" into out. */
void verify_cert_arn(const struct verify_ctx *v, const char *cert_id, char *out, size_t len);
/* resources.KEY.FIELD or spec.PART.KEY of the fleet, as a string (NULL). */
const char *verify_res(const struct verify_ctx *v, const char *key, const char *field);
const char *verify_spec(const struct verify_ctx *v, const char *part, const char *key);

/* Step 1 (verify_claim.c). */
int verify_claim(struct verify_ctx *v);
/* Removes the verification claim recorded in made (a named claim is left
 * alone): its certificate deactivated, detached and deleted, the record
 * deleted. Appends what it removed or left to done / left. */
int verify_claim_remove(struct verify_ctx *v, const json_t *made, json_t *done, json_t *left);

/* Steps 2-5 (verify_device.c). */
int verify_certificate(struct verify_ctx *v);
int verify_register(struct verify_ctx *v);
int verify_thing_connect(struct verify_ctx *v);
int verify_credentials(struct verify_ctx *v);

/* Step 6 for the device's thing and certificate recorded in made
 * (verify_cleanup.c); appends to done / left. */
int verify_device_remove(struct verify_ctx *v, const json_t *made, json_t *done, json_t *left);

/* Takes one token of a rate-limit family (jobs/ratelimit.h) and counts the call. */
void verify_call(struct verify_ctx *v, const char *family, int data_plane);

#endif
