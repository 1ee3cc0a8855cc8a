/*
 * body.c - optional request bodies (see body.h).
 */
#include "routes/body.h"

#include <string.h>

json_t *routes_optional_body(struct http_req *req, struct http_resp *resp)
{
    if (!req->body || req->body_len == 0 || strspn(req->body, " \t\r\n") == req->body_len)
        return json_object();
    json_error_t e;
    json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(o)) {
        http_problem(resp, 400, "Malformed JSON", "the body must be a JSON object");
        json_decref(o);
        return 0;
    }
    return o;
}
