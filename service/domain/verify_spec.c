/*
 * verify_spec.c - the verification request and setting rules (see
 * verify_spec.h). Pure.
 */
#include "service/domain/verify_spec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jobs/schedule.h"
#include "service/core/err.h"
#include "service/core/json_keys.h"
#include "service/domain/fleet_names.h"
#include "service/domain/store_claim.h"

#define PARAM_KEY_MAX 2048   /* RegisterThing: parameter names ... */
#define PARAM_VALUE_MAX 4096 /* ... and values (AWS's bounds) */

static void problem(json_t *errors, const char *field, const char *msg)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

static int thing_name_ok(const char *s)
{
    size_t n = strlen(s), p = strlen(VERIFY_THING_PREFIX);
    return n > p && n <= 128 && !strncmp(s, VERIFY_THING_PREFIX, p) &&
           strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz:_-") == n;
}

static void check_parameters(const json_t *p, const char *field, json_t *errors)
{
    if (!p || json_is_null(p))
        return;
    if (!json_is_object(p) || json_object_size(p) > VERIFY_PARAMS_MAX) {
        problem(errors, field, "must be an object of at most 50 parameters");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v)
    {
        char f[JSON_FIELD_MAX];
        json_field_name(f, field, k);
        if (!k[0] || strlen(k) > PARAM_KEY_MAX)
            problem(errors, field, "parameter names are 1-2048 characters");
        else if (!json_is_string(v) || json_string_length(v) > PARAM_VALUE_MAX ||
                 strlen(json_string_value(v)) != json_string_length(v))
            problem(errors, f, "must be a string of at most 4096 characters");
        else if (!strcmp(k, "ThingName") && !thing_name_ok(json_string_value(v)))
            problem(errors, f,
                    "a verification's thing is named " VERIFY_THING_PREFIX
                    "... (letters, digits, :_-; "
                    "at most 128): the cleanup deletes it");
    }
}

int verify_spec_body(const json_t *body, json_t *errors)
{
    static const char *const allowed[] = {"parameters", "claimId", 0};
    size_t before = json_array_size(errors);
    if (!body || json_is_null(body))
        return 0;
    if (!json_is_object(body)) {
        problem(errors, "", "the body must be a JSON object");
        return FW_EINVAL;
    }
    json_unknown_fields(body, allowed, "", errors);
    check_parameters(json_object_get(body, "parameters"), "parameters", errors);
    const json_t *c = json_object_get(body, "claimId");
    if (c && !json_is_null(c) && !store_claim_id_valid(json_string_value(c)))
        problem(errors, "claimId", "must be a claim id (clm_...)");
    return json_array_size(errors) > before ? FW_EINVAL : 0;
}

static void check_schedule(const json_t *s, json_t *errors)
{
    static const char *const allowed[] = {"dailyAt", "everyHours", 0};
    if (!s || json_is_null(s))
        return;
    if (!json_is_object(s)) {
        problem(errors, "verify.schedule",
                "must be null, {\"dailyAt\": \"HH:MM\"} or {\"everyHours\": N}");
        return;
    }
    json_unknown_fields(s, allowed, "verify.schedule", errors);
    const json_t *d = json_object_get(s, "dailyAt"), *e = json_object_get(s, "everyHours");
    int minute = 0;
    if (!!d == !!e)
        problem(errors, "verify.schedule", "give exactly one of dailyAt and everyHours");
    else if (d && (!json_is_string(d) || schedule_parse_daily(json_string_value(d), &minute)))
        problem(errors, "verify.schedule.dailyAt", "must be HH:MM (UTC), 00:00 to 23:59");
    else if (e && (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 744))
        problem(errors, "verify.schedule.everyHours",
                "must be a whole number of hours from 1 to 744 (31 days)");
}

int verify_spec_settings(const json_t *verify, json_t *errors)
{
    static const char *const allowed[] = {"schedule", "parameters", 0};
    size_t before = json_array_size(errors);
    if (!json_is_object(verify)) {
        problem(errors, "verify", "must be an object");
        return FW_EINVAL;
    }
    json_unknown_fields(verify, allowed, "verify", errors);
    check_schedule(json_object_get(verify, "schedule"), errors);
    check_parameters(json_object_get(verify, "parameters"), "verify.parameters", errors);
    return json_array_size(errors) > before ? FW_EINVAL : 0;
}

int verify_spec_schedule(const json_t *verify, long *every_s, char daily[6])
{
    const json_t *s = json_object_get(verify, "schedule");
    const char *d = json_string_value(json_object_get(s, "dailyAt"));
    json_int_t h = json_integer_value(json_object_get(s, "everyHours"));
    *every_s = 0;
    daily[0] = '\0';
    if (d && strlen(d) == 5)
        memcpy(daily, d, 6);
    else if (h > 0)
        *every_s = (long)h * 3600;
    return daily[0] || *every_s ? 0 : FW_ENOTFOUND;
}

void verify_spec_schedule_name(const char *fleet, char out[VERIFY_SCHEDULE_NAME_MAX])
{
    size_t n = strlen(fleet);
    if (n <= VERIFY_SCHEDULE_NAME_MAX - 1 - 7) {
        snprintf(out, VERIFY_SCHEDULE_NAME_MAX, "verify.%s", fleet);
        return;
    }
    uint32_t h = 2166136261u; /* FNV-1a: only tells long names apart */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)fleet[i]) * 16777619u;
    snprintf(out, VERIFY_SCHEDULE_NAME_MAX, "verify.%.48s.%08x", fleet, (unsigned)h);
}
