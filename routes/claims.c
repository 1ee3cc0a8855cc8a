/*
 * claims.c - the claim certificate routes.
 *
 * Routes validate, read or write the claim record (service/domain/store_claim.h)
 * and enqueue jobs (service/domain/claims.h); they never call AWS. Each
 * change answers 202 with the job and the claim as it is now.
 *
 * The bundle (GET /v1/claims/{id}/bundle) is the one place a private key
 * leaves the service: the sealed key is read and decrypted first, then
 * taken and erased from Redis in the same Lua script that marks the claim
 * downloaded (only if it is still the key that was read), so of two
 * concurrent downloads exactly one gets it and the other gets 410 Gone, and
 * a key that does not decrypt stays. The plain key lives only in two
 * wiped buffers: the decrypted PEM and the response text (sent without a
 * copy, wiped once sent: http_resp_secret). HEAD is 405 (ROUTE_NOHEAD). Everything the
 * bundle needs besides the key (certificate, fleet config, root CA) is read
 * before the key is taken, so a failure there costs nothing. The answer
 * carries Cache-Control: no-store (as every answer), and every download attempt is audited
 * (the server audits only mutating requests).
 *
 * Amazon Root CA 1 comes from FLEETWARDEN_ROOT_CA_FILE, by default the
 * Debian ca-certificates copy (/usr/share/ca-certificates/mozilla/
 * Amazon_Root_CA_1.crt), read once on first use.
 */
#include "claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accepted.h"
#include "claims_text.h"
#include "routes/body.h"
#include "claims_view.h"
#include "greengrass.h"
#include "idempotency.h"
#include "service/domain/claims.h"
#include "service/domain/claim_fields.h"
#include "jobs/job.h"
#include "service/core/buf.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/json_keys.h"
#include "service/core/json_out.h"
#include "service/domain/keys.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/domain/seal.h"
#include "service/core/service.h"
#include "service/domain/store.h"
#include "service/domain/store_claim.h"
#include "service/domain/store_fleet.h"

static void no_claim(struct http_resp *resp)
{
    http_problem(resp, 404, 0, "no claim with this id");
}

/* {"job": {...}, "claim": view} with 202 and Location of the job. */
static void accepted(struct http_resp *resp, const char *job_id, const char *claim_id,
                     const char *extra_name, const char *extra_id)
{
    json_t *f = 0;
    int rc = store_claim_get(claim_id, &f);
    if (rc) {
        /* The job is queued but the claim cannot be read back (Redis went away): 503, so the
         * client retries (with its Idempotency-Key, the retry replays this answer in full). */
        http_problem_store(resp, rc);
        return;
    }
    json_t *members = json_object();
    json_object_set_new(members, "claim", claims_view(f));
    json_decref(f);
    if (extra_name && extra_id && !store_claim_get(extra_id, &f)) {
        json_object_set_new(members, extra_name, claims_view(f));
        json_decref(f);
    }
    routes_accepted(resp, job_id, members);
}

/* Loads the claim named by {id}; answers 404/503 itself when it fails. */
static json_t *load_claim(struct http_req *req, struct http_resp *resp)
{
    const char *id = http_req_param(req, "id");
    json_t *f = 0;
    if (!store_claim_id_valid(id)) {
        no_claim(resp);
        return 0;
    }
    int rc = store_claim_get(id, &f);
    if (rc == FW_ENOTFOUND)
        no_claim(resp);
    else if (rc)
        http_problem_store(resp, rc);
    return rc ? 0 : f;
}

