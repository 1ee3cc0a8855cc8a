/*
 * server_req.c - from a complete request to a queued response.
 *
 * Order of checks, each answering with problem details: body size (413),
 * CORS preflight, route match (404, 405 with Allow), authentication (401),
 * rate limits (429 with Retry-After: the client address's and the token's,
 * shared by every process through the store), scope (403), JSON body (400
 * with the parser's line and column), then the handler. Mutating /v1
 * requests of an authenticated caller are written to the audit trail
 * whatever their outcome; a 401 never is (an anonymous flood would push the
 * real entries out of the capped trail): it is counted, and sampled into a
 * separate bounded record (http_app.authfail_record).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "service/http/counts.h"
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
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : 0;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, peer,
                  sizeof peer);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, peer,
                  sizeof peer);
    const struct fw_config *c = &st->svc->cfg;
    const char *xff = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "X-Forwarded-For");
    client_addr_resolve(peer, xff, c->trusted_proxies, c->ntrusted_proxies, st->client,
                        sizeof st->client);
    st->req.client_addr = st->client;
    counts_address_text_key(st->client, st->client_key);
}

void server__req_free(struct req_state *st)
{
    for (int i = 0; i < st->ndone; i++)
        st->done[i].fn(st->done[i].ud);
    if (st->hold) {
        char key[COUNTS_KEY_MAX];
        int kind = st->hold - 1;
        snprintf(key, sizeof key, "%c:%s", kind == HTTP_HOLD_STREAM ? 's' : 'p', st->req.token.id);
        counts_put(st->srv->per_token, key);
        atomic_fetch_sub(&st->srv->holds[kind], 1);
    }
    server__waker_done(st->waker);
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
static const struct route *find_route(const struct http_app *app, const char *path,
                                      const char *method, struct router_match *m, char *allow,
                                      size_t allowlen, int *path_known)
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

/* Adapts our stream callbacks to MHD's content-reader signature. A stream with
 * nothing to send parks its connection (server_park.c) and returns 0: MHD calls the
 * reader again once the connection is resumed. */
struct stream_tramp {
    http_stream_fn *fn;
    http_stream_free_fn *free_fn;
    void *ud;
    struct http_waker *waker; /* own reference */
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream_tramp *t = cls;
    if (server__waker_gone(t->waker))
        return MHD_CONTENT_READER_END_WITH_ERROR; /* the client left while the stream waited */
    long n = t->fn(t->ud, buf, max);
    if (n == HTTP_STREAM_WAIT && t->waker) {
        server__park_stream(t->waker);
        return 0;
    }
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream_tramp *t = cls;
    if (t->free_fn)
        t->free_fn(t->ud);
    http_waker_unref(t->waker);
    free(t);
}

static struct MHD_Response *make_stream(struct req_state *st)
{
    struct http_resp *resp = &st->resp;
    struct stream_tramp *t = xcalloc(1, sizeof *t);
    t->fn = resp->stream_fn;
    t->free_fn = resp->stream_free;
    t->ud = resp->stream_ud;
    t->waker = http_req_waker(&st->req);
    http_waker_ref(t->waker);
    resp->stream_fn = 0;
    resp->stream_free = 0;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, t, stream_free);
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
        return make_stream(st);
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
        http_problem(&st->resp, 403, 0,
                     "this origin may not call the API (see FLEETWARDEN_CORS_ORIGINS)");
        return send_resp(st);
    }
    http_resp_raw(&st->resp, 204, 0, "", 0);
    http_resp_header(&st->resp, "Access-Control-Allow-Methods", allow);
    http_resp_header(&st->resp, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    http_resp_header(&st->resp, "Access-Control-Max-Age", CORS_MAX_AGE);
    return send_resp(st);
}

/* s cut to n - 1 bytes, anything but printable ASCII as '?': what a client sent, fit for a record.
 */
static void printable(char *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
    out[i] = '\0';
}

/* A 401: counted, and at most one a second per process recorded (with how many were
 * left out), so that no amount of anonymous requests can fill Redis. */
static void unauthenticated(struct req_state *st, const char *reason)
{
    struct server *srv = st->srv;
    atomic_fetch_add(&srv->unauthenticated, 1);
    long long now_s = clock_mono_ns() / 1000000000LL, last = atomic_load(&srv->authfail_second);
    if (!st->app->authfail_record || now_s == last ||
        !atomic_compare_exchange_strong(&srv->authfail_second, &last, now_s)) {
        atomic_fetch_add(&srv->authfail_skipped, 1);
        return;
    }
    char path[201], method[17];
    printable(path, sizeof path, st->url);
    printable(method, sizeof method, st->method);
    struct http_authfail a = {st->client,     method, path,
                              st->request_id, reason, atomic_exchange(&srv->authfail_skipped, 0)};
    if (st->app->authfail_record(&a))
        log_msg(LOG_WARN, "could not record an unauthenticated request (redis unavailable)");
}

