/*
 * claim_create.c - claim.create: key, certificate, claim policy, active.
 *
 * Steps, each re-runnable after a crash at any line:
 *  1. key (keySource generated): generate the key pair, make a CSR, seal
 *     the private key under the KEK (aad = claim id) and record CSR,
 *     fingerprint and sealed key in Redis in one script that refuses a
 *     second key, all BEFORE any AWS call. A retry reuses the recorded CSR.
 *     keySource csr has its CSR in the record from the start.
 *  2. cert (step "cert:ID"): CreateCertificateFromCsr (setAsActive). On any
 *     run after the first, first look for a certificate this claim already
 *     made, when an earlier CreateCertificateFromCsr had an unknown outcome
 *     ("certRequested" is set just before the call and cleared when AWS
 *     answers 4xx): ListCertificates newest first down to that time minus
 *     slack, then DescribeCertificate and compare the public-key
 *     fingerprint with the record's. So a crash after AWS made the certificate but before we
 *     recorded it adopts that certificate instead of orphaning it.
 *     keySource aws: CreateKeysAndCertificate; the key exists only in the
 *     answer, so it is sealed and stored and the certificate id recorded
 *     immediately. The certificate is made INACTIVE: an answer that never
 *     reaches us (a timeout after AWS made it, then the client's retry, or
 *     a crash before the record write) leaves a certificate whose key nobody
 *     has and no fingerprint can find, and such an orphan must not be able
 *     to connect (AWS IoT API Reference, CreateKeysAndCertificate:
 *     setAsActive, default false; AWS IoT Core developer guide, "Activate or
 *     deactivate a client certificate": only an ACTIVE certificate can
 *     authenticate). Step 3b activates the one we recorded.
 *  3. attach (step "attach:ID"): AttachPolicy(claim policy, certificate
 *     ARN); AWS treats a repeated attach as success.
 *  3b. keySource aws (step "certon:ID"): UpdateCertificate ACTIVE; a
 *     repeated activation is a success too.
 *  4. active: state creating -> active, activation time, and the first
 *     automatic rotation due time when the fleet rotates.
 *
 * The private key is only ever in OpenSSL objects, a wiped PEM buffer and
 * the sealed blob; never in a payload, step result, log or error.
 */
#include "claim_create.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/iot.h"
#include "claim_common.h"
#include "claim_find.h"
#include "claim_rotate.h"
#include "service/domain/claims.h"
#include "jobs/ratelimit.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/domain/keys.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/domain/seal.h"
#include "service/domain/store_claim.h"
#include "service/domain/store_fleet.h"

/* State of one creation: the claim and the last AWS error. */
struct create_run {
    struct job_ctx *ctx;
    struct claim_job cj;
    struct aws_api_error err;
    char cert_id[80];
    char cert_arn[300];
};

static int aws_failed(struct create_run *r)
{
    return claim_fail_aws(r->ctx, &r->err);
}

/* Step 1 for keySource generated. */
static int ensure_key(struct create_run *r)
{
    if (claim_field(&r->cj, CLAIM_F_CSR))
        return 0;
    struct keys_pair *k = 0;
    char *pem = 0, *csr = 0, *sealed = 0, fp[KEYS_FP_HEX], type[KEYS_TYPE_MAX];
    int already = 0, kind = keys_kind_parse(claim_field(&r->cj, CLAIM_F_KEY_TYPE));
    int rc = keys_generate(kind < 0 ? KEYS_EC_P256 : (enum keys_kind)kind, &k);
    rc = rc ? rc : keys_private_pem(k, &pem);
    rc = rc ? rc : keys_make_csr(k, r->cj.id, &csr);
    rc = rc ? rc : keys_fingerprint(k, fp);
    rc = rc ? rc : seal_kek_encrypt(pem, strlen(pem), r->cj.id, &sealed);
    if (!rc) {
        keys_type_name(k, type);
        rc = store_claim_key_init(r->cj.id, csr, fp, type, sealed, claims_key_ttl_s(), &already);
    }
    xfree_secret(pem);
    keys_free(k);
    free(csr);
    free(sealed);
    if (rc == FW_ECRYPTO || rc == FW_EINTERNAL)
        return claim_fail_msg(r->ctx, "KeyGenerationFailed",
                              "could not generate or seal the claim's key");
    return rc ? rc : claim_job_reload(&r->cj);
}

