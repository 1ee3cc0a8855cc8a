/*
 * job_record.c - the job field table expanded, and a stored job read into
 * its rows (see job_record.h).
 */
#include "job_record.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct job_field_def job_fields_table[JOB_NFIELDS] = {
#define JOB_F_DEF(e, stored, kept, dflt, json, view, in)                                           \
    [JOB_F_##e] = {stored, JOB_KEPT_##kept, dflt, json, JOB_VIEW_##view, JOB_F_##in},
    JOB_FIELDS(JOB_F_DEF)
#undef JOB_F_DEF
};

static const char *const s_states[] = {"queued", "scheduled", "running", "succeeded",
                                       "failed", "dead",      "canceled"};

char job_record_state_code(const char *name)
{
    for (size_t i = 0; name && i < sizeof s_states / sizeof s_states[0]; i++)
        if (strcmp(name, s_states[i]) == 0)
            return (char)('0' + i);
    return 0;
}

const char *job_record_state_name(const char *code)
{
    if (!code || code[0] < '0' || code[0] > '6' || code[1])
        return NULL;
    return s_states[code[0] - '0'];
}

/* The row stored under name (not a PREFIX row), or JOB_NFIELDS. */
static enum job_field row_of(const char *name)
{
    for (int f = 0; f < JOB_NFIELDS; f++) {
        const struct job_field_def *d = &job_fields_table[f];
        if (d->stored && d->kept != JOB_KEPT_PREFIX && d->stored[0] == name[0] &&
            strcmp(d->stored, name) == 0)
            return (enum job_field)f;
    }
    return JOB_NFIELDS;
}

/* The PREFIX row whose prefix name starts with, or JOB_NFIELDS. */
static enum job_field prefix_row_of(const char *name)
{
    for (int f = 0; f < JOB_NFIELDS; f++) {
        const struct job_field_def *d = &job_fields_table[f];
        if (d->kept == JOB_KEPT_PREFIX && strncmp(name, d->stored, strlen(d->stored)) == 0)
            return (enum job_field)f;
    }
    return JOB_NFIELDS;
}

/* 1 when out already has step name. */
static int has_step(const struct job_fields *out, const char *name)
{
    for (size_t i = 0; i < out->nsteps; i += 2)
        if (strcmp(out->steps[i], name) == 0)
            return 1;
    return 0;
}

/* Puts one stored field where its row says. A name given twice (a hash
 * never has that) keeps its first value, for a step as for any field. */
static void take(struct job_fields *out, const char *name, const char *value)
{
    enum job_field f = row_of(name);
    if (f < JOB_NFIELDS) {
        if (!out->v[f])
            out->v[f] = value;
        return;
    }
    f = prefix_row_of(name);
    if (f == JOB_NFIELDS || out->nsteps + 2 > sizeof out->steps / sizeof out->steps[0])
        return;
    const char *step = name + strlen(job_fields_table[f].stored);
    if (!has_step(out, step)) {
        out->steps[out->nsteps++] = step;
        out->steps[out->nsteps++] = value;
    }
}

/* Epoch ms as text from "ms after created" into buf; NULL when either is
 * absent or the sum does not fit a long long (only a broken hash). */
static const char *since_created(const char *created, const char *delta, char buf[24])
{
    if (!created || !delta)
        return NULL;
    long long c = strtoll(created, NULL, 10), d = strtoll(delta, NULL, 10);
    if ((d > 0 && c > LLONG_MAX - d) || (d < 0 && c < LLONG_MIN - d))
        return NULL;
    snprintf(buf, 24, "%lld", c + d);
    return buf;
}

/* The stored value of row f made into the shown one (defaults apply after). */
static void make_shown(struct job_fields *out, enum job_field f, const char *id)
{
    const struct job_field_def *d = &job_fields_table[f];
    const char *created = out->v[JOB_F_CREATED];
    switch (d->kept) {
    case JOB_KEPT_KEY: out->v[f] = id; break;
    case JOB_KEPT_DIGIT: out->v[f] = job_record_state_name(out->v[f]); break;
    case JOB_KEPT_SINCE_C: out->v[f] = since_created(created, out->v[f], out->num[f]); break;
    case JOB_KEPT_TEXT:
    case JOB_KEPT_PREFIX:
    case JOB_KEPT_NONE: break;
    }
}

int job_record_expand(const char *id, const char *const *stored, size_t nstored,
                      struct job_fields *out)
{
    memset(out->v, 0, sizeof out->v);
    out->nsteps = 0;
    for (size_t i = 0; i + 1 < nstored; i += 2)
        take(out, stored[i], stored[i + 1]);
    for (int f = 0; f < JOB_NFIELDS; f++) {
        make_shown(out, (enum job_field)f, id);
        if (!out->v[f])
            out->v[f] = job_fields_table[f].dflt;
    }
    return out->v[JOB_F_STATE] ? 0 : -1;
}
