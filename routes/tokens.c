/*
 * tokens.c - API token management and the audit trail (admin scope).
 *
 * A new token is shown once, in the POST answer; afterwards only its id,
 * name, scope and times are visible. Deleting the last admin token is
 * refused so an operator cannot lock everyone out by accident (the CLI
 * `fleetwarden token create` remains the way back in); the check and the
 * deletion are one Redis script, so two admins deleting each other at
 * once cannot both succeed.
 */
#include "tokens.h"

#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/json_keys.h"
#include "service/core/mem.h"
#include "service/domain/store.h"

/* Validates {"name","scope"}; 0 or a 400 problem set on resp. */
static int parse_create(json_t *body, struct auth_token *t, struct http_resp *resp)
{
    const char *name = json_string_value(json_object_get(body, "name"));
    json_t *sj = json_object_get(body, "scope");
    const char *scope = sj ? json_string_value(sj) : "read";
    int bad = 0;
    if (!name || !auth_name_valid(name)) {
        http_problem_field(
            resp, "name",
            "required: 1 to 64 characters of letters, digits, space, '.', '_' or '-'");
        bad = 1;
    }
    if (!scope || auth_scope_parse(scope) == SCOPE_NONE) {
        http_problem_field(resp, "scope", "must be one of read, operate, admin");
        bad = 1;
    }
    static const char *const known[] = {"name", "scope", 0};
    const char *unknown[16];
    size_t nu = json_unknown_keys(body, known, unknown, 16);
    for (size_t i = 0; i < nu && i < 16; i++)
        http_problem_field(resp, unknown[i], "unknown field");
    if (bad || nu)
        return FW_EINVAL;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->scope = auth_scope_parse(scope);
    return 0;
}

static void create_token(struct http_req *req, struct http_resp *resp)
{
    struct auth_token t = {0};
    char secret[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_HEX_LEN + 1];
    if (http_req_header(req, "Idempotency-Key")) {
        /* The answer holds the token, which is never stored: it cannot be given again, and a
         * retry would make a second token. Better said than ignored. */
        http_problem(resp, 400, 0,
                     "Idempotency-Key is not supported here: a token is shown once and never "
                     "stored, so a retry makes a second token (delete the one you lost)");
        http_problem_field(resp, "Idempotency-Key", "not supported on POST /v1/tokens");
        return;
    }
    if (parse_create(req->json, &t, resp))
        return;
    if (auth_token_generate(secret, t.id)) {
        http_problem_err(resp, FW_ECRYPTO, "could not generate a token");
        return;
    }
    auth_token_hash(secret, hash);
    int rc = store_token_create(hash, &t);
    if (rc) {
        xwipe(secret, sizeof secret);
        http_problem_store(resp, rc);
        return;
    }
    char href[64];
    snprintf(href, sizeof href, "/v1/tokens/%s", t.id);
    http_resp_json(resp, 201,
                   json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", t.id, "name", t.name, "scope",
                             auth_scope_name(t.scope), "token", secret, "note",
                             "store the token now: it is shown only once"));
    http_resp_header(resp, "Location", href);
    xwipe(secret, sizeof secret);
}

static void list_tokens(struct http_req *req, struct http_resp *resp)
{
    http_list_page(req, resp, store_token_list, 0);
}

static int token_id_valid(const char *id)
{
    if (strlen(id) != AUTH_ID_LEN || strncmp(id, "tok_", 4))
        return 0;
    return strspn(id + 4, "0123456789abcdef") == AUTH_ID_LEN - 4;
}

static void delete_token(struct http_req *req, struct http_resp *resp)
{
    const char *id = http_req_param(req, "id");
    if (!token_id_valid(id)) {
        http_problem(resp, 404, 0, "no token with this id");
        return;
    }
    int rc = store_token_delete(id);
    if (rc == FW_ECONFLICT) {
        http_problem(resp, 409, 0,
                     "this is the last admin token; create another admin token first");
        return;
    }
    if (rc == FW_ENOTFOUND) {
        http_problem(resp, 404, 0, "no token with this id");
        return;
    }
    if (rc) {
        http_problem_store(resp, rc);
        return;
    }
    http_resp_raw(resp, 204, 0, "", 0);
}

static void list_audit(struct http_req *req, struct http_resp *resp)
{
    http_list_page(req, resp, store_audit_list, 0);
}

/* Requests answered 401, sampled (at most one a second per process), apart from the audit trail. */
static void list_authfail(struct http_req *req, struct http_resp *resp)
{
    http_list_page(req, resp, store_authfail_list, 0);
}

static const struct route s_routes[] = {
    {"POST", "/v1/tokens", SCOPE_ADMIN, ROUTE_JSON, create_token},
    {"GET", "/v1/tokens", SCOPE_ADMIN, 0, list_tokens},
    {"DELETE", "/v1/tokens/{id}", SCOPE_ADMIN, 0, delete_token},
    {"GET", "/v1/audit", SCOPE_ADMIN, 0, list_audit},
    {"GET", "/v1/audit/unauthenticated", SCOPE_ADMIN, 0, list_authfail},
};

ROUTE_TABLE(routes_tokens_table, s_routes);
