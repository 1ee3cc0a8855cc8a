/*
 * fuzz_req.h - a struct http_req as the server builds it, for the targets
 * that drive a route's body validator (which may call http_req_alloc,
 * http_problem* and friends). Only for targets that link service_lib.
 */
#ifndef FW_TESTS_FUZZ_REQ_H
#define FW_TESTS_FUZZ_REQ_H

#include <jansson.h>

#include "service/core/mem.h"
#include "service/http/server_internal.h"

/* A request whose body is data[0..size) (NUL-terminated copy) and whose
 * JSON is parsed the way server_req.c parses it (NULL when not JSON).
 * Free with server__req_free. */
static inline struct req_state *fuzz_req_new(const uint8_t *data, size_t size)
{
    struct req_state *st = xcalloc(1, sizeof *st);
    buf_init(&st->body, size + 1);
    if (size)
        buf_append(&st->body, data, size);
    st->method = "POST";
    st->url = "/";
    st->req.method = st->method;
    st->req.path = st->url;
    st->req.body = st->body.ptr ? st->body.ptr : "";
    st->req.body_len = size;
    st->req.request_id = "fuzz";
    st->req.impl = st;
    json_error_t e;
    st->req.json = json_loadb(st->req.body, size, JSON_REJECT_DUPLICATES, &e);
    return st;
}

#endif
