/*
 * router.c - match "/v1/jobs/{id}" style patterns against request paths.
 *
 * Works on copies inside struct router_match, splitting in place, so the
 * captured values need no allocation and live as long as the match.
 */
#include "service/http/router.h"

#include <string.h>

/* Splits s in place at '/', skipping the leading one; -1 when too many. */
static int split(char *s, char *segs[ROUTER_MAX_SEGMENTS])
{
    int n = 0;
    if (*s != '/')
        return -1;
    s++;
    while (1) {
        if (n == ROUTER_MAX_SEGMENTS)
            return -1;
        segs[n++] = s;
        char *slash = strchr(s, '/');
        if (!slash)
            break;
        *slash = '\0';
        s = slash + 1;
    }
    return n;
}

static int is_param(const char *seg)
{
    size_t n = strlen(seg);
    return n > 2 && seg[0] == '{' && seg[n - 1] == '}';
}

int router_match(const char *pattern, const char *path, struct router_match *m)
{
    size_t plen = strlen(path), tlen = strlen(pattern);
    if (plen >= ROUTER_MAX_PATH || tlen >= ROUTER_MAX_PATH)
        return 0;
    memcpy(m->path_copy, path, plen + 1);
    memcpy(m->pattern_copy, pattern, tlen + 1);
    char *ps[ROUTER_MAX_SEGMENTS], *ts[ROUTER_MAX_SEGMENTS];
    int np = split(m->path_copy, ps), nt = split(m->pattern_copy, ts);
    if (np < 0 || nt < 0 || np != nt)
        return 0;
    m->nparams = 0;
    for (int i = 0; i < nt; i++) {
        if (!is_param(ts[i])) {
            if (strcmp(ts[i], ps[i]) != 0)
                return 0;
            continue;
        }
        if (ps[i][0] == '\0' || m->nparams == HTTP_MAX_PARAMS)
            return 0;
        ts[i][strlen(ts[i]) - 1] = '\0';
        m->names[m->nparams] = ts[i] + 1;
        m->values[m->nparams] = ps[i];
        m->nparams++;
    }
    return 1;
}
