/*
 * register.c - the list of job types and their handlers, lanes, attempts
 * and uniqueness. One line per type: add yours to s_types.
 */
#include "register.h"

#include <stddef.h>

#include "jobs/registry.h"

struct handler_type {
    const char *type;
    job_handler_fn *fn;
    struct job_type_opts opts;   /* lane, max_attempts, unique_per_resource, rate_family, ud */
};

static const struct handler_type s_types[] = {
    {0, 0, {0, 0, 0, 0, 0}},
};

int handlers_register_all(void)
{
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++) {
        if (!s_types[i].type)
            continue;
        int rc = jobs_register(s_types[i].type, s_types[i].fn, &s_types[i].opts);
        if (rc)
            return rc;
    }
    return 0;
}
