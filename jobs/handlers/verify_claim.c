/*
 * verify_claim.c - step 1 of a verification: the claim certificate to
 * provision with, and its removal in step 6.
 *
 * A verification claim is a claim record marked purpose "verification"
 * (listed with the fleet's claims, never handed out: it holds no sealed
 * key, and the bundle route refuses it). Its key is made here and lives in
 * memory only; its certificate comes from CreateCertificateFromCsr and gets
 * the fleet's claim policy. Order, for a crash at any line: the claim id
 * goes to the journal, then the record (with the CSR's fingerprint and the
 * time the certificate was asked for), then the certificate, then its id
 * on the record, then the policy. Removal finds the certificate by the
 * record, or by the fingerprint when the answer was lost (claim_find.h).
 *
 * A named claim is one of the fleet's claims whose sealed key the service
 * still holds (not yet downloaded): the key is opened in memory, the claim
 * is not changed and not removed.
 */
#include "verify_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/iot.h"
#include "claim_find.h"
#include "service/domain/claim_fields.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/keys.h"
#include "service/domain/seal.h"
#include "service/domain/store.h"
#include "service/domain/store_claim.h"

static const char *field(const json_t *rec, enum claim_field f)
{
    const char *s = claim_field_str(rec, f);
    return s && *s ? s : 0;
}

/* Sets the claim's certRequested (a time, or "" for none). */
static int set_cert_requested(const char *id, const char *v)
{
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_str(&kv, CLAIM_F_CERT_REQUESTED, v);
    return store_claim_set(id, &kv);
}

/* ---- a named claim ---- */

static int claim_problem(struct verify_ctx *v, const char *id, const char *why)
{
    struct aws_api_error e;
    awserr_set(&e, 0, "ClaimNotUsable", "claim %s: %s", id, why);
    return verify_fail(v, DP_STEP_CLAIM, DP_FAIL_AWS, 0, &e, "claim %s of fleet %s", id,
                       v->rq->fleet);
}

/* Opens the sealed key of a claim that still holds it, changing nothing. */
static int open_key(struct verify_ctx *v, const char *id)
{
    char *sealed = 0, why[200] = "";
    int rc = store_claim_bundle_peek(id, &sealed, why, sizeof why);
    if (rc == FW_EGONE || rc == FW_ECONFLICT || (!rc && !sealed))
        return claim_problem(
            v, id,
            "the service no longer holds its key (downloaded, expired, or still being made)");
    if (rc)
        return rc;
    unsigned char *plain = 0;
    size_t n = 0;
    rc = seal_kek_decrypt(sealed, id, &plain, &n);
    free(sealed);
    if (rc)
        return claim_problem(v, id,
                             "its sealed key does not open with this service's key-encryption key");
    v->claim_key_pem = (char *)plain;
    return 0;
}

static int named_claim(struct verify_ctx *v)
{
    const char *id = v->rq->claim_id;
    json_t *rec = 0;
    int rc = store_claim_get(id, &rec);
    if (rc == FW_ENOTFOUND)
        return claim_problem(v, id, "no such claim");
    if (rc)
        return rc;
    const char *state = field(rec, CLAIM_F_STATE);
    if (strcmp(field(rec, CLAIM_F_FLEET) ? field(rec, CLAIM_F_FLEET) : "", v->rq->fleet))
        rc = claim_problem(v, id, "it belongs to another fleet");
    else if (!state || (strcmp(state, "active") && strcmp(state, "rotating")) ||
             !field(rec, CLAIM_F_CERT_PEM))
        rc = claim_problem(v, id, "it is not active");
    else if ((rc = open_key(v, id)) == 0) {
        v->claim_cert_pem = xstrdup(field(rec, CLAIM_F_CERT_PEM));
        json_object_set_new(v->made, "claimId", json_string(id));
        json_object_set_new(v->made, "verificationClaim", json_false());
        verify_pass(v, DP_STEP_CLAIM,
                    "claim %s (certificate %s, claim policy %s), its sealed key opened in memory",
                    id, field(rec, CLAIM_F_CERT_ID) ? field(rec, CLAIM_F_CERT_ID) : "?",
                    v->names.claim_policy);
    }
    json_decref(rec);
    return rc;
}

/* ---- the verification's own claim ---- */

