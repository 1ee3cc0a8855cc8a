/*
 * watch_state.c - a claim's watch state: parsing, formatting, and the
 * totals before the hour marks the next cycles start at.
 */
#include "watch_state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/mem.h"

/* A stored line read field by field (strtod/strtol with an end pointer); ok drops to 0 at the
 * first field that is missing or unreadable. */
struct fields {
    const char *p;
    int ok;
};

static double next_double(struct fields *f)
{
    char *end = 0;
    double v = strtod(f->p, &end);
    f->ok &= end != f->p;
    f->p = end;
    return v;
}

static long next_long(struct fields *f)
{
    char *end = 0;
    errno = 0;
    long v = strtol(f->p, &end, 10);
    f->ok &= end != f->p && !errno;
    f->p = end;
    return v;
}

static int next_int(struct fields *f)
{
    long v = next_long(f);
    f->ok &= v >= INT_MIN && v <= INT_MAX;
    return (int)v;
}

static void next_word(struct fields *f, char *out, size_t cap)
{
    f->p += strspn(f->p, " \t\n");
    size_t n = strcspn(f->p, " \t\n");
    f->ok &= n > 0 && n < cap;
    if (n > 0 && n < cap) {
        memcpy(out, f->p, n);
        out[n] = '\0';
    }
    f->p += n;
}

/* ewma n job prevEwma prevN metric: v2's head and v1's tail. */
static void parse_baseline(struct fields *f, struct watch_claim_state *w)
{
    w->ewma = next_double(f);
    w->n = next_long(f);
    next_word(f, w->job, sizeof w->job);
    w->prev_ewma = next_double(f);
    w->prev_n = next_long(f);
    w->metric = next_int(f);
}

static int parse_v2(const char *s, struct watch_claim_state *w)
{
    struct fields f = {s, 1};
    parse_baseline(&f, w);
    w->h0 = next_double(&f);
    w->hw0 = next_double(&f);
    w->h1 = next_double(&f);
    w->hw1 = next_double(&f);
    return f.ok;
}

/* v1: closed through ewma n job prevEwma prevN metric (its running totals are dropped). */
static int parse_v1(const char *s, struct watch_claim_state *w)
{
    struct fields f = {s, 1};
    next_double(&f);
    next_double(&f);
    parse_baseline(&f, w);
    return f.ok;
}

void watch_state_parse(const char *s, struct watch_claim_state *w)
{
    memset(w, 0, sizeof *w);
    w->metric = -1; /* WATCH_METRIC_UNKNOWN */
    if (s && !strncmp(s, "v2 ", 3) && parse_v2(s + 3, w))
        return;
    if (s && !strncmp(s, "v1 ", 3) && parse_v1(s + 3, w))
        return;
    memset(w, 0, sizeof *w);
    w->metric = -1;
}

char *watch_state_format(const struct watch_claim_state *w)
{
    return xasprintf("v2 %.17g %ld %s %.17g %ld %d %.17g %.17g %.17g %.17g", w->ewma, w->n,
                     w->job[0] ? w->job : "-", w->prev_ewma, w->prev_n, w->metric, w->h0, w->hw0,
                     w->h1, w->hw1);
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

void watch_state_advance(struct watch_claim_state *w, const struct watch_series *s, double base,
                         double start_s)
{
    w->h0 = start_s;
    w->hw0 = base;
    w->h1 = start_s + 3600;
    w->hw1 = watch_total_before(s, base, w->h1);
}
