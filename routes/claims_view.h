/*
 * claims_view.h - the API's JSON view of a claim record and the claim
 * requests' validation (pure: no Redis, no clock), used by routes/claims.c
 * and unit-tested.
 */
#ifndef FW_ROUTES_CLAIMS_VIEW_H
#define FW_ROUTES_CLAIMS_VIEW_H

#include <jansson.h>

#include "service/http/http.h"

/* The claim as the API shows it, from its record fields (a JSON object of
 * strings as store_claim_get gives it): the rows of claim_fields.h in
 * order. New reference; NULL only when the claim's href, cut to its
 * buffer, is not UTF-8. Never contains key material (the record holds
 * none). GET /v1/claims writes the same bytes without the tree
 * (claims_text.c walks the same table; unit-tested against this). */
json_t *claims_view(const json_t *fields);

/* Every record field claims_view reads (CLAIM_SHOWN_NAMES), so a list
 * reads only these (store_claim_list_fields); a unit test holds the two
 * together. */
extern const char *const claims_view_fields[];
extern const size_t claims_view_nfields;

/* A validated POST /v1/fleets/{name}/claims body. Strings borrowed from the body. */
struct claims_create_req {
    const char *key_source;     /* "generated" (default), "csr", "aws" */
    const char *key_type;       /* "ec-p256" (default for generated), "rsa2048" */
    const char *csr;            /* csr only */
    long long expected_devices; /* 0 = not given */
    const char *note;           /* NULL = none */
};

/* Validates body; on failure adds one problem field per error to resp
 * (after setting a 400 problem) and returns FW_EINVAL. The CSR itself is
 * checked by the caller (keys_check_csr). */
int claims_parse_create(json_t *body, struct claims_create_req *out, struct http_resp *resp);

/* Characters (UTF-8 code points) in s. */
size_t claims_utf8_len(const char *s);

#endif
