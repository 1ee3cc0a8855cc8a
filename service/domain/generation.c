/*
 * generation.c - is this job for this record, or for an earlier one of the
 * same name? See generation.h.
 */
#include "service/domain/generation.h"

#include <string.h>

int generation_matches(const json_t *payload, const json_t *doc)
{
    const char *want = json_string_value(json_object_get(payload, "uid"));
    const char *have = json_string_value(json_object_get(doc, "uid"));
    if (!have)
        return !want;
    return want && !strcmp(want, have);
}
