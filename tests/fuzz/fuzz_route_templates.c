/*
 * fuzz_route_templates.c - the templates routes' body validators
 * (routes/templates.c, included for its statics): POST /v1/templates
 * (create_doc), PATCH (unknown_fields + settings_of), POST .../versions
 * (body_of) and POST /v1/templates/validate (validate).
 *
 * Input: first byte picks the validator; the rest is the request body.
 */
#include "../../routes/templates.c"

#include "fuzz_common.h"
#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0] & 3;
    struct req_state *st = fuzz_req_new(data + 1, size - 1);
    json_t *req = st->req.json, *errors = json_array();
    if (json_is_object(req)) {
        if (sel == 0) {
            json_decref(create_doc(req, errors, "tpl_000000000000000000000000"));
        } else if (sel == 1) {
            static const char *const allowed[] = {"description", "enabled", "provisioningRoleArn",
                                                  "preProvisioningHook", 0};
            json_t *changes = json_object();
            unknown_fields(req, allowed, errors);
            settings_of(req, changes, errors);
            json_decref(changes);
        } else if (sel == 2) {
            json_decref(body_of(req, errors));
        } else {
            validate(&st->req, &st->resp);
        }
        if (json_array_size(errors))
            http_problem_fields(&st->resp, errors);
    }
    json_decref(errors);
    server__req_free(st);
    return 0;
}
