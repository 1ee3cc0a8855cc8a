/*
 * server_req.c - from a complete request to a queued response.
 *
 * Order of checks, each answering with problem details: body size (413),
 * CORS preflight, route match (404, 405 with Allow), authentication (401),
 * scope (403), JSON body (400 with the parser's line and column), then the
 * handler. Mutating /v1 requests are written to the audit trail whatever
 * their outcome.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "service/http/cors.h"
#include "service/core/err.h"
#include "service/core/json_out.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/http/router.h"
#include "service/http/route.h"
#include "service/http/server_internal.h"
#include "service/core/service.h"

const char *http_req_query(struct http_req *req, const char *name)
{
    struct req_state *st = req->impl;
    return MHD_lookup_connection_value(st->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_header(struct http_req *req, const char *name)
{
    struct req_state *st = req->impl;
    return MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, name);
}

void *http_req_alloc(struct http_req *req, size_t n)
{
    struct req_state *st = req->impl;
    struct arena_block *b = xcalloc(1, sizeof *b + n);
    b->next = st->arena;
    st->arena = b;
    return b->data;
}

void server__client(struct req_state *st)
{
    char peer[CLIENT_ADDR_MAX] = "";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : 0;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, peer, sizeof peer);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, peer, sizeof peer);
    const struct fw_config *c = &st->svc->cfg;
    const char *xff = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "X-Forwarded-For");
    client_addr_resolve(peer, xff, c->trusted_proxies, c->ntrusted_proxies, st->client, sizeof st->client);
    st->req.client_addr = st->client;
}

void server__req_free(struct req_state *st)
{
    if (st->resp.stream_free) /* a stream set up but never sent */
        st->resp.stream_free(st->resp.stream_ud);
    json_decref(st->resp.json);
    http_resp_body_free(&st->resp);
    for (int i = 0; i < st->resp.nheaders; i++)
        free(st->resp.header_values[i]);
    json_decref(st->req.json);
    buf_free(&st->body);
    while (st->arena) {
        struct arena_block *n = st->arena->next;
        free(st->arena);
        st->arena = n;
    }
    free(st);
}

static int is_mutating(const char *m)
{
    return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH") || !strcmp(m, "DELETE");
}

/* Finds the route for path+method; fills allow with the path's methods. */
static const struct route *find_route(const struct http_app *app, const char *path, const char *method,
                                      struct router_match *m, char *allow, size_t allowlen, int *path_known)
{
    size_t ntables = app->ntables;
    const struct route_table *const *tables = app->tables;
    const struct route *found = 0;
    int head = !strcmp(method, "HEAD");
    const char *want = head ? "GET" : method;
    struct router_match tmp;
    *path_known = 0;
    allow[0] = '\0';
    for (size_t t = 0; t < ntables; t++) {
        for (size_t i = 0; i < tables[t]->count; i++) {
            const struct route *r = &tables[t]->routes[i];
            if (!router_match(r->pattern, path, found ? &tmp : m))
                continue;
            *path_known = 1;
            if (!strstr(allow, r->method)) {
                size_t n = strlen(allow);
                snprintf(allow + n, allowlen - n, "%s%s", n ? ", " : "", r->method);
            }
            /* HEAD runs a GET's handler; never one whose GET takes something (ROUTE_NOHEAD) */
            if (!found && !strcmp(r->method, want) && !(head && (r->flags & ROUTE_NOHEAD)))
                found = r;
        }
    }
    return found;
}

static void add_cors(struct req_state *st, struct MHD_Response *r)
{
    const char *origin = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "Origin");
    if (!cors_origin_allowed(&st->svc->cfg, origin))
        return;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(r, "Vary", "Origin");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
}

/* Adapts our stream callbacks to MHD's content-reader signature. */
struct stream_tramp {
    http_stream_fn *fn;
    http_stream_free_fn *free_fn;
    void *ud;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream_tramp *t = cls;
    long n = t->fn(t->ud, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream_tramp *t = cls;
    if (t->free_fn)
        t->free_fn(t->ud);
    free(t);
}

static struct MHD_Response *make_stream(struct http_resp *resp)
{
    struct stream_tramp *t = xcalloc(1, sizeof *t);
    t->fn = resp->stream_fn;
    t->free_fn = resp->stream_free;
    t->ud = resp->stream_ud;
    resp->stream_fn = 0;
    resp->stream_free = 0;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, t, stream_free);
    if (!r)
        stream_free(t);
    return r;
}

