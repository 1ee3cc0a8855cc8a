/*
 * fuzz_fleet_spec.c - POST /v1/fleets and PATCH /v1/fleets/{name} bodies
 * (service/domain/fleet_spec.c: fleet_spec_parse, fleet_spec_patch_settings;
 * the PATCH path also runs watch_settings_validate).
 *
 * Input: first byte picks POST (even) or PATCH (odd); the rest is the body.
 * PATCH merges into the settings of a minimal valid fleet.
 */
#include <jansson.h>

#include "fuzz_common.h"
#include "service/domain/fleet_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    json_t *req = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, 0);
    json_t *errors = json_array(), *spec = 0, *settings = 0, *merged = 0;
    if (!json_is_object(req))
        goto cleanup;
    if (data[0] & 1) {
        json_t *base = json_pack("{s:s}", "name", "fuzz-fleet");
        json_t *e2 = json_array();
        if (fleet_spec_parse(base, 0, &spec, &settings, e2) == 0)
            (void)fleet_spec_patch_settings(req, settings, &merged, errors);
        json_decref(base);
        json_decref(e2);
    } else {
        (void)fleet_spec_parse(req, (data[0] & 2) ? "eu-west-1" : 0, &spec, &settings, errors);
    }
cleanup:
    json_decref(merged);
    json_decref(settings);
    json_decref(spec);
    json_decref(errors);
    json_decref(req);
    return 0;
}
