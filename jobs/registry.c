/*
 * registry.c - the table of job types.
 *
 * Invariant: written only by jobs_register() during start-up, before any
 * worker or HTTP thread exists; read-only (and so lock-free) afterwards.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/log.h"

static struct job_type_entry s_types[JOBS_MAX_TYPES];
static int s_ntypes;

#define JOBS_MAX_INSTALLERS 8

/* Written at start-up; done and warned only by the one scheduler thread afterwards. */
static struct installer {
    const char *what;
    jobs_installer_fn *install;
    int done, warned;
} s_installers[JOBS_MAX_INSTALLERS];
static int s_ninstallers;

int jobs_register(const char *type, job_handler_fn *fn, const struct job_type_opts *opts)
{
    if (!job_type_valid(type) || !fn)
        return FW_EINVAL;
    struct job_type_entry *e = (struct job_type_entry *)jobs_registry_find(type);
    if (!e) {
        if (s_ntypes == JOBS_MAX_TYPES)
            return FW_EINVAL;
        e = &s_types[s_ntypes++];
    }
    memset(e, 0, sizeof *e);
    snprintf(e->type, sizeof e->type, "%s", type);
    e->fn = fn;
    e->opts.lane = JOB_LANE_DEFAULT;
    if (opts)
        e->opts = *opts;
    if (e->opts.lane < 0 || e->opts.lane >= JOB_NLANES)
        e->opts.lane = JOB_LANE_DEFAULT;
    if (e->opts.max_attempts <= 0)
        e->opts.max_attempts = JOBS_DEFAULT_MAX_ATTEMPTS;
    if (e->opts.rate_family)
        snprintf(e->family, sizeof e->family, "%s", e->opts.rate_family);
    e->opts.rate_family = NULL; /* use e->family: the caller's string may not live on */
    return 0;
}

const struct job_type_entry *jobs_registry_find(const char *type)
{
    for (int i = 0; type && i < s_ntypes; i++)
        if (strcmp(s_types[i].type, type) == 0)
            return &s_types[i];
    return NULL;
}

int jobs_registry_count(void)
{
    return s_ntypes;
}

const struct job_type_entry *jobs_registry_at(int i)
{
    return (i >= 0 && i < s_ntypes) ? &s_types[i] : NULL;
}

int jobs_register_installer(const char *what, jobs_installer_fn *install)
{
    if (!what || !install || s_ninstallers == JOBS_MAX_INSTALLERS)
        return FW_EINVAL;
    s_installers[s_ninstallers++] = (struct installer){what, install, 0, 0};
    return 0;
}

int jobs_installers_run(void)
{
    int i = 0;
    while (i < s_ninstallers && s_installers[i].done)
        i++;
    if (i == s_ninstallers)
        return 0;
    struct installer *in = &s_installers[i];
    int rc = in->install();
    if (rc && !in->warned) /* once: Redis may be down for a while; it is retried each turn */
        log_event(LOG_WARN, "could not install yet; retrying", LOG_STR("what", in->what),
                  LOG_STR("error", fw_strerror(rc)));
    else if (!rc && in->warned)
        log_event(LOG_INFO, "installed", LOG_STR("what", in->what));
    in->warned |= rc != 0;
    in->done = rc == 0;
    return rc ? s_ninstallers - i : jobs_installers_run();
}
