/*
 * fuzz_template_check.c - the provisioning template validator
 * (service/domain/template_check.c) on raw text and, when the text parses,
 * on the parsed body.
 */
#include <jansson.h>

#include "fuzz_common.h"
#include "service/domain/template_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_decref(template_check((const char *)data, size));
    json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY, 0);
    if (body)
        json_decref(template_check_json(body));
    json_decref(body);
    return 0;
}
