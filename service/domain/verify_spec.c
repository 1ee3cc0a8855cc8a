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
#include "service/domain/policies.h"
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

json_t *verify_spec_parameters(const char *fleet, const char *token, const char *group,
                               const json_t *given)
{
    char name[200], serial[64];
    snprintf(name, sizeof name, "%s%.64s-%s", VERIFY_THING_PREFIX, fleet, token);
    snprintf(serial, sizeof serial, "%s%.32s", VERIFY_THING_PREFIX, token);
    json_t *p = json_pack("{s:s, s:s}", "ThingName", name, "SerialNumber", serial);
    if (group)
        json_object_set_new(p, "ThingGroupName", json_string(group));
    if (json_is_object(given))
        json_object_update(p, (json_t *)given);
    return p;
}

json_t *verify_spec_template_body(const json_t *template_spec)
{
    const json_t *body = json_object_get(template_spec, "body");
    if (json_is_object(body))
        return json_deep_copy(body);
    if (json_is_string(body)) {
        json_t *b = json_loads(json_string_value(body), 0, 0);
        if (json_is_object(b))
            return b;
        json_decref(b);
    }
    const json_t *tn = json_object_get(template_spec, "thingName");
    struct policies_thing_name name = {json_string_value(json_object_get(tn, "from")),
                                       json_string_value(json_object_get(tn, "prefix"))};
    return policies_template_body("-", 0, &name);
}

/* ---- the thing's name ---- */

#define CERT_ID_REF "AWS::IoT::Certificate::Id"

struct name_eval {
    const json_t *params, *decl; /* what is sent; the template's Parameters */
    const char *cert_id;
    char *out;
    size_t len, n;
    int marked;        /* some part is the certificate's id or under the prefix */
    char foreign[128]; /* the first parameter whose value is not under the prefix */
    int unknown;
};

static void put(struct name_eval *e, const char *s)
{
    size_t k = strlen(s);
    if (e->n + k >= e->len) {
        e->unknown = 1;
        snprintf(e->out, e->len, "the thing's name is too long");
        return;
    }
    memcpy(e->out + e->n, s, k + 1);
    e->n += k;
}

static int prefixed(const char *s)
{
    return !strncmp(s, VERIFY_THING_PREFIX, strlen(VERIFY_THING_PREFIX));
}

static void give_up(struct name_eval *e, const char *why)
{
    if (!e->unknown)
        snprintf(e->out, e->len, "%s", why);
    e->unknown = 1;
}

static void eval(struct name_eval *e, const json_t *x, int depth)
{
    if (e->unknown)
        return;
    if (json_is_string(x)) {
        e->marked |= prefixed(json_string_value(x));
        put(e, json_string_value(x));
        return;
    }
    const char *ref = json_string_value(json_object_get(x, "Ref"));
    const json_t *join = json_object_get(x, "Fn::Join");
    if (!json_is_object(x) || json_object_size(x) != 1 || depth > 8 || (!ref && !join)) {
        give_up(e, "its ThingName is neither text, a Ref nor an Fn::Join");
        return;
    }
    if (ref && !strcmp(ref, CERT_ID_REF)) {
        e->marked = 1;
        put(e, e->cert_id ? e->cert_id
                          : "0000000000000000000000000000000000000000000000000000000000000000");
        return;
    }
    if (ref) {
        const char *v = json_string_value(json_object_get(e->params, ref));
        if (!v)
            v = json_string_value(json_object_get(json_object_get(e->decl, ref), "Default"));
        if (!v) {
            char why[300];
            snprintf(why, sizeof why,
                     "its ThingName uses parameter %.100s, which the verification does not send: "
                     "give it, starting with " VERIFY_THING_PREFIX,
                     ref);
            give_up(e, why);
            return;
        }
        if (prefixed(v))
            e->marked = 1;
        else if (!e->foreign[0])
            snprintf(e->foreign, sizeof e->foreign, "%.127s", ref);
        put(e, v);
        return;
    }
    const json_t *sep = json_array_get(join, 0), *parts = json_array_get(join, 1);
    if (json_array_size(join) != 2 || !json_is_string(sep) || !json_is_array(parts)) {
        give_up(e, "its ThingName has an Fn::Join that is not [SEPARATOR, [PARTS]]");
        return;
    }
    for (size_t i = 0; i < json_array_size(parts); i++) {
        if (i)
            put(e, json_string_value(sep));
        eval(e, json_array_get(parts, i), depth + 1);
    }
}

enum verify_name verify_spec_thing_name(const json_t *body, const json_t *params,
                                        const char *cert_id, char *out, size_t len, char *param,
                                        size_t plen)
{
    const json_t *res = json_object_get(body, "Resources"), *thing = 0, *r;
    const char *k;
    param[0] = out[0] = '\0';
    json_object_foreach((json_t *)res, k, r)
    {
        const char *type = json_string_value(json_object_get(r, "Type"));
        if (!type || strcmp(type, "AWS::IoT::Thing"))
            continue;
        if (thing) {
            snprintf(out, len, "it makes more than one thing");
            return VERIFY_NAME_UNKNOWN;
        }
        thing = r;
    }
    if (!thing)
        return VERIFY_NAME_NONE;
    const json_t *name = json_object_get(json_object_get(thing, "Properties"), "ThingName");
    if (!name) {
        snprintf(out, len, "its thing has no ThingName");
        return VERIFY_NAME_UNKNOWN;
    }
    struct name_eval e = {params, json_object_get(body, "Parameters"), cert_id, out, len, 0, 0, {0},
                          0};
    eval(&e, name, 0);
    if (e.unknown)
        return VERIFY_NAME_UNKNOWN;
    if (e.marked || prefixed(out))
        return VERIFY_NAME_OURS;
    snprintf(param, plen, "%s", e.foreign);
    return VERIFY_NAME_FOREIGN;
}

int verify_spec_check_name(const json_t *template_spec, const json_t *given, const char *field,
                           json_t *errors)
{
    json_t *body = verify_spec_template_body(template_spec),
           *params = verify_spec_parameters("FLEET", "TOKEN", "GROUP", given);
    char name[300], param[128], f[JSON_FIELD_MAX], msg[800];
    enum verify_name r =
        verify_spec_thing_name(body, params, 0, name, sizeof name, param, sizeof param);
    json_decref(body);
    json_decref(params);
    if (r == VERIFY_NAME_OURS || r == VERIFY_NAME_NONE)
        return 0;
    if (r == VERIFY_NAME_UNKNOWN) {
        snprintf(msg, sizeof msg,
                 "the fleet's template names its thing in a way a verification cannot check (%s): "
                 "it could provision onto an existing thing, so it is not verified",
                 name);
        problem(errors, field, msg);
        return FW_EINVAL;
    }
    if (param[0] && json_object_get(given, param))
        json_field_name(f, field, param);
    else
        snprintf(f, sizeof f, "%s", field);
    if (param[0])
        snprintf(msg, sizeof msg,
                 "the fleet's template would name the verification's thing %.128s (from %s), "
                 "outside " VERIFY_THING_PREFIX ": it could be a device's, whose attributes and "
                 "groups RegisterThing would replace; %s must start with " VERIFY_THING_PREFIX,
                 name, param, param);
    else
        snprintf(msg, sizeof msg,
                 "the fleet's template names every thing %.128s, outside " VERIFY_THING_PREFIX
                 ": a verification would provision onto that thing",
                 name);
    problem(errors, f, msg);
    return FW_EINVAL;
}
