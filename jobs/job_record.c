/*
 * job_record.c - the stored job record expanded into named fields (see
 * job_record.h for the table).
 */
#include "job_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_states[] = {"queued", "scheduled", "running", "succeeded",
                                       "failed", "dead",      "canceled"};

/* Short stored name -> named field. Fields not listed here (and not steps)
 * are internal to the scripts and not shown. */
static const char *const s_names[][2] = {
    {"t", "type"},    {"m", "max"},    {"l", "lane"},     {"p", "payload"}, {"a", "attempts"},
    {"n", "runs"},    {"k", "stalls"}, {"R", "resource"}, {"S", "sched"},   {"x", "cancel"},
    {"N", "next"},    {"r", "result"}, {"e", "errors"},   {"w", "reason"},  {"pd", "pdone"},
    {"pt", "ptotal"}, {"ps", "pstep"}, {"c", "created"},
};

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

static const char *long_name(const char *shortname)
{
    for (size_t i = 0; i < sizeof s_names / sizeof s_names[0]; i++)
        if (strcmp(shortname, s_names[i][0]) == 0)
            return s_names[i][1];
    return NULL;
}

static void add(struct job_fields *out, const char *name, const char *value)
{
    if (out->n + 2 > sizeof out->kv / sizeof out->kv[0])
        return;
    out->kv[out->n++] = name;
    out->kv[out->n++] = value;
}

static const char *get(const char *const *kv, size_t n, const char *name)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        if (strcmp(kv[i], name) == 0)
            return kv[i + 1];
    return NULL;
}

/* An absolute time from "ms after created"; NULL when either is absent. */
static const char *after_created(const char *created, const char *delta, char buf[24])
{
    if (!created || !delta)
        return NULL;
    snprintf(buf, 24, "%lld", strtoll(created, NULL, 10) + strtoll(delta, NULL, 10));
    return buf;
}

int job_record_expand(const char *id, const char *const *stored, size_t nstored,
                      struct job_fields *out)
{
    out->n = 0;
    const char *state = job_record_state_name(get(stored, nstored, "s"));
    if (!state)
        return -1;
    const char *created = get(stored, nstored, "c");
    add(out, "id", id);
    add(out, "state", state);
    for (size_t i = 0; i + 1 < nstored; i += 2) {
        const char *name = strncmp(stored[i], "s:", 2) == 0 ? stored[i] : long_name(stored[i]);
        if (name)
            add(out, name, stored[i + 1]);
    }
    const char *started = after_created(created, get(stored, nstored, "b"), out->started);
    const char *finished = after_created(created, get(stored, nstored, "f"), out->finished);
    if (!get(out->kv, out->n, "lane"))
        add(out, "lane", "default");
    if (!get(out->kv, out->n, "payload"))
        add(out, "payload", "{}");
    if (started)
        add(out, "started", started);
    if (finished)
        add(out, "finished", finished);
    return 0;
}
