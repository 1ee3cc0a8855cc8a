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

#endif
