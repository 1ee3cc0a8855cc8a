/* json_keys.c - unknown members of a request object (see json_keys.h). */
#include "service/core/json_keys.h"

#include <stdio.h>
#include <string.h>

int json_key_known(const char *key, const char *const *allowed)
{
    for (const char *const *a = allowed; *a; a++)
        if (!strcmp(*a, key))
            return 1;
    return 0;
}

size_t json_unknown_keys(const json_t *obj, const char *const *allowed, const char **out,
                         size_t max)
{
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_key_known(key, allowed))
            continue;
        if (n < max)
            out[n] = key;
        n++;
    }
    return n;
}

/* The length of name cut to at most max bytes without splitting a UTF-8 character. */
static size_t cut_utf8(const char *name, size_t max)
{
    size_t n = strlen(name);
    if (n <= max)
        return n;
    n = max;
    while (n && ((unsigned char)name[n] & 0xC0) == 0x80) /* name[n] continues a character */
        n--;
    return n;
}

size_t json_unknown_fields(const json_t *obj, const char *const *allowed, const char *path,
                           json_t *errors)
{
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_key_known(key, allowed))
            continue;
        n++;
        if (!errors)
            continue;
        char f[JSON_FIELD_NAME_MAX + 100];
        snprintf(f, sizeof f, "%.90s%s%.*s", path, *path ? "." : "",
                 (int)cut_utf8(key, JSON_FIELD_NAME_MAX), key);
        json_array_append_new(errors,
                              json_pack("{s:s, s:s}", "field", f, "message", "unknown field"));
    }
    return n;
}
