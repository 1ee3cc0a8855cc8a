/*
 * fuzz_watch_settings.c - a fleet's settings.watch (jobs/handlers/
 * watch_rules.c): watch_settings_validate, then on valid settings the
 * redacted view and the loaded configuration.
 */
#include <jansson.h>

#include "fuzz_common.h"
#include "service/domain/watch_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *watch =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, 0);
    if (!watch)
        return 0;
    json_t *errors = json_array();
    if (watch_settings_validate(watch, errors) == 0) {
        json_decref(watch_settings_redact(watch));
        struct watch_cfg cfg;
        watch_cfg_load(watch, &cfg);
    }
    json_decref(errors);
    json_decref(watch);
    return 0;
}