static const char *fstr(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* A fleet verification's own claim is never handed out or
 * rotated: answered 409 and 1 for one. */
static int verification_claim(const json_t *claim, struct http_resp *resp, const char *what)
{
    const char *p = claim_field_str(claim, CLAIM_F_PURPOSE);
    if (!p || strcmp(p, "verification"))
        return 0;
    char d[200];
    snprintf(d, sizeof d,
             "this is a fleet verification's own claim: it is never %s, and it is retired when the "
             "verification ends",
             what);
    http_problem(resp, 409, 0, d);
    return 1;
}

/* ---- POST /v1/fleets/{name}/claims ---- */

/* 1 (answered 409) when fleet is being deleted: a claim made or made active now would outlive
 * it with an ACTIVE certificate (the teardown has counted its claims already). what: "made",
 * "rotated", ... */
static int fleet_deleting(const json_t *fleet, struct http_resp *resp, const char *what)
{
    const char *st = fstr(fleet, "state");
    if (!st || strcmp(st, "deleting"))
        return 0;
    char d[200];
    snprintf(d, sizeof d, "the fleet is being deleted (state deleting): no claim of it can be %s",
             what);
    http_problem(resp, 409, 0, d);
    return 1;
}

/* The fleet must exist, not be being deleted and have its claim policy. 0 or answered. */
static int fleet_ready(const char *name, struct http_resp *resp)
{
    json_t *fleet = 0;
    int rc = store_fleet_get(name, &fleet);
    if (rc == FW_ENOTFOUND) {
        http_problem(resp, 404, 0, "no fleet with this name");
        return rc;
    }
    if (rc) {
        http_problem_store(resp, rc);
        return rc;
    }
    json_t *pol = json_object_get(json_object_get(fleet, "resources"), "claimPolicy");
    if (fleet_deleting(fleet, resp, "made"))
        rc = FW_ECONFLICT;
    else if (!fstr(pol, "name")) {
        http_problem(resp, 409, 0,
                     "the fleet has no claim policy yet: wait until its setup job has made it");
        rc = FW_ECONFLICT;
    }
    json_decref(fleet);
    return rc;
}

/* 0 unless the claim's fleet is being deleted (answered 409) or cannot be read (answered 503). A
 * claim whose fleet is gone is left to its job. */
static int claim_fleet_deleting(const json_t *claim, struct http_resp *resp, const char *what)
{
    json_t *fleet = 0;
    int rc = store_fleet_get(claim_field_str(claim, CLAIM_F_FLEET), &fleet);
    if (rc && rc != FW_ENOTFOUND) {
        http_problem_store(resp, rc);
        return rc;
    }
    rc = fleet && fleet_deleting(fleet, resp, what) ? FW_ECONFLICT : 0;
    json_decref(fleet);
    return rc;
}

/* An earlier attempt of this request (its Idempotency-Key, resumed) made
 * claim id and its job: answer as the first time. 1 when answered. */
static int replay(struct http_resp *resp, const char *id)
{
    json_t *f = 0;
    if (store_claim_get(id, &f))
        return 0;
    const char *job = claim_field_str(f, CLAIM_F_JOB);
    if (job)
        accepted(resp, job, id, 0, 0);
    json_decref(f);
    return job != 0;
}

/* Creates the claim; under an Idempotency-Key with the id the key reserved. */
static void issue(struct http_resp *resp, const struct claims_create_req *in,
                  const struct keys_info *ki, const char *fleet, const struct idempotency *ip)
{
    char cid[CLAIM_ID_MAX], jid[JOB_ID_MAX];
    struct claims_create_opts o = {.fleet = fleet,
                                   .key_source = in->key_source,
                                   .key_type = in->key_type,
                                   .csr = in->csr,
                                   .csr_fp = in->csr ? ki->fp : 0,
                                   .csr_key_type = in->csr ? ki->type : 0,
                                   .expected_devices = in->expected_devices,
                                   .note = in->note,
                                   .preset_id = ip->held ? ip->id : 0};
    /* When an earlier attempt of this request (its Idempotency-Key) made the claim, this finishes
     * that attempt: the same claim, the same creation job (service/domain/claims.c). */
    int rc = claims_enqueue_create_ex(&o, cid, jid, sizeof jid);
    if (rc == FW_ECONFLICT)
        http_problem(resp, 409, 0,
                     "the claim an earlier attempt of this request made is gone (deleted); "
                     "send the request with a new Idempotency-Key");
    else if (rc)
        http_problem_store(resp, rc);
    else
        accepted(resp, jid, cid, 0, 0);
}

static void create_claim(struct http_req *req, struct http_resp *resp)
{
    const char *fleet = http_req_param(req, "name");
    struct claims_create_req in;
    struct keys_info ki;
    struct idempotency ip;
    char why[200], candidate[CLAIM_ID_MAX];
    if (claims_parse_create(req->json, &in, resp))
        return;
    if (in.csr && keys_check_csr(in.csr, strlen(in.csr), &ki, why, sizeof why)) {
        http_problem(resp, 400, "Invalid claim request", "the CSR is not acceptable");
        http_problem_field(resp, "csr", why);
        return;
    }
    if (fleet_ready(fleet, resp))
        return;
    if (store_claim_id_new(candidate)) {
        http_problem_err(resp, FW_ECRYPTO, "could not make the claim's id");
        return;
    }
    if (idempotency_begin(req, resp, 0, candidate, &ip))
        return;
    if (!ip.resumed || !replay(resp, ip.id))
        issue(resp, &in, &ki, fleet, &ip);
    idempotency_end(&ip, resp);
}

/* ---- GET /v1/claims, GET /v1/claims/{id} ---- */

/* {"items": [...], "nextCursor": string|null}, written as text (claims_text.h). */
static void send_list(struct http_resp *resp, const json_t *items, const char *next)
{
    struct buf body;
    buf_init(&body, (size_t)1 << 30);
    int rc = buf_puts(&body, "{\"items\":");
    rc = rc ? rc : claims_list_text(items, &body);
    rc = rc ? rc : buf_puts(&body, ",\"nextCursor\":");
    rc = rc ? rc : next ? json_out_string(&body, next, strlen(next)) : buf_puts(&body, "null");
    rc = rc ? rc : buf_puts(&body, "}");
    if (rc)
        http_problem_err(resp, FW_EINTERNAL, "the claims page could not be written");
    else
        http_resp_raw(resp, 200, "application/json", body.ptr, body.len);
    buf_free(&body);
}

static void list_claims(struct http_req *req, struct http_resp *resp)
{
    int limit;
    const char *fleet = http_req_query(req, "fleet"), *state = http_req_query(req, "state");
    if (http_req_limit(req, resp, &limit))
        return;
    if (state && store_claim_state_parse(state) < 0) {
        http_problem(resp, 400, 0, "unknown claim state");
        http_problem_field(
            resp, "state",
            "must be one of creating, active, rotating, inactive, revoked, deleted, failed");
        return;
    }
    json_t *items = 0;
    char *next = 0;
    int rc = store_claim_list_fields(fleet && fleet[0] ? fleet : 0, state, limit,
                                     http_req_query(req, "cursor"), claims_view_fields,
                                     claims_view_nfields, &items, &next);
    if (!http_list_failed(resp, rc))
        send_list(resp, items, next);
    json_decref(items);
    free(next);
}

static void get_claim(struct http_req *req, struct http_resp *resp)
{
    json_t *f = load_claim(req, resp);
    if (!f)
        return;
    http_resp_json(resp, 200, claims_view(f));
    json_decref(f);
}

/* ---- GET /v1/claims/{id}/bundle ---- */

/* The parts of the bundle that are not the key; NULL with resp set. The
 * config names the IoT ports of cfg (AWS's unless set otherwise). */
static json_t *bundle_base(const json_t *claim, const struct fw_config *cfg, struct http_resp *resp)
{
    json_t *fleet = 0;
    int rc = store_fleet_get(claim_field_str(claim, CLAIM_F_FLEET), &fleet);
    if (rc && rc != FW_ENOTFOUND) {
        http_problem_store(resp, rc);
        return 0;
    }
    struct greengrass_paths paths = {.mqtt_port = cfg->iot_mqtt_port,
                                     .credentials_port = cfg->iot_credentials_port};
    char *yaml = fleet ? greengrass_config_yaml(fleet, &paths) : 0;
    json_t *b = json_pack(
        "{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}", "claimId", claim_field_str(claim, CLAIM_F_ID),
        "certificateId", claim_field_str(claim, CLAIM_F_CERT_ID), "certificateArn",
        claim_field_str(claim, CLAIM_F_CERT_ARN), "certificatePem",
        claim_field_str(claim, CLAIM_F_CERT_PEM), "rootCaPem", cfg->root_ca_pem, "greengrassConfig",
        yaml, "perDevice", yaml ? greengrass_per_device(fleet, &paths) : json_array());
    free(yaml);
    json_decref(fleet);
    return b;
}

/* The bundle's text: base (no secret in it) with "privateKeyPem" (pem,
 * or null) added last, written into one buffer sized up front. Built as
 * text, the key never sits in a JSON string, and the buffer is never
 * reallocated (a realloc would leave an unwiped copy of the key behind).
 * NULL on failure. */
static char *bundle_text(const json_t *base, const unsigned char *pem, size_t n, size_t *len)
{
    size_t blen = 0;
    char *head = json_out_compact(base, &blen);
    if (!head || blen < 2) {
        free(head);
        return 0;
    }
    struct buf out;
    size_t need = blen + 32 + (pem ? 6 * n + 2 : 4);
    buf_init(&out, need + 1);
    int rc = buf_reserve(&out, need);
    rc = rc ? rc : buf_append(&out, head, blen - 1); /* without its closing brace */
    rc = rc ? rc : buf_puts(&out, blen > 2 ? ",\"privateKeyPem\":" : "\"privateKeyPem\":");
    rc = rc ? rc : pem ? json_out_string(&out, (const char *)pem, n) : buf_puts(&out, "null");
    rc = rc ? rc : buf_puts(&out, "}");
    free(head);
    if (rc) {
        buf_free_secure(&out);
        return 0;
    }
    *len = out.len;
    return buf_steal(&out);
}

/* Opens the sealed key (NULL: the claim holds none). 0, or answered 500:
 * nothing has been taken yet, so the key stays for a download with the
 * right key-encryption key. */
static int open_key(const char *id, const char *sealed, unsigned char **pem, size_t *n,
                    struct http_resp *resp)
{
    *pem = 0;
    *n = 0;
    int rc = sealed ? seal_kek_decrypt(sealed, id, pem, n) : 0;
    if (!rc)
        return 0;
    if (rc == FW_EUNAVAILABLE) { /* the KEK is not yet confirmed against Redis (seal.h) */
        http_problem_store(resp, rc);
        return rc;
    }
    http_problem(resp, 500, 0,
                 "the sealed private key does not open with this service's key-encryption key");
    return FW_ECRYPTO;
}

static int answer_take_error(struct http_resp *resp, int rc, const char *why)
{
    if (rc == FW_EGONE || rc == FW_ECONFLICT)
        http_problem(resp, rc == FW_EGONE ? 410 : 409, 0, why);
    else
        http_problem_store(resp, rc);
    return rc;
}

/* Peeks at the sealed key, opens it, and only then takes it:
 * a key that does not decrypt is never lost. Answers 200 with the bundle
 * (base plus the key) as a secret body, or the error. 0 or the error. */
static int send_bundle(const char *id, const json_t *base, struct http_resp *resp)
{
    char *sealed = 0, why[200];
    unsigned char *pem = 0;
    size_t n = 0, len = 0;
    int rc = store_claim_bundle_peek(id, &sealed, why, sizeof why);
    if (rc)
        return answer_take_error(resp, rc, why);
    rc = open_key(id, sealed, &pem, &n, resp);
    if (!rc && (rc = store_claim_bundle_take(id, sealed, why, sizeof why)) != 0)
        answer_take_error(resp, rc, why);
    char *text = rc ? 0 : bundle_text(base, pem, n, &len);
    if (!rc && !text) {
        http_problem(resp, 500, 0, "the bundle could not be written");
        rc = FW_EINTERNAL;
    }
    if (text)
        http_resp_secret(resp, 200, "application/json", text, len);
    if (pem)
        xwipe(pem, n);
    free(pem);
    free(sealed);
    return rc;
}

static void get_bundle(struct http_req *req, struct http_resp *resp)
{
    json_t *claim = load_claim(req, resp);
    json_t *b = claim && !verification_claim(claim, resp, "handed out")
                    ? bundle_base(claim, &req->svc->cfg, resp)
                    : 0;
    if (b && !send_bundle(claim_field_str(claim, CLAIM_F_ID), b, resp)) {
        log_event(LOG_INFO, "claim bundle downloaded",
                  LOG_STR("claim", claim_field_str(claim, CLAIM_F_ID)),
                  LOG_STR("requestId", req->request_id));
    }
    /* The server sends Cache-Control: no-store on every answer (server_req.c). */
    json_decref(b);
    json_decref(claim);
}

/* ---- rotate, disable, enable, delete ---- */

static int only_fields(json_t *body, const char *const *allowed, struct http_resp *resp)
{
    const char *unknown[16];
    size_t n = json_unknown_keys(body, allowed, unknown, 16);
    if (n)
        http_problem(resp, 400, "Invalid request", "the request body has invalid fields");
    for (size_t i = 0; i < n && i < 16; i++)
        http_problem_field(resp, unknown[i], "unknown field");
    return n > 0;
}

static void field_problem(struct http_resp *resp, const char *field, const char *msg)
{
    http_problem(resp, 400, "Invalid request", "the request body has invalid fields");
    http_problem_field(resp, field, msg);
}

/* Validates rotate's {graceSeconds, csr}; 0 or answered. */
static int parse_rotate(json_t *body, const json_t *claim, long *grace, struct keys_info *ki,
                        const char **csr, struct http_resp *resp)
{
    static const char *const allowed[] = {"graceSeconds", "csr", 0};
    char why[200];
    if (only_fields(body, allowed, resp))
        return FW_EINVAL;
    json_t *g = json_object_get(body, "graceSeconds");
    *grace = -1;
    if (g &&
        (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 30L * 86400)) {
        field_problem(resp, "graceSeconds", "must be an integer from 0 to 2592000 (30 days)");
        return FW_EINVAL;
    }
    if (g)
        *grace = (long)json_integer_value(g);
    *csr = fstr(body, "csr");
    const char *ks = claim_field_str(claim, CLAIM_F_KEY_SOURCE);
    int is_csr = !strcmp(ks ? ks : "", "csr");
    if (is_csr && !*csr) {
        field_problem(
            resp, "csr",
            "required: this claim's key is kept by its owner, so its successor needs a new CSR");
        return FW_EINVAL;
    }
    if (!is_csr && json_object_get(body, "csr")) {
        field_problem(resp, "csr", "only allowed for claims with keySource csr");
        return FW_EINVAL;
    }
    if (*csr && keys_check_csr(*csr, strlen(*csr), ki, why, sizeof why)) {
        field_problem(resp, "csr", why);
        return FW_EINVAL;
    }
    return 0;
}

static void conflict_state(struct http_resp *resp, const json_t *claim, const char *what)
{
    char d[200];
    const char *st = claim_field_str(claim, CLAIM_F_STATE);
    snprintf(d, sizeof d, "a claim in state %s cannot be %s", st ? st : "?", what);
    http_problem(resp, 409, 0, d);
}

static void rotate_claim(struct http_req *req, struct http_resp *resp)
{
    json_t *claim = load_claim(req, resp);
    json_t *body = claim && !verification_claim(claim, resp, "rotated") &&
                           !claim_fleet_deleting(claim, resp, "rotated")
                       ? routes_optional_body(req, resp)
                       : 0;
    struct keys_info ki;
    long grace;
    const char *csr = 0;
    char succ[CLAIM_ID_MAX], jid[JOB_ID_MAX];
    if (body && !parse_rotate(body, claim, &grace, &ki, &csr, resp)) {
        int rc =
            claims_enqueue_rotate(claim_field_str(claim, CLAIM_F_ID), grace, csr, csr ? ki.fp : 0,
                                  csr ? ki.type : 0, 0, succ, jid, sizeof jid);
        if (rc == FW_ECONFLICT)
            conflict_state(resp, claim, "rotated (only active claims rotate)");
        else if (rc)
            http_problem_store(resp, rc);
        else
            accepted(resp, jid, claim_field_str(claim, CLAIM_F_ID), "successor", succ);
    }
    json_decref(body);
    json_decref(claim);
}

/* Validates disable's {reason, revoke, replace}; 0 or answered. */
static int parse_disable(json_t *body, const json_t *claim, const char **reason, int *revoke,
                         int *replace, struct http_resp *resp)
{
    static const char *const allowed[] = {"reason", "revoke", "replace", 0};
    if (only_fields(body, allowed, resp))
        return FW_EINVAL;
    json_t *r = json_object_get(body, "reason"), *rv = json_object_get(body, "revoke"),
           *rp = json_object_get(body, "replace");
    *reason = json_string_value(r);
    if (!*reason || !(*reason)[0] || claims_utf8_len(*reason) > 500) {
        field_problem(resp, "reason", "required: why the claim is disabled, 1 to 500 characters");
        return FW_EINVAL;
    }
    if ((rv && !json_is_boolean(rv)) || (rp && !json_is_boolean(rp))) {
        field_problem(resp, rv && !json_is_boolean(rv) ? "revoke" : "replace",
                      "must be true or false");
        return FW_EINVAL;
    }
    *revoke = json_is_true(rv);
    *replace = json_is_true(rp);
    const char *ks = claim_field_str(claim, CLAIM_F_KEY_SOURCE);
    if (*replace && ks && !strcmp(ks, "csr")) {
        field_problem(resp, "replace",
                      "not possible for keySource csr: create a new claim with a new CSR");
        return FW_EINVAL;
    }
    return 0;
}

static void disable_claim(struct http_req *req, struct http_resp *resp)
{
    json_t *claim = load_claim(req, resp);
    const char *reason;
    int revoke, replace;
    char jid[JOB_ID_MAX];
    if (claim && !parse_disable(req->json, claim, &reason, &revoke, &replace, resp) &&
        !(replace && claim_fleet_deleting(claim, resp, "replaced"))) {
        int rc = claims_enqueue_disable(claim_field_str(claim, CLAIM_F_ID), reason, revoke, replace,
                                        jid, sizeof jid);
        if (rc == FW_ECONFLICT)
            conflict_state(resp, claim, revoke ? "revoked" : "disabled");
        else if (rc)
            http_problem_store(resp, rc);
        else
            accepted(resp, jid, claim_field_str(claim, CLAIM_F_ID), 0, 0);
    }
    json_decref(claim);
}

static void enable_claim(struct http_req *req, struct http_resp *resp)
{
    json_t *claim = load_claim(req, resp);
    json_t *body = claim && !claim_fleet_deleting(claim, resp, "enabled")
                       ? routes_optional_body(req, resp)
                       : 0;
    static const char *const allowed[] = {0};
    char jid[JOB_ID_MAX];
    if (body && !only_fields(body, allowed, resp)) {
        int rc = claims_enqueue_enable(claim_field_str(claim, CLAIM_F_ID), jid, sizeof jid);
        const char *st = claim_field_str(claim, CLAIM_F_STATE);
        if (rc == FW_ECONFLICT && st && !strcmp(st, "revoked"))
            http_problem(resp, 409, 0, "the claim is revoked: revocation is final");
        else if (rc == FW_ECONFLICT)
            conflict_state(resp, claim, "enabled (only inactive claims)");
        else if (rc)
            http_problem_store(resp, rc);
        else
            accepted(resp, jid, claim_field_str(claim, CLAIM_F_ID), 0, 0);
    }
    json_decref(body);
    json_decref(claim);
}

static void delete_claim(struct http_req *req, struct http_resp *resp)
{
    json_t *claim = load_claim(req, resp);
    char jid[JOB_ID_MAX];
    if (claim) {
        int rc = claims_enqueue_delete(claim_field_str(claim, CLAIM_F_ID), 0, jid, sizeof jid);
        if (rc == FW_ECONFLICT)
            conflict_state(resp, claim, "deleted yet (wait for its creation to finish)");
        else if (rc)
            http_problem_store(resp, rc);
        else
            accepted(resp, jid, claim_field_str(claim, CLAIM_F_ID), 0, 0);
    }
    json_decref(claim);
}

IDEMPOTENCY_ONCE(rotate_claim)
IDEMPOTENCY_ONCE(disable_claim)
IDEMPOTENCY_ONCE(enable_claim)

static const struct route s_routes[] = {
    {"POST", "/v1/fleets/{name}/claims", SCOPE_OPERATE, ROUTE_JSON, create_claim},
    {"GET", "/v1/claims", SCOPE_READ, 0, list_claims},
    {"GET", "/v1/claims/{id}", SCOPE_READ, 0, get_claim},
    {"DELETE", "/v1/claims/{id}", SCOPE_OPERATE, 0, delete_claim},
    {"GET", "/v1/claims/{id}/bundle", SCOPE_OPERATE, ROUTE_NOHEAD | ROUTE_AUDIT, get_bundle},
    {"POST", "/v1/claims/{id}/rotate", SCOPE_OPERATE, 0, rotate_claim_once},
    {"POST", "/v1/claims/{id}/disable", SCOPE_OPERATE, ROUTE_JSON, disable_claim_once},
    {"POST", "/v1/claims/{id}/enable", SCOPE_OPERATE, 0, enable_claim_once},
};

ROUTE_TABLE(routes_claims_table, s_routes);
