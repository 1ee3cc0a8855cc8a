/* json_keys.c - unknown members of a request object (see json_keys.h). */
#include "service/core/json_keys.h"

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
