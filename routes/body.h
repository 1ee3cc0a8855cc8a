/*
 * body.h - request bodies the routes share: the optional JSON object of a
 * POST that may come without one.
 */
#ifndef FW_ROUTES_BODY_H
#define FW_ROUTES_BODY_H

#include <jansson.h>

#include "service/http/http.h"

/* The body as a JSON object, {} when there is none (http_req_optional_object). NULL when it is
 * not one JSON object (answered 400 Malformed JSON): the claim and fleet routes then check its
 * members themselves. New reference. */
json_t *routes_optional_body(struct http_req *req, struct http_resp *resp);

#endif
