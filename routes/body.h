/*
 * body.h - request bodies the routes share: the optional JSON object of a
 * POST that may come without one.
 */
#ifndef FW_ROUTES_BODY_H
#define FW_ROUTES_BODY_H

#include <jansson.h>

#include "service/http/http.h"

/* The body as a JSON object, {} when empty or blank. NULL when it is not a
 * JSON object (answered 400). New reference. */
json_t *routes_optional_body(struct http_req *req, struct http_resp *resp);

#endif
