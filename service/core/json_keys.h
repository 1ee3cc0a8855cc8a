/*
 * json_keys.h - the members of a request object that are not in its list of
 * known fields, so every body check refuses unknown fields the same way.
 */
#ifndef FW_CORE_JSON_KEYS_H
#define FW_CORE_JSON_KEYS_H

#include <stddef.h>
#include <jansson.h>

/* 1 when key is one of allowed (NULL-terminated). */
int json_key_known(const char *key, const char *const *allowed);

/* Puts the names of obj's members not in allowed (NULL-terminated) into
 * out (borrowed from obj, in obj's order), at most max of them; returns
 * how many there are (may be more than max). 0 when obj is no object. */
size_t json_unknown_keys(const json_t *obj, const char *const *allowed, const char **out,
                         size_t max);

/* A request field as errors name it: "<path>.<name>" ("<name>" when path is ""), path (ours)
 * cut at 90 bytes, the name (the caller's) at JSON_FIELD_NAME_MAX bytes on a character boundary:
 * cut inside a character, the field would be no valid UTF-8 and json_pack would refuse the error,
 * which then went missing. */
#define JSON_FIELD_NAME_MAX 200
#define JSON_FIELD_MAX (JSON_FIELD_NAME_MAX + 100)
void json_field_name(char out[JSON_FIELD_MAX], const char *path, const char *name);

/* How a validator that names every bad field reports unknown members: for each member of obj not
 * in allowed, appends {"field": json_field_name(path, member), "message": "unknown field"} to
 * errors (NULL: only counted). Returns how many members are unknown. */
size_t json_unknown_fields(const json_t *obj, const char *const *allowed, const char *path,
                           json_t *errors);

#endif
