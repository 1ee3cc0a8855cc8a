/*
 * fuzz_config.c - the service's configuration (service/core/config.c):
 * config_load with a fake environment read from the input, and the two
 * parsers it uses on their own.
 *
 * Input: lines "NAME=VALUE" form the environment (names not given stay
 * unset; the last line for a name wins). The whole input is also given to
 * config_parse_redis_url and config_parse_listen.
 */
#include "fuzz_common.h"
#include "service/core/config.h"

#define NVARS 32

struct env {
    char *name[NVARS];
    char *value[NVARS];
    size_t n;
};

static const char *fake_getenv(const char *name, void *ud)
{
    const struct env *e = ud;
    for (size_t i = e->n; i-- > 0;) /* the last line for a name wins */
        if (!strcmp(e->name[i], name))
            return e->value[i];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *text = fuzz_cstr(data, size);
    struct env env = {.n = 0};
    struct fw_config c;
    char err[256];
    (void)config_parse_redis_url(text, &c, err, sizeof err);
    (void)config_parse_listen(text, &c, err, sizeof err);
    for (char *line = text, *next; line && env.n < NVARS; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        env.name[env.n] = line;
        env.value[env.n] = eq + 1;
        env.n++;
    }
    memset(&c, 0, sizeof c);
    (void)config_load(&c, fake_getenv, &env, err, sizeof err);
    free(text);
    return 0;
}