/* A secret body's buffer holds a NUL-terminated text (http_resp_secret). */
static void wipe_free(void *body)
{
    xwipe(body, strlen(body));
    free(body);
}

/* A secret body goes to MHD as is (no copy); MHD calls wipe_free when done. */
static struct MHD_Response *make_secret(struct http_resp *resp)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(resp->body_len, resp->body, wipe_free);
    if (r) {
        resp->body = 0; /* MHD owns it now */
        resp->body_len = 0;
        resp->body_secret = 0;
    }
    return r;
}

static struct MHD_Response *make_body(struct req_state *st)
{
    struct http_resp *resp = &st->resp;
    if (resp->stream_fn)
        return make_stream(resp);
    if (resp->body_secret && resp->body)
        return make_secret(resp);
    if (resp->json) {
        if (resp->is_problem)
            json_object_set_new(resp->json, "requestId", json_string(st->request_id));
        size_t n = 2;
        char *s = json_out_compact(resp->json, &n); /* = json_dumps(JSON_COMPACT), faster */
        if (!s) {
            s = xstrdup("{}");
            n = 2;
        }
        return MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
    }
    return MHD_create_response_from_buffer(resp->body_len, resp->body ? resp->body : (char *)"",
                                           MHD_RESPMEM_MUST_COPY);
}

static const char *content_type(const struct http_resp *resp)
{
    if (resp->is_problem)
        return "application/problem+json";
    if (resp->json)
        return "application/json";
    return resp->content_type;
}

/* A handler set more headers than a response holds: a bug, answered 500 (and logged with the
 * header's name) rather than sent without one of them. */
static void refuse_overfull(struct http_resp *resp)
{
    log_event(LOG_ERROR, "a response header was refused: the response holds no more",
              LOG_STR("header", resp->header_refused), LOG_INT("max", HTTP_MAX_HEADERS));
    if (resp->stream_free)
        resp->stream_free(resp->stream_ud);
    resp->stream_fn = 0;
    resp->stream_free = 0;
    resp->stream_ud = 0;
    http_problem(resp, 500, 0, "the response had more headers than the server sends");
}

static int send_resp(struct req_state *st)
{
    struct http_resp *resp = &st->resp;
    if (resp->status == 0)
        http_problem(resp, 500, 0, "the handler produced no response");
    if (resp->header_refused)
        refuse_overfull(resp);
    struct MHD_Response *r = make_body(st);
    if (!r)
        return 0;
    const char *ct = content_type(resp);
    if (ct)
        MHD_add_response_header(r, "Content-Type", ct);
    MHD_add_response_header(r, "X-Request-Id", st->request_id);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    for (int i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->header_names[i], resp->header_values[i]);
    add_cors(st, r);
    if (atomic_load(&st->svc->shutting_down))
        MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ok = MHD_queue_response(st->conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    st->responded = 1;
    return ok == MHD_YES;
}

static int preflight(struct req_state *st, const char *allow)
{
    const char *origin = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "Origin");
    if (!cors_origin_allowed(&st->svc->cfg, origin)) {
        http_problem(&st->resp, 403, 0, "this origin may not call the API (see FLEETWARDEN_CORS_ORIGINS)");
        return send_resp(st);
    }
    http_resp_raw(&st->resp, 204, 0, "", 0);
    http_resp_header(&st->resp, "Access-Control-Allow-Methods", allow);
    http_resp_header(&st->resp, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    http_resp_header(&st->resp, "Access-Control-Max-Age", CORS_MAX_AGE);
    return send_resp(st);
}

/* 0 when the caller may go on; otherwise the problem is already set. */
static int authenticate(struct req_state *st, enum auth_scope need)
{
    struct http_resp *resp = &st->resp;
    const char *tok = auth_bearer(MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "Authorization"));
    if (!tok) {
        http_problem(resp, 401, 0, "send an API token as 'Authorization: Bearer fw_...'");
        http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"fleetwarden\"");
        return FW_EUNAUTH;
    }
    char hash[AUTH_HASH_HEX_LEN + 1];
    auth_token_hash(tok, hash);
    int rc = auth_token_wellformed(tok) ? st->app->token_lookup(hash, &st->req.token) : FW_ENOTFOUND;
    if (rc == FW_ENOTFOUND) {
        http_problem(resp, 401, 0, "the API token is unknown or was deleted");
        http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"fleetwarden\", error=\"invalid_token\"");
        return FW_EUNAUTH;
    }
    if (rc) {
        http_problem(resp, 503, 0, "the token store (Redis) is not reachable; try again shortly");
        http_resp_header(resp, "Retry-After", "1");
        return rc;
    }
    if (st->req.token.scope < need) {
        char d[128];
        snprintf(d, sizeof d, "this needs the '%s' scope; the token has '%s'", auth_scope_name(need),
                 auth_scope_name(st->req.token.scope));
        http_problem(resp, 403, 0, d);
        return FW_EFORBIDDEN;
    }
    return 0;
}