/* The rate-limit request of st (the token, when found, is filled in later). NULL when no limit
 * applies at all. */
static const struct http_rate *rate_req(struct req_state *st, struct http_rate *r)
{
    const struct fw_config *c = &st->svc->cfg;
    if (!st->app->rate_take || (c->rate_addr_n <= 0 && c->rate_token_n <= 0))
        return 0;
    *r = (struct http_rate){st->client_key, 0, c->rate_addr_n, c->rate_addr_s, c->rate_token_n,
                            c->rate_token_s};
    return r;
}

/* Answers 429 for a full window (by the token's limit or the address's). */
static int answer_429(struct req_state *st, int retry_after, int by_token)
{
    atomic_fetch_add(&st->srv->limited[by_token ? LIMIT_RATE_TOKEN : LIMIT_RATE_ADDRESS], 1);
    http_problem(&st->resp, 429, 0,
                 by_token ? "too many requests with this token; retry after Retry-After seconds"
                          : "too many requests from this address; retry after Retry-After seconds");
    char ra[16];
    snprintf(ra, sizeof ra, "%d", retry_after > 0 ? retry_after : 1);
    http_resp_header(&st->resp, "Retry-After", ra);
    return FW_ETHROTTLED;
}

/* Looks the bearer token up, and when the store can, counts the request in the same step
 * (*counted, *throttled): 0 (st->req.token filled), FW_EUNAUTH with *why (no answer set yet:
 * the rate limits come first), or the store's error after answering 503. */
static int authenticate(struct req_state *st, const char **why, int *counted, int *throttled)
{
    const char *tok =
        auth_bearer(MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "Authorization"));
    *why = "no token";
    if (!tok)
        return FW_EUNAUTH;
    char hash[AUTH_HASH_HEX_LEN + 1];
    auth_token_hash(tok, hash);
    struct http_rate rr;
    const struct http_rate *r = rate_req(st, &rr);
    int ra = 1, by_token = 0, rc = FW_ENOTFOUND;
    if (auth_token_wellformed(tok) && r && st->app->token_lookup_rated) {
        rc = st->app->token_lookup_rated(hash, r, &st->req.token, throttled, &ra, &by_token);
        *counted = rc == 0 || rc == FW_ENOTFOUND;
        if (*counted && *throttled)
            answer_429(st, ra, by_token);
    } else if (auth_token_wellformed(tok)) {
        rc = st->app->token_lookup(hash, &st->req.token);
    }
    *why = "unknown token";
    if (rc == FW_ENOTFOUND)
        return FW_EUNAUTH;
    if (rc) {
        http_problem(&st->resp, 503, 0,
                     "the token store (Redis) is not reachable; try again shortly");
        http_resp_header(&st->resp, "Retry-After", "1");
    }
    return rc;
}

static void answer_401(struct req_state *st, const char *why)
{
    unauthenticated(st, why);
    if (!strcmp(why, "no token")) {
        http_problem(&st->resp, 401, 0, "send an API token as 'Authorization: Bearer fw_...'");
        http_resp_header(&st->resp, "WWW-Authenticate", "Bearer realm=\"fleetwarden\"");
    } else {
        http_problem(&st->resp, 401, 0, "the API token is unknown or was deleted");
        http_resp_header(&st->resp, "WWW-Authenticate",
                         "Bearer realm=\"fleetwarden\", error=\"invalid_token\"");
    }
}

/* The rate limits of the client address and the token (if any): 0, or FW_ETHROTTLED
 * after answering 429 with Retry-After. */
static int rate_limit(struct req_state *st)
{
    struct http_rate rr;
    struct http_rate *r = (struct http_rate *)rate_req(st, &rr);
    int retry_after = 1, by_token = 0;
    if (!r)
        return 0;
    r->token_id = st->req.token.id[0] ? st->req.token.id : 0;
    if (st->app->rate_take(r, &retry_after, &by_token) != FW_ETHROTTLED)
        return 0;
    return answer_429(st, retry_after, by_token);
}