/* Records the certificate on the claim (id, ARN, PEM, expiry, fingerprint). */
static int record_cert(struct create_run *r, const struct iot_certificate *c)
{
    struct keys_info ki;
    char exp[24] = "";
    int have =
        c->certificate_pem && !keys_cert_info(c->certificate_pem, strlen(c->certificate_pem), &ki);
    if (have && ki.not_after_ms > 0)
        snprintf(exp, sizeof exp, "%lld", ki.not_after_ms);
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_str(&kv, CLAIM_F_CERT_ID, c->certificate_id);
    claim_kv_str(&kv, CLAIM_F_CERT_ARN, c->certificate_arn);
    claim_kv_str(&kv, CLAIM_F_CERT_PEM, c->certificate_pem);
    claim_kv_str(&kv, CLAIM_F_EXPIRES, exp);
    if (have)
        claim_kv_str(&kv, CLAIM_F_PUBLIC_KEY_FP, ki.fp);
    snprintf(r->cert_id, sizeof r->cert_id, "%s", c->certificate_id ? c->certificate_id : "");
    snprintf(r->cert_arn, sizeof r->cert_arn, "%s", c->certificate_arn ? c->certificate_arn : "");
    return store_claim_set(r->cj.id, &kv);
}

/* Looks for a certificate made for this claim by an earlier run whose
 * CreateCertificateFromCsr had an unknown outcome (certRequested set).
 * 1 found (recorded), 0 none, < 0 error. */
static int find_existing(struct create_run *r)
{
    const char *req = claim_field(&r->cj, CLAIM_F_CERT_REQUESTED);
    if (!req)
        return 0;
    struct iot_certificate c = {0};
    int found = claim_find_cert(r->cj.aws, r->cj.id, claim_field(&r->cj, CLAIM_F_PUBLIC_KEY_FP),
                                strtoll(req, 0, 10), &c, &r->err);
    if (found < 0 && r->err.cls != AWS_ERRC_NONE)
        found = aws_failed(r);
    else if (found == 1) {
        found = record_cert(r, &c) ? -1 : 1;
        log_msg(LOG_INFO,
                "claim certificate found from an earlier attempt (no new certificate made)");
    }
    iot_certificate_cleanup(&c);
    return found;
}

/* keySource aws: the key comes back from AWS and is sealed at once. */
static int create_keys_and_cert(struct create_run *r)
{
    struct iot_certificate c = {0};
    char *sealed = 0;
    if (iot_create_keys_and_certificate(r->cj.aws, 0, &c, &r->err))
        return aws_failed(r);
    int rc = c.private_key
                 ? seal_kek_encrypt(c.private_key, strlen(c.private_key), r->cj.id, &sealed)
                 : FW_ECRYPTO;
    rc = rc ? rc : store_claim_key_put(r->cj.id, sealed, claims_key_ttl_s());
    rc = rc ? rc : record_cert(r, &c);
    if (!rc) {
        struct keys_info ki;
        struct claim_kv kv;
        int known =
            c.certificate_pem && !keys_cert_info(c.certificate_pem, strlen(c.certificate_pem), &ki);
        claim_kv_init(&kv, CLAIM_BY_SET);
        claim_kv_str(&kv, CLAIM_F_KEY_TYPE, known ? ki.type : "rsa2048");
        rc = store_claim_set(r->cj.id, &kv);
    }
    iot_certificate_cleanup(&c); /* wipes the private key */
    free(sealed);
    return rc;
}

/* Records that a CreateCertificateFromCsr is about to be sent ("" = the
 * last one certainly made nothing: AWS answered its only attempt with a 4xx error). */
static int mark_requested(struct create_run *r, int on)
{
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    if (on)
        claim_kv_int(&kv, CLAIM_F_CERT_REQUESTED, claim_now_ms());
    else
        claim_kv_str(&kv, CLAIM_F_CERT_REQUESTED, "");
    return store_claim_set(r->cj.id, &kv);
}

