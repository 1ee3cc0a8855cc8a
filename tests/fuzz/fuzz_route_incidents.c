/*
 * fuzz_route_incidents.c - the optional {"note"} body of POST
 * /v1/incidents/{id}/ack and /resolve (routes/incidents.c note_body, static:
 * reached by including the file; it reads the body with http_req_optional_object).
 */
#include "../../routes/incidents.c"

#include "fuzz_common.h"
#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req_state *st = fuzz_req_new(data, size);
    json_t *body = note_body(&st->req, &st->resp);
    const char *note = json_string_value(json_object_get(body, "note"));
    if (note)
        (void)strlen(note);
    json_decref(body);
    server__req_free(st);
    return 0;
}