static int media_type_json(const char *ct)
{
    if (!ct)
        return 1;
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    /* curl -d sends application/x-www-form-urlencoded unless told otherwise;
     * operators type that a lot, so it is read as JSON too. */
    return (n == 16 && !strncasecmp(ct, "application/json", 16)) ||
           (n > 5 && !strncasecmp(ct + n - 5, "+json", 5)) ||
           (n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33));
}

static int parse_json_body(struct req_state *st)
{
    struct http_resp *resp = &st->resp;
    if (!media_type_json(MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "Content-Type"))) {
        http_problem(resp, 415, 0, "send the body as application/json");
        return FW_EINVAL;
    }
    json_error_t e;
    st->req.json = json_loadb(st->body.ptr ? st->body.ptr : "", st->body.len, JSON_REJECT_DUPLICATES, &e);
    if (!st->req.json) {
        char d[300];
        snprintf(d, sizeof d, "the body is not valid JSON: line %d, column %d: %s", e.line, e.column, e.text);
        http_problem(resp, 400, "Malformed JSON", d);
        return FW_EBADJSON;
    }
    if (!json_is_object(st->req.json)) {
        http_problem(resp, 400, "Malformed JSON", "the body must be a JSON object");
        return FW_EBADJSON;
    }
    return 0;
}

static void audit(struct req_state *st)
{
    struct http_audit_entry e = {st->req.token.id[0] ? st->req.token.id : 0, st->method, st->url,
                                 st->resp.status, st->request_id, st->client};
    if (st->app->audit_append(&e, st->svc->cfg.audit_max))
        log_msg(LOG_WARN, "audit write failed (redis unavailable)");
}

static void run_route(struct req_state *st, const struct route *r, struct router_match *m)
{
    st->req.method = st->method;
    st->req.path = st->url;
    st->req.nparams = m->nparams;
    for (int i = 0; i < m->nparams; i++) {
        st->req.param_names[i] = m->names[i];
        st->req.param_values[i] = m->values[i];
    }
    st->req.body = st->body.ptr;
    st->req.body_len = st->body.len;
    enum auth_scope need = r->scope;
    if ((r->flags & ROUTE_METRICS) && !st->svc->cfg.metrics_public)
        need = SCOPE_READ;
    if (need != SCOPE_NONE && authenticate(st, need))
        return;
    if ((r->flags & ROUTE_JSON) && parse_json_body(st))
        return;
    r->fn(&st->req, &st->resp);
}

int server__respond(struct req_state *st)
{
    if (st->raw_nul) {
        http_problem(&st->resp, 400, 0, "the request target contains an encoded NUL byte (%00)");
        return send_resp(st);
    }
    if (st->toobig) {
        http_problem(&st->resp, 413, 0, "the request body is larger than 1 MiB");
        return send_resp(st);
    }
    struct router_match *m = http_req_alloc(&st->req, sizeof *m);
    char allow[128];
    int known;
    const struct route *r = find_route(st->app, st->url, st->method, m, allow, sizeof allow, &known);
    int is_options = !strcmp(st->method, "OPTIONS");
    if (known && is_options && MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "Access-Control-Request-Method"))
        return preflight(st, allow);
    if (!known) {
        http_problem(&st->resp, 404, 0, "no such path; see /openapi.json for the API");
        return send_resp(st);
    }
    if (!r) {
        http_resp_header(&st->resp, "Allow", allow);
        if (is_options)
            http_resp_raw(&st->resp, 204, 0, "", 0);
        else
            http_problem(&st->resp, 405, 0, "this method is not allowed here; see the Allow header");
        return send_resp(st);
    }
    st->route = r->pattern;
    run_route(st, r, m);
    if (is_mutating(st->method) && r->scope != SCOPE_NONE && !(r->flags & ROUTE_NOAUDIT))
        audit(st);
    return send_resp(st);
}