static int create_from_csr(struct create_run *r)
{
    struct iot_certificate c = {0};
    int rc = mark_requested(r, 1);
    if (rc)
        return rc;
    if (iot_create_certificate_from_csr(r->cj.aws, claim_field(&r->cj, CLAIM_F_CSR), 1, &c,
                                        &r->err)) {
        /* A 4xx says that attempt made nothing, not that an earlier one of the same call did not
         * (one that timed out after AWS had made the certificate, then a throttled retry): only a
         * call of one attempt clears the mark, else the next run looks for a certificate first. */
        if (r->err.http_status >= 400 && r->err.http_status < 500 &&
            aws_client_last_attempts(r->cj.aws) == 1)
            mark_requested(r, 0);
        return aws_failed(r);
    }
    rc = record_cert(r, &c);
    iot_certificate_cleanup(&c);
    return rc;
}

/* Step 2. */
static int ensure_cert(struct create_run *r)
{
    char step[64], *res = 0;
    snprintf(step, sizeof step, "cert:%s", r->cj.id);
    const char *have = claim_field(&r->cj, CLAIM_F_CERT_ID);
    int rc = job_ctx_step_result(r->ctx, step, &res);
    free(res);
    if (rc != FW_ENOTFOUND || have) {
        snprintf(r->cert_id, sizeof r->cert_id, "%s", have ? have : "");
        snprintf(r->cert_arn, sizeof r->cert_arn, "%s",
                 claim_field(&r->cj, CLAIM_F_CERT_ARN) ? claim_field(&r->cj, CLAIM_F_CERT_ARN)
                                                       : "");
        return rc == FW_ENOTFOUND ? job_ctx_step_done(r->ctx, step, "{}") : rc;
    }
    int is_aws = !strcmp(claim_field(&r->cj, CLAIM_F_KEY_SOURCE), "aws");
    int found = is_aws ? 0 : find_existing(r);
    if (found < 0)
        return found;
    rc = found ? 0 : is_aws ? create_keys_and_cert(r) : create_from_csr(r);
    if (rc)
        return rc;
    json_t *o = json_pack("{s:s, s:s}", "certificateId", r->cert_id, "certificateArn", r->cert_arn);
    char *t = json_dumps(o, JSON_COMPACT);
    rc = job_ctx_step_done(r->ctx, step, t);
    free(t);
    json_decref(o);
    return rc ? rc : claim_job_reload(&r->cj);
}

/* Step 3. */
static int attach(struct create_run *r)
{
    char step[64], *res = 0;
    snprintf(step, sizeof step, "attach:%s", r->cj.id);
    if (job_ctx_step_result(r->ctx, step, &res) == 0) {
        free(res);
        return 0;
    }
    ratelimit_acquire("iot-policy-attach");
    if (iot_attach_policy(r->cj.aws, r->cj.policy, r->cert_arn, &r->err))
        return aws_failed(r);
    return job_ctx_step_done(r->ctx, step, "{}");
}

/* Step 3b: keySource aws made its certificate INACTIVE (see the top). */
static int certificate_on(struct create_run *r)
{
    char step[64], *res = 0;
    if (strcmp(claim_field(&r->cj, CLAIM_F_KEY_SOURCE), "aws"))
        return 0;
    snprintf(step, sizeof step, "certon:%s", r->cj.id);
    if (job_ctx_step_result(r->ctx, step, &res) == 0) {
        free(res);
        return 0;
    }
    ratelimit_acquire("iot-cert-update");
    if (iot_update_certificate(r->cj.aws, r->cert_id, "ACTIVE", &r->err))
        return aws_failed(r);
    return job_ctx_step_done(r->ctx, step, "{}");
}

/* Step 4. */
static int activate(struct create_run *r)
{
    int from = -1;
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_int(&kv, CLAIM_F_ACTIVATED, claim_now_ms());
    claim_kv_str(&kv, CLAIM_F_ERROR, "");
    int rc = store_claim_transition(r->cj.id, CLAIM_ACTIVE, &kv, &from);
    if (rc == FW_ECONFLICT)
        return 0; /* disabled or deleted meanwhile: leave it */
    if (!rc && from == CLAIM_CREATING)
        claim_rotate_schedule_first(r->cj.id, r->cj.fleet,
                                    claim_field(&r->cj, CLAIM_F_PREDECESSOR) != 0);
    return rc ? rc : claim_job_reload(&r->cj);
}

/* A claim failed for good after its certificate was made is not one anyone may use (a key we
 * held is erased), so its certificate must not stay ACTIVE at AWS (until the claim is deleted, and
 * for ever once its fleet is torn down). Tried once; a refusal is logged with the certificate id.
 */
