/* json_keys.c - unknown members of a request object (see json_keys.h). */
#include "service/core/json_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/mem.h"

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

void json_field_name(char out[JSON_FIELD_MAX], const char *path, const char *name)
{
    snprintf(out, JSON_FIELD_MAX, "%.90s%s%.*s", path, *path ? "." : "",
             (int)cut_utf8(name, JSON_FIELD_NAME_MAX), name);
}

size_t json_unknown_fields(const json_t *obj, const char *const *allowed, const char *path,
                           json_t *errors)
{
    size_t n = json_unknown_keys(obj, allowed, 0, 0);
    if (!errors || !n)
        return n;
    const char **names = xcalloc(n, sizeof *names);
    json_unknown_keys(obj, allowed, names, n);
    for (size_t i = 0; i < n; i++) {
        char f[JSON_FIELD_MAX];
        json_field_name(f, path, names[i]);
        json_array_append_new(errors,
                              json_pack("{s:s, s:s}", "field", f, "message", "unknown field"));
    }
    free(names);
    return n;
}
