/*
 * fuzz_router.c - route matching (service/http/router.c): a fuzzed pattern
 * against a fuzzed path, and the fuzzed path against every pattern of the
 * service's route table.
 *
 * Input: "PATTERN\nPATH".
 */
#include "fuzz_common.h"
#include "routes/routes.h"
#include "service/http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * ROUTER_MAX_PATH)
        return 0;
    char *f[2];
    fuzz_split(data, size, '\n', f, NULL, 2);
    const char *path = f[1] ? f[1] : f[0];
    struct router_match *m = xmalloc(sizeof *m);
    if (router_match(f[0], path, m)) {
        for (int i = 0; i < m->nparams; i++)
            (void)strlen(m->values[i]);
    }
    size_t nt;
    const struct route_table *const *t = routes_all(&nt);
    for (size_t i = 0; i < nt; i++)
        for (size_t j = 0; j < t[i]->count; j++)
            (void)router_match(t[i]->routes[j].pattern, path, m);
    free(m);
    fuzz_split_free(f, 2);
    return 0;
}