static void certificate_off(struct create_run *r)
{
    const char *cert = r->cert_id[0] ? r->cert_id : claim_field(&r->cj, CLAIM_F_CERT_ID);
    struct aws_api_error err;
    if (!cert || !*cert || !r->cj.aws)
        return;
    awserr_clear(&err);
    ratelimit_acquire("iot-cert-update");
    if (iot_update_certificate(r->cj.aws, cert, "INACTIVE", &err) && err.cls != AWS_ERRC_NOTFOUND)
        log_event(LOG_WARN, "the failed claim's certificate could not be set INACTIVE",
                  LOG_STR("claimId", r->cj.id), LOG_STR("certificateId", cert),
                  LOG_STR("code", err.code));
}

/* Marks the claim failed when no retry can help. */
static void maybe_failed(struct create_run *r, int rc)
{
    if (rc == FW_ECANCELED || rc == FW_ECONFLICT || r->err.cls == AWS_ERRC_THROTTLING)
        return;
    int final = rc == FW_EINVAL || (r->err.cls != AWS_ERRC_NONE && !r->err.retryable) ||
                job_ctx_attempt(r->ctx) >= job_ctx_max_attempts(r->ctx);
    if (!final)
        return;
    char msg[700];
    snprintf(msg, sizeof msg, "%s%s%s", r->err.code, r->err.code[0] ? ": " : "",
             r->err.message[0] ? r->err.message : fw_strerror(rc));
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_str(&kv, CLAIM_F_ERROR, msg);
    int failed = !store_claim_transition(r->cj.id, CLAIM_FAILED, &kv, 0);
    store_claim_key_erase(r->cj.id, "failed");
    if (failed) /* not when the claim left creating meanwhile (active, deleted) */
        certificate_off(r);
}

/* A fleet being deleted (or gone) gets no certificate: its teardown counted the fleet's live
 * claims when it began, and a certificate made now would outlive the fleet, ACTIVE, and block its
 * next incarnation. Read afresh just before the certificate call: a claim written before the
 * DELETE is counted by the teardown (which waits for it or refuses), and one written after it
 * finds the fleet deleting here. */
static int fleet_going(struct create_run *r)
{
    json_t *fleet = 0;
    int rc = store_fleet_get(claim_field(&r->cj, CLAIM_F_FLEET), &fleet);
    if (rc == FW_ENOTFOUND)
        return claim_fail_msg(r->ctx, "FleetNotFound", "the claim's fleet no longer exists");
    if (rc)
        return rc;
    const char *st = json_string_value(json_object_get(fleet, "state"));
    rc = st && !strcmp(st, "deleting")
             ? claim_fail_msg(r->ctx, "FleetDeleting",
                              "the fleet is being deleted: no certificate is made for its claims")
             : 0;
    json_decref(fleet);
    return rc;
}

static int run_steps(struct create_run *r)
{
    if (claim_state(&r->cj) != CLAIM_CREATING)
        return 0;
    if (!r->cj.policy)
        return claim_fail_msg(r->ctx, "FleetNotReady",
                              "the fleet has no claim policy (resources.claimPolicy.name)");
    int rc = strcmp(claim_field(&r->cj, CLAIM_F_KEY_SOURCE), "generated") ? 0 : ensure_key(r);
    if (!rc && !claim_field(&r->cj, CLAIM_F_CSR) &&
        strcmp(claim_field(&r->cj, CLAIM_F_KEY_SOURCE), "aws"))
        rc = claim_fail_msg(r->ctx, "NoCsr", "the claim has no CSR");
    rc = rc ? rc : fleet_going(r);
    rc = rc ? rc : ensure_cert(r);
    rc = rc ? rc : attach(r);
    rc = rc ? rc : certificate_on(r);
    return rc ? rc : activate(r);
}

int claim_create_steps(struct job_ctx *ctx, const char *id)
{
    struct create_run r = {.ctx = ctx};
    awserr_clear(&r.err);
    int rc = claim_job_load(ctx, id, 1, &r.cj);
    if (!rc)
        rc = run_steps(&r);
    if (rc && r.cj.claim)
        maybe_failed(&r, rc);
    if (!rc)
        claim_set_result(ctx, &r.cj);
    claim_job_cleanup(&r.cj);
    return rc;
}

int claim_create_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    return claim_create_steps(ctx, json_string_value(json_object_get(payload, "claimId")));
}
