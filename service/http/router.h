/*
 * router.h - pure path matching for the route table.
 *
 * Patterns are "/"-separated literal segments and "{name}" parameters. A
 * parameter matches one non-empty segment. Matching is exact: no trailing
 * slash tolerance, no percent-decoding (the server decodes before).
 */
#ifndef FW_ROUTER_H
#define FW_ROUTER_H

#include <stddef.h>

#include "service/http/http.h"

#define ROUTER_MAX_SEGMENTS 12
#define ROUTER_MAX_PATH 1024

struct router_match {
    int nparams;
    const char *names[HTTP_MAX_PARAMS]; /* point into a copy owned by the match */
    char *values[HTTP_MAX_PARAMS];      /* point into the match's copy of the path */
    char path_copy[ROUTER_MAX_PATH];
    char pattern_copy[ROUTER_MAX_PATH];
};

/* 1 when path matches pattern (params captured in m), else 0. */
int router_match(const char *pattern, const char *path, struct router_match *m);

#endif
