/*
 * fuzz_route_tokens.c - POST /v1/tokens body validation (routes/tokens.c
 * parse_create, static: reached by including the file).
 */
#include "../../routes/tokens.c"

#include "fuzz_common.h"
#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req_state *st = fuzz_req_new(data, size);
    if (json_is_object(st->req.json)) {
        struct auth_token t;
        memset(&t, 0, sizeof t);
        http_problem(&st->resp, 400, "Invalid request", 0);
        (void)parse_create(st->req.json, &t, &st->resp);
    }
    server__req_free(st);
    return 0;
}
