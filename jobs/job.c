/*
 * job.c - pure helpers for the job record: lane order, names, payload
 * rules and the API rendering of a job hash.
 *
 * Invariants: nothing here touches Redis or the clock (job_id_new reads the
 * kernel's random generator only), so every function is unit-tested with
 * fixed inputs. job_render shows a job (GET /v1/jobs/{id} and everything
 * else that shows one) as the field table of job_record.h says; GET
 * /v1/jobs writes the same bytes without the tree (job_text.c walks the
 * same table; unit-tested against job_render and golden bytes).
 */
#include "job.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "service/core/err.h"

static const char *const s_lanes[JOB_NLANES] = {"critical", "default", "bulk"};
static const char *const s_states[] = {"queued", "scheduled", "running", "succeeded",
                                       "failed", "dead",      "canceled"};

const char *job_lane_name(int lane)
{
    return (lane >= 0 && lane < JOB_NLANES) ? s_lanes[lane] : NULL;
}

int job_lane_parse(const char *s)
{
    for (int i = 0; s && i < JOB_NLANES; i++)
        if (strcmp(s, s_lanes[i]) == 0)
            return i;
    return -1;
}

void job_lane_order(unsigned long pick, int out[JOB_NLANES])
{
    int first = JOB_LANE_CRITICAL;
    if (pick % 10 == 9)
        first = JOB_LANE_BULK;
    else if (pick % 4 == 3)
        first = JOB_LANE_DEFAULT;
    out[0] = first;
    int n = 1;
    for (int l = 0; l < JOB_NLANES; l++)
        if (l != first)
            out[n++] = l;
}

int job_state_valid(const char *s)
{
    for (size_t i = 0; s && i < sizeof s_states / sizeof s_states[0]; i++)
        if (strcmp(s, s_states[i]) == 0)
            return 1;
    return 0;
}

int job_state_terminal(const char *s)
{
    return s && (!strcmp(s, "succeeded") || !strcmp(s, "dead") || !strcmp(s, "canceled"));
}

int job_type_valid(const char *type)
{
    size_t n = type ? strlen(type) : 0;
    if (n == 0 || n >= JOB_TYPE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = type[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int job_token_valid(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && !strchr("._:/@=+-", c))
            return 0;
    }
    return 1;
}

int job_key_is_secret(const char *key)
{
    static const char *const exact[] = {
        "token",        "secret",      "password",     "passwd", "privatekey",
        "sessiontoken", "accesstoken", "refreshtoken", "apikey", "secretaccesskey",
        "kek",          "credentials", "bearertoken"};
    static const char *const parts[] = {"secret", "password", "privatekey", "passphrase"};
    char norm[128];
    size_t n = 0;
    for (const char *p = key; *p && n < sizeof norm - 1; p++)
        if (*p != '_' && *p != '-' && *p != '.' && *p != ' ')
            norm[n++] = (char)tolower((unsigned char)*p);
    norm[n] = '\0';
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(norm, exact[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strstr(norm, parts[i]))
            return 1;
    return 0;
}

/* Depth-first search for a secret-looking key; copies it into why. */
static int find_secret(json_t *v, char *why, size_t whylen, int depth)
{
    if (depth > 32)
        return 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach(v, k, child)
        {
            if (job_key_is_secret(k)) {
                snprintf(why, whylen,
                         "payload key \"%s\" looks like a secret; secrets never go in jobs", k);
                return 1;
            }
            if (find_secret(child, why, whylen, depth + 1))
                return 1;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            if (find_secret(child, why, whylen, depth + 1))
                return 1;
        }
    }
    return 0;
}

int job_payload_check(const char *json, char *why, size_t whylen)
{
    if (strlen(json) > JOB_PAYLOAD_MAX) {
        snprintf(why, whylen, "payload is larger than %d bytes", JOB_PAYLOAD_MAX);
        return FW_ETOOBIG;
    }
    json_error_t jerr;
    json_t *v = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!v || !json_is_object(v)) {
        snprintf(why, whylen, "payload must be a JSON object");
        json_decref(v);
        return FW_EBADJSON;
    }
    int secret = find_secret(v, why, whylen, 0);
    json_decref(v);
    return secret ? FW_EINVAL : 0;
}

int job_id_new(char out[JOB_ID_MAX])
{
    unsigned char r[12];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return FW_ECRYPTO;
    char *p = out;
    *p++ = 'j';
    *p++ = '_';
    for (size_t i = 0; i < sizeof r; i++, p += 2)
        snprintf(p, 3, "%02x", r[i]);
    return 0;
}

void job_time_rfc3339(long long ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    int frac = (int)(ms % 1000);
    snprintf(out + n, 32 - n, ".%03dZ", frac < 0 ? 0 : frac);
}

/* JSON text as a value; a string when it does not parse; null when absent. */
static json_t *json_field(const char *text)
{
    if (!text || !*text)
        return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

static json_t *str_or_null(const char *text)
{
    return (text && *text) ? json_string(text) : json_null();
}

static json_t *time_field(const char *text)
{
    if (!text || !*text)
        return json_null();
    char iso[32];
    job_time_rfc3339(strtoll(text, NULL, 10), iso);
    return json_string(iso);
}

/* Lua's cjson writes an empty list as {}; the API always shows an array. */
static json_t *array_field(const char *text)
{
    json_t *v = json_field(text);
    if (!json_is_array(v)) {
        json_decref(v);
        v = json_array();
    }
    return v;
}

static json_t *steps_field(const struct job_fields *f)
{
    json_t *steps = json_object();
    for (size_t i = 0; i + 1 < f->nsteps; i += 2)
        json_object_set_new(steps, f->steps[i], json_field(f->steps[i + 1]));
    return steps;
}

static json_t *object_of(const struct job_fields *f, enum job_field in);

/* Row r's value as the API shows it (job_record.h, "view"); NULL for NONE. */
static json_t *value_of(const struct job_fields *f, enum job_field r)
{
    const char *v = f->v[r];
    char href[JOB_ID_MAX + 16];
    switch (job_fields_table[r].view) {
    case JOB_VIEW_STR: return str_or_null(v);
    case JOB_VIEW_INT: return json_integer(v ? strtoll(v, NULL, 10) : 0);
    case JOB_VIEW_INT_NULL: return v ? json_integer(strtoll(v, NULL, 10)) : json_null();
    case JOB_VIEW_FLAG: return json_boolean(v && !strcmp(v, "1"));
    case JOB_VIEW_TIME: return time_field(v);
    case JOB_VIEW_JSON: return json_field(v);
    case JOB_VIEW_ARRAY: return array_field(v);
    case JOB_VIEW_STEPS: return steps_field(f);
    case JOB_VIEW_OBJECT: return object_of(f, r);
    case JOB_VIEW_HREF:
        snprintf(href, sizeof href, "/v1/jobs/%s", v ? v : "");
        return json_string(href);
    case JOB_VIEW_NONE: break;
    }
    return NULL;
}

/* The members of the rows that are in `in`, in row order. */
static json_t *object_of(const struct job_fields *f, enum job_field in)
{
    json_t *o = json_object();
    for (int r = 0; r < JOB_NFIELDS; r++) {
        const struct job_field_def *d = &job_fields_table[r];
        if (d->in == in && d->view != JOB_VIEW_NONE)
            json_object_set_new(o, d->json, value_of(f, (enum job_field)r));
    }
    return o;
}

json_t *job_render(const struct job_fields *f)
{
    return object_of(f, JOB_F_TOP);
}
