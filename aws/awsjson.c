/*
 * awsjson.c - jansson helpers shared by the rest-json operations (iot.c).
 *
 * AWS leaves out members that are empty, so every reader here tolerates
 * absence. Writers skip NULL so optional inputs need no branches in callers.
 */
#include "aws/awsjson.h"

#include <math.h>

#include "service/core/mem.h"

char *awsjson_strdup(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? xstrdup(s) : 0;
}

long long awsjson_int(const json_t *o, const char *key, long long dflt)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v))
        return (long long)json_real_value(v);
    return dflt;
}

int awsjson_bool(const json_t *o, const char *key, int dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

double awsjson_number(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

void awsjson_set_str(json_t *o, const char *key, const char *value)
{
    if (value)
        json_object_set_new(o, key, json_string(value));
}

void awsjson_set_int(json_t *o, const char *key, long long value)
{
    json_object_set_new(o, key, json_integer(value));
}

void awsjson_set_bool(json_t *o, const char *key, int value)
{
    json_object_set_new(o, key, json_boolean(value));
}
