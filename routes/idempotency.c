/*
 * idempotency.c - Idempotency-Key for the creating routes (idempotency.h).
 */
#include "idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/service.h"

#define LEASE_MS 10000 /* a crashed request's key is taken over after this */

static void replay(struct http_resp *resp, const struct store_idem_answer *ans)
{
    http_resp_raw(resp, ans->status, "application/json", ans->body ? ans->body : "", ans->body_len);
    if (ans->location)
        http_resp_header(resp, "Location", ans->location);
}

/* Takes the key or answers. A request that finds the key held by another
 * one running now is answered 409 at once: handlers run on the server's
 * event-loop threads and must not wait (service/http/server.c). */
static int take(struct http_req *req, struct http_resp *resp, const char *candidate_id,
                struct idempotency *ip)
{
    struct store_idem_ref ref = {ip->holder, ip->key, ip->fp};
    struct store_idem_answer ans;
    enum store_idem_state st = STORE_IDEM_BUSY;
    long long ttl_ms = (long long)req->svc->cfg.idem_ttl_s * 1000;
    int rc = store_idem_begin(&ref, candidate_id, ttl_ms, LEASE_MS, &st, ip->id, &ans);
    if (rc)
        http_problem_store(resp, rc);
    else if (st == STORE_IDEM_DONE)
        replay(resp, &ans);
    else if (st == STORE_IDEM_MISMATCH)
        http_problem(resp, 422, 0, "this Idempotency-Key was used for a different request");
    else if (st == STORE_IDEM_BUSY) {
        http_problem(resp, 409, 0,
                     "a request with this Idempotency-Key is still being processed; retry");
        http_resp_header(resp, "Retry-After", "1");
    }
    store_idem_answer_free(&ans);
    ip->held = !rc && (st == STORE_IDEM_NEW || st == STORE_IDEM_RESUMED);
    ip->resumed = ip->held && st == STORE_IDEM_RESUMED;
    return ip->held ? 0 : 1;
}

int idempotency_begin(struct http_req *req, struct http_resp *resp, const char *variant,
                      const char *candidate_id, struct idempotency *ip)
{
    const char *key = http_req_header(req, "Idempotency-Key");
    memset(ip, 0, sizeof *ip);
    snprintf(ip->id, sizeof ip->id, "%s", candidate_id ? candidate_id : "");
    if (!key)
        return 0;
    if (!idem_key_valid(key)) {
        http_problem(resp, 400, 0, "the Idempotency-Key header must be " IDEM_KEY_RULE);
        http_problem_field(resp, "Idempotency-Key", IDEM_KEY_RULE);
        return 1;
    }
    snprintf(ip->key, sizeof ip->key, "%s", key);
    ip->holder = req->token.id;
    idem_fingerprint(req->method, req->path, variant, req->body, req->body ? req->body_len : 0,
                     ip->fp);
    return take(req, resp, candidate_id, ip);
}

/* The answer's body as JSON text (malloc'd), or NULL. */
static char *answer_text(const struct http_resp *resp, size_t *len)
{
    char *s = resp->json ? json_dumps(resp->json, JSON_COMPACT) : 0;
    if (!s && resp->body && !resp->body_secret) {
        s = malloc(resp->body_len + 1);
        if (s) {
            memcpy(s, resp->body, resp->body_len);
            s[resp->body_len] = 0;
        }
    }
    *len = s ? strlen(s) : 0;
    return s;
}

static const char *location_of(const struct http_resp *resp)
{
    for (int i = 0; i < resp->nheaders; i++)
        if (!strcmp(resp->header_names[i], "Location"))
            return resp->header_values[i];
    return 0;
}

void idempotency_end(struct idempotency *ip, const struct http_resp *resp)
{
    if (!ip->held)
        return;
    struct store_idem_ref ref = {ip->holder, ip->key, ip->fp};
    struct store_idem_answer ans = {resp->status, 0, 0, (char *)location_of(resp)};
    enum store_idem_end how = resp->status >= 500   ? STORE_IDEM_RELEASE
                              : resp->status >= 300 ? STORE_IDEM_FORGET
                                                    : STORE_IDEM_KEEP;
    if (how == STORE_IDEM_KEEP)
        ans.body = answer_text(resp, &ans.body_len);
    if (how == STORE_IDEM_KEEP && !ans.body)
        how = STORE_IDEM_RELEASE; /* nothing to replay: let a retry run again */
    int rc = store_idem_end(&ref, how, &ans);
    if (rc)
        log_event(LOG_WARN,
                  "an Idempotency-Key could not be ended; it frees itself when its lease ends",
                  LOG_STR("component", "idempotency"));
    free(ans.body);
    ip->held = 0;
}

void idempotency_run(struct http_req *req, struct http_resp *resp, route_fn *fn)
{
    struct idempotency ip;
    if (idempotency_begin(req, resp, 0, 0, &ip))
        return;
    fn(req, resp);
    idempotency_end(&ip, resp);
}