/* The record, before any AWS call: in state creating, with the CSR. */
static int make_record(struct verify_ctx *v, const char *id, const char *csr, const char *fp)
{
    char note[160], uid[64] = "";
    snprintf(note, sizeof note, "fleet verification %s", v->rq->run_id);
    const char *u = json_string_value(json_object_get(v->fleet, "uid"));
    snprintf(uid, sizeof uid, "%s", u ? u : "");
    struct claim_new c = {v->rq->fleet,  "generated",      "ec-p256",     csr, fp, note, 0, 0,
                          v->rq->run_id, uid[0] ? uid : 0, "verification"};
    int rc = store_claim_create(id, &c);
    if (!rc) {
        char now[24];
        snprintf(now, sizeof now, "%lld", store_now_ms());
        rc = set_cert_requested(id, now);
    }
    return rc;
}

/* A key pair in memory and its CSR; the private key PEM goes to v. */
static int make_key(struct verify_ctx *v, const char *id, char **csr, char fp[KEYS_FP_HEX])
{
    struct keys_pair *k = 0;
    int rc = keys_generate(KEYS_EC_P256, &k);
    rc = rc ? rc : keys_private_pem(k, &v->claim_key_pem);
    rc = rc ? rc : keys_make_csr(k, id, csr);
    rc = rc ? rc : keys_fingerprint(k, fp);
    keys_free(k);
    return rc;
}

static int record_cert(struct verify_ctx *v, const char *id, const struct iot_certificate *c)
{
    v->claim_cert_pem = xstrdup(c->certificate_pem ? c->certificate_pem : "");
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_str(&kv, CLAIM_F_CERT_ID, c->certificate_id);
    claim_kv_str(&kv, CLAIM_F_CERT_ARN, c->certificate_arn);
    claim_kv_str(&kv, CLAIM_F_CERT_PEM, v->claim_cert_pem);
    int rc = store_claim_set(id, &kv);
    json_object_set_new(
        v->made, "claimCertificate",
        json_pack("{s:s, s:s}", "id", c->certificate_id, "arn", c->certificate_arn));
    return rc ? rc : verify_save_made(v);
}

/* The certificate from the CSR, set active, with the claim policy. */
static int make_cert(struct verify_ctx *v, const char *id, const char *csr, char *cert_id,
                     size_t len)
{
    struct iot_certificate c = {0};
    awserr_clear(&v->err);
    verify_call(v, "iot-cert-create", 0);
    if (iot_create_certificate_from_csr(v->aws, csr, 1, &c, &v->err)) {
        if (v->err.http_status >= 400 && v->err.http_status < 500)
            set_cert_requested(id, ""); /* AWS made nothing */
        return verify_outage(v, &v->err)
                   ? awserr_to_fw(&v->err)
                   : verify_fail(v, DP_STEP_CLAIM, DP_FAIL_AWS, 0, &v->err,
                                 "CreateCertificateFromCsr for verification claim %s", id);
    }
    snprintf(cert_id, len, "%s", c.certificate_id ? c.certificate_id : "");
    int rc = record_cert(v, id, &c);
    if (!rc) {
        verify_call(v, "iot-policy-attach", 0);
        if (iot_attach_policy(v->aws, v->names.claim_policy, c.certificate_arn, &v->err))
            rc = verify_outage(v, &v->err)
                     ? awserr_to_fw(&v->err)
                     : verify_fail(v, DP_STEP_CLAIM, DP_FAIL_AWS, 0, &v->err,
                                   "AttachPolicy of claim policy %s to certificate %s",
                                   v->names.claim_policy, cert_id);
    }
    iot_certificate_cleanup(&c);
    return rc;
}

static int own_claim(struct verify_ctx *v)
{
    char id[CLAIM_ID_MAX], fp[KEYS_FP_HEX], cert_id[80] = "";
    char *csr = 0;
    int rc = store_claim_id_new(id);
    if (rc)
        return rc;
    json_object_set_new(v->made, "claimId", json_string(id));
    json_object_set_new(v->made, "verificationClaim", json_true());
    rc = verify_save_made(v);
    rc = rc ? rc : make_key(v, id, &csr, fp);
    rc = rc ? rc : make_record(v, id, csr, fp);
    rc = rc ? rc : make_cert(v, id, csr, cert_id, sizeof cert_id);
    free(csr);
    if (rc)
        return rc;
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    claim_kv_int(&kv, CLAIM_F_ACTIVATED, store_now_ms());
    store_claim_transition(id, CLAIM_ACTIVE, &kv, 0);
    verify_pass(v, DP_STEP_CLAIM,
                "verification claim %s: certificate %s from a CSR (EC P-256, key in memory only), "
                "claim policy %s "
                "attached",
                id, cert_id, v->names.claim_policy);
    return 0;
}

