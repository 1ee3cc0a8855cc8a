/*
 * idempotency.h - Idempotency-Key on every POST that changes something
 * (POST /v1/fleets, /v1/fleets/{name}/claims, /v1/fleets/{name}/reconcile,
 * /v1/fleets/{name}/verify, /v1/templates, /v1/templates/{name}/versions,
 * /v1/watch/run; /v1/claims/{id}/rotate, /disable, /enable;
 * /v1/jobs/{id}/cancel, /retry; /v1/incidents/{id}/ack, /resolve). Not
 * POST /v1/tokens, whose answer holds a secret that is never stored: it
 * refuses the header (400). POST /v1/templates/validate changes nothing.
 *
 * The same key from the same token with the same request (method, path,
 * body bytes) gets the first answer again: status, body and Location, so
 * the same job and resource ids. The same key with another request is a
 * 422. A key out of bounds (idem_key.h) is a 400. While the first request
 * runs, a second one is answered 409 with Retry-After (handlers must not
 * wait on the server's threads). Only a success is kept: a refused request (4xx) frees the
 * key, and one that failed (5xx) lets the next same request resume with
 * the same reserved id (service/domain/store_idem.h).
 */
#ifndef FW_ROUTES_IDEMPOTENCY_H
#define FW_ROUTES_IDEMPOTENCY_H

#include "service/domain/idem_key.h"
#include "service/domain/store_idem.h"
#include "service/http/route.h"

struct idempotency {
    int held;                   /* this request holds a key (end it with idempotency_end) */
    int resumed;                /* an earlier attempt of this very request stopped unanswered */
    char id[STORE_IDEM_ID_MAX]; /* the id for what the request creates: the key's reserved one, else
                                   the candidate ("" if none) */
    char key[IDEM_KEY_MAX + 1];
    char fp[IDEM_FP_HEX + 1];
    const char *holder;
};

/* Looks at the request's Idempotency-Key. 0: go on (with ip->id reserved
 * when the key is held; candidate_id, or NULL, is what to reserve for a
 * new key); else the request was answered here (replay, 400, 409, 422,
 * 503). variant: what besides method, path and body tells requests apart
 * (a query parameter such as "dryRun=true"), or NULL. */
int idempotency_begin(struct http_req *req, struct http_resp *resp, const char *variant,
                      const char *candidate_id, struct idempotency *ip);

/* Keeps the answer of a success (2xx) for replays, frees the key after a
 * refusal (4xx), leaves it to a retry after a failure (5xx). */
void idempotency_end(struct idempotency *ip, const struct http_resp *resp);

/* begin, fn, end: a route that reserves no id. */
void idempotency_run(struct http_req *req, struct http_resp *resp, route_fn *fn);

/* Defines route fn##_once: fn under the request's Idempotency-Key (idempotency_run). */
#define IDEMPOTENCY_ONCE(fn)                                                                       \
    static void fn##_once(struct http_req *req, struct http_resp *resp)                            \
    {                                                                                              \
        idempotency_run(req, resp, fn);                                                            \
    }

#endif
