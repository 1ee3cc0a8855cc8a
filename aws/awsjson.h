/*
 * awsjson.h - small jansson helpers for rest-json answers and requests.
 *
 * Reading: absent or mistyped members give NULL or the default, because
 * AWS omits empty members. Strings returned are owned by the caller.
 */
#ifndef FW_AWS_AWSJSON_H
#define FW_AWS_AWSJSON_H

#include <jansson.h>

/* A copy of o[key] when it is a string, else NULL. Caller frees. */
char *awsjson_strdup(const json_t *o, const char *key);
/* o[key] as an integer (JSON integer or integral real), else dflt. */
long long awsjson_int(const json_t *o, const char *key, long long dflt);
/* o[key] as 0/1 when it is a boolean, else dflt. */
int awsjson_bool(const json_t *o, const char *key, int dflt);
/* o[key] as a number (epoch-second timestamps), else 0. */
double awsjson_number(const json_t *o, const char *key);
/* Sets o[key] to a string when value is not NULL. */
void awsjson_set_str(json_t *o, const char *key, const char *value);
void awsjson_set_int(json_t *o, const char *key, long long value);
void awsjson_set_bool(json_t *o, const char *key, int value);

#endif
