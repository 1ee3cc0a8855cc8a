/*
 * fuzz_route_watch.c - the body of POST /v1/watch/run (routes/watch.c
 * body_ok, static: reached by including the file).
 */
#include "../../routes/watch.c"

#include "fuzz_common.h"
#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req_state *st = fuzz_req_new(data, size);
    (void)body_ok(&st->req, &st->resp);
    server__req_free(st);
    return 0;
}
