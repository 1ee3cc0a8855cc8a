/*
 * fuzz_route_claims.c - the claims routes' body validators: POST
 * /v1/fleets/{name}/claims (claims_parse_create, then the CSR check the
 * route runs), rotate (parse_rotate), disable (parse_disable) and the
 * optional-body reader (routes/body.c). routes/claims.c is included for its
 * statics.
 *
 * Input: first byte picks the validator and the claim's keySource; the
 * rest is the request body.
 */
#include "../../routes/claims.c"

#include "fuzz_common.h"
#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    struct req_state *st = fuzz_req_new(data + 1, size - 1);
    struct http_resp *resp = &st->resp;
    json_t *claim = json_pack("{s:s, s:s, s:s}", "id", "c-fuzz", "state", "active", "keySource",
                              (sel & 4) ? "csr" : "generated");
    struct keys_info ki;
    char why[200];
    switch (sel & 3) {
    case 0:
        if (json_is_object(st->req.json)) {
            struct claims_create_req in;
            if (!claims_parse_create(st->req.json, &in, resp) && in.csr)
                (void)keys_check_csr(in.csr, strlen(in.csr), &ki, why, sizeof why);
        }
        break;
    case 1: {
        json_t *body = routes_optional_body(&st->req, resp);
        long grace;
        const char *csr = 0;
        if (body)
            (void)parse_rotate(body, claim, &grace, &ki, &csr, resp);
        json_decref(body);
        break;
    }
    case 2:
        if (json_is_object(st->req.json)) {
            const char *reason;
            int revoke, replace;
            (void)parse_disable(st->req.json, claim, &reason, &revoke, &replace, resp);
        }
        break;
    default: json_decref(routes_optional_body(&st->req, resp)); break;
    }
    json_decref(claim);
    server__req_free(st);
    return 0;
}
