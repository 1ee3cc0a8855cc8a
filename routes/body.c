/*
 * body.c - optional request bodies (see body.h).
 */
#include "routes/body.h"

json_t *routes_optional_body(struct http_req *req, struct http_resp *resp)
{
    json_t *o = http_req_optional_object(req);
    if (!o)
        http_problem(resp, 400, "Malformed JSON", "the body must be a JSON object");
    return o;
}
