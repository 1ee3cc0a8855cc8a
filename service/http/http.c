/*
 * http.c - building responses and RFC 9457 problem details.
 *
 * Problem bodies: {"type","title","status","detail","requestId","errors"}.
 * The server fills requestId when it sends the response, since handlers
 * do not have to know it.
 */
#include "service/http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/mem.h"

void http_resp_body_free(struct http_resp *resp)
{
    if (resp->body && resp->body_secret)
        xwipe(resp->body, resp->body_len);
    free(resp->body);
    resp->body = 0;
    resp->body_len = 0;
    resp->body_secret = 0;
}

static void clear_body(struct http_resp *resp)
{
    json_decref(resp->json);
    resp->json = 0;
    http_resp_body_free(resp);
    resp->is_problem = 0;
}

void http_resp_json(struct http_resp *resp, int status, json_t *body)
{
    clear_body(resp);
    resp->status = status;
    resp->json = body;
}

void http_resp_raw(struct http_resp *resp, int status, const char *content_type, const char *body,
                   size_t len)
{
    clear_body(resp);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = xmalloc(len + 1);
    memcpy(resp->body, body, len);
    resp->body[len] = '\0';
    resp->body_len = len;
}

void http_resp_secret(struct http_resp *resp, int status, const char *content_type, char *body,
                      size_t len)
{
    clear_body(resp);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->body_len = len;
    resp->body_secret = 1;
}

void http_resp_stream(struct http_resp *resp, int status, const char *content_type,
                      http_stream_fn *fn, http_stream_free_fn *free_fn, void *ud)
{
    clear_body(resp);
    resp->status = status;
    resp->content_type = content_type;
    resp->stream_fn = fn;
    resp->stream_free = free_fn;
    resp->stream_ud = ud;
}

int http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    for (int i = 0; i < resp->nheaders; i++) {
        if (!strcasecmp(resp->header_names[i], name)) {
            free(resp->header_values[i]);
            resp->header_values[i] = xstrdup(value);
            return 0;
        }
    }
    if (resp->nheaders == HTTP_MAX_HEADERS) {
        if (!resp->header_refused)
            resp->header_refused = name;
        return FW_ETOOBIG;
    }
    resp->header_names[resp->nheaders] = name;
    resp->header_values[resp->nheaders] = xstrdup(value);
    resp->nheaders++;
    return 0;
}

static const char *status_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

void http_problem(struct http_resp *resp, int status, const char *title, const char *detail)
{
    char type[96];
    snprintf(type, sizeof type, "https://fleetwarden.dev/problems/%d", status);
    json_t *p = json_pack("{s:s, s:s, s:i}", "type", type, "title",
                          title ? title : status_title(status), "status", status);
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    http_resp_json(resp, status, p);
    resp->is_problem = 1;
}

void http_problem_err(struct http_resp *resp, int err, const char *detail)
{
    int status = fw_err_http_status(err);
    http_problem(resp, status, status_title(status), detail ? detail : fw_strerror(err));
}

void http_problem_store(struct http_resp *resp, int err)
{
    if (err == FW_EUNAVAILABLE || err == FW_EREDIS) {
        http_problem(resp, 503, 0, "Redis is not reachable; try again shortly");
        http_resp_header(resp, "Retry-After", "1");
        return;
    }
    http_problem_err(resp, err, 0);
}

void http_problem_field(struct http_resp *resp, const char *field, const char *message)
{
    if (!resp->json)
        http_problem(resp, 400, 0, "the request has invalid fields");
    json_t *errs = json_object_get(resp->json, "errors");
    if (!errs) {
        errs = json_array();
        json_object_set_new(resp->json, "errors", errs);
    }
    json_array_append_new(errs, json_pack("{s:s, s:s}", "field", field, "message", message));
}

json_t *http_req_optional_object(const struct http_req *req)
{
    /* body is NUL-terminated: strspn stops at the end (or at a NUL inside, which is no JSON) */
    if (!req->body || strspn(req->body, " \t\r\n") == req->body_len)
        return json_object();
    json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, 0);
    if (json_is_object(o))
        return o;
    json_decref(o);
    return 0;
}

void http_problem_fields(struct http_resp *resp, const json_t *errors)
{
    http_problem(resp, 400, "Invalid request", "the request has invalid fields; see errors");
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
        http_problem_field(resp, json_string_value(json_object_get(e, "field")),
                           json_string_value(json_object_get(e, "message")));
}

const char *http_req_param(const struct http_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (!strcmp(req->param_names[i], name))
            return req->param_values[i];
    return 0;
}

int http_list_failed(struct http_resp *resp, int rc)
{
    if (rc == FW_EINVAL) {
        http_problem(resp, 400, 0, "the cursor is not one this API returned");
        http_problem_field(resp, "cursor", "invalid cursor");
    } else if (rc) {
        http_problem_store(resp, rc);
    }
    return rc;
}

void http_list_answer(struct http_resp *resp, int rc, json_t *items, char *next)
{
    if (!http_list_failed(resp, rc))
        http_resp_json(resp, 200, json_pack("{s:O, s:s?}", "items", items, "nextCursor", next));
    json_decref(items);
    free(next);
}

void http_list_page(struct http_req *req, struct http_resp *resp, http_list_fn *list,
                    void (*each)(json_t *item, const struct http_req *req))
{
    int limit;
    if (http_req_limit(req, resp, &limit))
        return;
    json_t *items = 0;
    char *next = 0;
    int rc = list(limit, http_req_query(req, "cursor"), &items, &next);
    size_t i;
    json_t *item;
    if (!rc && each)
        json_array_foreach(items, i, item) each(item, req);
    http_list_answer(resp, rc, items, next);
}

int http_req_limit(struct http_req *req, struct http_resp *resp, int *limit)
{
    const char *s = http_req_query(req, "limit");
    *limit = 50;
    if (!s)
        return 0;
    char *end = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 500) {
        http_problem(resp, 400, 0, "limit must be a whole number from 1 to 500");
        http_problem_field(resp, "limit", "must be a whole number from 1 to 500");
        return FW_EINVAL;
    }
    *limit = (int)v;
    return 0;
}
