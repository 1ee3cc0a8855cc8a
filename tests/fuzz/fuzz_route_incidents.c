/*
 * fuzz_route_incidents.c - the optional {"note"} body of POST
 * /v1/incidents/{id}/ack and /resolve (routes/incidents.c parse_note,
 * static: reached by including the file).
 */
#include "../../routes/incidents.c"

#include "fuzz_common.h"
#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req_state *st = fuzz_req_new(data, size);
    const char *note = 0;
    if (!parse_note(&st->req, &st->resp, &note) && note)
        (void)strlen(note);
    server__req_free(st);
    return 0;
}