int verify_claim(struct verify_ctx *v)
{
    return v->rq->claim_id ? named_claim(v) : own_claim(v);
}

/* ---- removal ---- */

static int gone_ok(struct verify_ctx *v, int rc)
{
    return rc && v->err.cls != AWS_ERRC_NOTFOUND ? rc : 0;
}

/* INACTIVE, detach the claim policy, delete. 0, an outage, or 1 when AWS
 * refused (v->err says why). */
static int delete_cert(struct verify_ctx *v, const char *cert_id, const char *arn)
{
    int rc;
    awserr_clear(&v->err);
    verify_call(v, "iot-cert-update", 0);
    rc = gone_ok(v, iot_update_certificate(v->aws, cert_id, "INACTIVE", &v->err));
    if (!rc && v->names.claim_policy) {
        verify_call(v, "iot-policy-attach", 0);
        rc = gone_ok(v, iot_detach_policy(v->aws, v->names.claim_policy, arn, &v->err));
    }
    if (!rc) {
        verify_call(v, "iot-cert-update", 0);
        rc = gone_ok(v, iot_delete_certificate(v->aws, cert_id, 0, &v->err));
    }
    if (rc && verify_outage(v, &v->err))
        return rc;
    return rc ? 1 : 0;
}

/* The certificate of a record whose CreateCertificateFromCsr answer was lost. */
static int lost_cert(struct verify_ctx *v, const json_t *rec, char *id, size_t idlen, char *arn,
                     size_t arnlen)
{
    const char *req = field(rec, CLAIM_F_CERT_REQUESTED);
    if (!req)
        return 0;
    struct iot_certificate c = {0};
    int found = claim_find_cert(v->aws, field(rec, CLAIM_F_ID), field(rec, CLAIM_F_PUBLIC_KEY_FP),
                                strtoll(req, 0, 10), &c, &v->err);
    if (found == 1) {
        snprintf(id, idlen, "%s", c.certificate_id ? c.certificate_id : "");
        snprintf(arn, arnlen, "%s", c.certificate_arn ? c.certificate_arn : "");
    }
    iot_certificate_cleanup(&c);
    if (found >= 0)
        return 0;
    if (v->err.cls == AWS_ERRC_NONE)
        return found; /* Redis */
    return verify_outage(v, &v->err) ? awserr_to_fw(&v->err) : 1;
}

static void retire_record(const char *id)
{
    struct claim_kv failed, deleted;
    claim_kv_init(&failed, CLAIM_BY_SET);
    claim_kv_str(&failed, CLAIM_F_ERROR, "");
    claim_kv_init(&deleted, CLAIM_BY_SET);
    claim_kv_int(&deleted, CLAIM_F_DELETED_AT, store_now_ms());
    store_claim_transition(id, CLAIM_FAILED, &failed,
                           0); /* creating cannot go to deleted directly */
    store_claim_transition(id, CLAIM_DELETED, &deleted, 0);
}

int verify_claim_remove(struct verify_ctx *v, const json_t *made, json_t *done, json_t *left)
{
    const char *id = json_string_value(json_object_get(made, "claimId"));
    if (!id || !json_is_true(json_object_get(made, "verificationClaim")))
        return 0;
    json_t *rec = 0;
    int got = store_claim_get(id, &rec);
    if (got)
        return got == FW_ENOTFOUND ? 0 : got;
    char cert[80] = "", arn[300] = "";
    snprintf(cert, sizeof cert, "%s",
             field(rec, CLAIM_F_CERT_ID) ? field(rec, CLAIM_F_CERT_ID) : "");
    snprintf(arn, sizeof arn, "%s",
             field(rec, CLAIM_F_CERT_ARN) ? field(rec, CLAIM_F_CERT_ARN) : "");
    int rc = cert[0] ? 0 : lost_cert(v, rec, cert, sizeof cert, arn, sizeof arn);
    if (!rc && cert[0])
        rc = delete_cert(v, cert, arn);
    if (rc == 1)
        json_array_append_new(
            left, json_sprintf("the certificate of verification claim %s, %s (%s: %s)", id,
                               cert[0] ? cert : "not found", v->err.code, v->err.message));
    else if (!rc) {
        retire_record(id);
        json_array_append_new(done,
                              json_sprintf("verification claim %s retired%s%s", id,
                                           cert[0] ? ", its certificate deleted: " : "", cert));
    }
    json_decref(rec);
    return rc < 0 ? rc : 0;
}