/* Authentication, rate limits, scope: 0 when the handler may run; else answered. */
static int admit(struct req_state *st, enum auth_scope need)
{
    const char *why = 0;
    int counted = 0, throttled = 0;
    int rc = authenticate(st, &why, &counted, &throttled);
    if (rc && rc != FW_EUNAUTH)
        return rc; /* the token store cannot answer: 503 */
    if (throttled)
        return FW_ETHROTTLED; /* answered 429 by the lookup that counted */
    if (!counted && rate_limit(st))
        return FW_ETHROTTLED;
    if (rc) {
        answer_401(st, why);
        return rc;
    }
    if (st->req.token.scope < need) {
        char d[128];
        snprintf(d, sizeof d, "this needs the '%s' scope; the token has '%s'",
                 auth_scope_name(need), auth_scope_name(st->req.token.scope));
        http_problem(&st->resp, 403, 0, d);
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
    st->req.json =
        json_loadb(st->body.ptr ? st->body.ptr : "", st->body.len, JSON_REJECT_DUPLICATES, &e);
    if (!st->req.json) {
        char d[300];
        snprintf(d, sizeof d, "the body is not valid JSON: line %d, column %d: %s", e.line,
                 e.column, e.text);
        http_problem(resp, 400, "Malformed JSON", d);
        return FW_EBADJSON;
    }
    if (!json_is_object(st->req.json)) {
        http_problem(resp, 400, "Malformed JSON", "the body must be a JSON object");
        return FW_EBADJSON;
    }
    return 0;
}

/* 503 (this process is full) or 429 (this token has its share), with Retry-After. */
static int hold_refused(struct req_state *st, struct http_resp *resp, int stream, int by_token)
{
    atomic_fetch_add(&st->srv->limited[stream ? (by_token ? LIMIT_STREAMS_TOKEN : LIMIT_STREAMS)
                                              : (by_token ? LIMIT_POLLS_TOKEN : LIMIT_POLLS)],
                     1);
    const char *what = stream ? "event streams open" : "long polls waiting";
    char d[160];
    if (by_token)
        snprintf(
            d, sizeof d,
            "this token has as many %s as it may (FLEETWARDEN_MAX_%s_PER_TOKEN); close one first",
            what, stream ? "STREAMS" : "LONG_POLLS");
    else
        snprintf(d, sizeof d,
                 "this instance has as many %s as it takes; retry after Retry-After seconds", what);
    http_problem(resp, by_token ? 429 : 503, 0, d);
    http_resp_header(resp, "Retry-After", by_token ? "10" : "5");
    return FW_ETHROTTLED;
}

int http_req_hold(struct http_req *req, struct http_resp *resp, enum http_hold kind)
{
    struct req_state *st = req->impl;
    struct server *srv = st->srv;
    const struct fw_config *c = &st->svc->cfg;
    int stream = kind == HTTP_HOLD_STREAM;
    int total = stream ? c->max_streams : c->max_polls,
        per = stream ? c->max_streams_token : c->max_polls_token;
    char key[COUNTS_KEY_MAX];
    snprintf(key, sizeof key, "%c:%s", stream ? 's' : 'p', req->token.id);
    if (st->hold)
        return 0;
    if (!counts_take(srv->per_token, key, per)) /* per 0: only the process's limit */
        return hold_refused(st, resp, stream, 1);
    if (atomic_fetch_add(&srv->holds[kind], 1) >= total) {
        atomic_fetch_sub(&srv->holds[kind], 1);
        counts_put(srv->per_token, key);
        return hold_refused(st, resp, stream, 0);
    }
    st->hold = (int)kind + 1;
    return 0;
}

static void audit(struct req_state *st)
{
    struct http_audit_entry e = {st->req.token.id[0] ? st->req.token.id : 0,
                                 st->method,
                                 st->url,
                                 st->resp.status,
                                 st->request_id,
                                 st->client};
    if (st->app->audit_append(&e, st->svc->cfg.audit_max))
        log_msg(LOG_WARN, "audit write failed (redis unavailable)");
}

static void run_route(struct req_state *st, const struct route *r, struct router_match *m)
{
    st->audited = (is_mutating(st->method) || (r->flags & ROUTE_AUDIT)) && r->scope != SCOPE_NONE &&
                  !(r->flags & ROUTE_NOAUDIT);
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
    if (need != SCOPE_NONE && admit(st, need))
        return;
    if ((r->flags & ROUTE_JSON) && parse_json_body(st))
        return;
    r->fn(&st->req, &st->resp);
}

/* The handler has answered, or parked the request. Only an authenticated caller's
 * mutations are audited (a 429 means nothing was done: counted in /metrics instead). */
static int finish(struct req_state *st)
{
    if (st->park_fn) {
        server__park(st); /* not suspended when a wake came first: MHD calls us again at once */
        return 1;
    }
    if (st->audited && st->req.token.id[0] && st->resp.status != 429)
        audit(st);
    return send_resp(st);
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
    const struct route *r =
        find_route(st->app, st->url, st->method, m, allow, sizeof allow, &known);
    int is_options = !strcmp(st->method, "OPTIONS");
    if (known && is_options &&
        MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "Access-Control-Request-Method"))
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
            http_problem(&st->resp, 405, 0,
                         "this method is not allowed here; see the Allow header");
        return send_resp(st);
    }
    st->route = r->pattern;
    run_route(st, r, m);
    return finish(st);
}

int server__resume(struct req_state *st)
{
    http_park_fn *fn = st->park_fn;
    st->park_fn = 0;
    fn(&st->req, &st->resp, st->park_ud);
    return finish(st);
}
