/*
 * service.h - the process-wide state handed to routes and workers.
 *
 * No global god-struct: main() owns one struct fw_service and passes it
 * down. Fields are set before threads start and read-only afterwards,
 * except those marked atomic.
 */
#ifndef FW_SERVICE_H
#define FW_SERVICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "service/core/config.h"

struct metrics;
struct jobs_runtime;

struct fw_service {
    struct fw_config cfg;
    struct metrics *metrics;   /* request metrics (service/core/metrics.h) */
    struct jobs_runtime *jobs; /* workers and scheduler, or NULL in a pure API process */
    /* Readiness of the workers for /readyz: 1 ready, 0 not (why filled). NULL = no workers here. */
    int (*jobs_ready)(struct jobs_runtime *rt, char *why, size_t whylen);
    time_t started_at;
    atomic_int shutting_down; /* 1 once SIGTERM arrived */
};

#endif
