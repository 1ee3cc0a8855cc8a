/*
 * watch_state.c - a claim's watch state: parsing, formatting, and the
 * totals before the hour marks the next cycles start at.
 */
#include "watch_state.h"

#include <stdio.h>
#include <string.h>

#include "service/core/mem.h"

void watch_state_parse(const char *s, struct watch_claim_state *w)
{
    double closed = 0, through = 0;
    memset(w, 0, sizeof *w);
    w->metric = -1; /* WATCH_METRIC_UNKNOWN */
    if (s && !strncmp(s, "v2 ", 3)) {
        if (sscanf(s + 3, "%lf %ld %159s %lf %ld %d %lf %lf %lf %lf", &w->ewma, &w->n, w->job, &w->prev_ewma,
                   &w->prev_n, &w->metric, &w->h0, &w->hw0, &w->h1, &w->hw1) == 10)
            return;
    } else if (s && !strncmp(s, "v1 ", 3)) {
        if (sscanf(s + 3, "%lf %lf %lf %ld %159s %lf %ld %d", &closed, &through, &w->ewma, &w->n, w->job,
                   &w->prev_ewma, &w->prev_n, &w->metric) == 8)
            return;
    }
    memset(w, 0, sizeof *w);
    w->metric = -1;
}

char *watch_state_format(const struct watch_claim_state *w)
{
    return xasprintf("v2 %.17g %ld %s %.17g %ld %d %.17g %.17g %.17g %.17g", w->ewma, w->n, w->job[0] ? w->job : "-",
                     w->prev_ewma, w->prev_n, w->metric, w->h0, w->hw0, w->h1, w->hw1);
}

int watch_state_base(const struct watch_claim_state *w, double start_s, double *base)
{
    if (start_s > 0 && w->h0 == start_s) {
        *base = w->hw0;
        return 1;
    }
    if (start_s > 0 && w->h1 == start_s) {
        *base = w->hw1;
        return 1;
    }
    return 0;
}

void watch_state_advance(struct watch_claim_state *w, const struct watch_series *s, double base, double start_s)
{
    w->h0 = start_s;
    w->hw0 = base;
    w->h1 = start_s + 3600;
    w->hw1 = watch_total_before(s, base, w->h1);
}
