/*
 * job_text.c - job_render's output written directly (see job_text.h).
 *
 * Both walk the rows of job_record.h's table; each view here mirrors
 * job_render's value_of, including its quiet cases:
 * jansson refuses a string that is not UTF-8 (json_string gives NULL and
 * json_object_set_new then drops the member), so a member whose string is
 * not UTF-8 is rolled back here and left out too.
 */
#include "job_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "service/core/err.h"
#include "service/core/json_out.h"

/* An object being written: its buffer and how many members it has. */
struct obj {
    struct buf *b;
    int n;
    int err; /* the first buffer error (a dropped member is not one) */
};

/* Starts a member: the comma and the key. Returns the length to roll back
 * to, or (size_t)-1 when the key itself is refused (member dropped). */
static size_t member(struct obj *o, const char *key)
{
    size_t mark = o->b->len;
    if ((o->n && buf_append(o->b, ",", 1)) || json_out_string(o->b, key, strlen(key)) ||
        buf_append(o->b, ":", 1)) {
        o->b->len = mark;
        if (o->b->ptr)
            o->b->ptr[mark] = '\0';
        return (size_t)-1;
    }
    return mark;
}

/* Ends a member: counted when its value was written, rolled back if not
 * (rc -1: a string jansson refuses; other codes are the buffer's errors,
 * kept for the caller). */
static void end_member(struct obj *o, size_t mark, int rc)
{
    if (mark == (size_t)-1)
        return;
    if (rc) {
        o->b->len = mark;
        o->b->ptr[mark] = '\0';
        if (rc != -1 && !o->err)
            o->err = rc;
        return;
    }
    o->n++;
}

static void put_literal(struct obj *o, const char *key, const char *lit)
{
    size_t m = member(o, key);
    end_member(o, m, m == (size_t)-1 ? 0 : buf_puts(o->b, lit));
}

static void put_int(struct obj *o, const char *key, const char *text)
{
    size_t m = member(o, key);
    end_member(
        o, m, m == (size_t)-1 ? 0 : buf_printf(o->b, "%lld", text ? strtoll(text, NULL, 10) : 0LL));
}

/* A string, or null when absent or empty (job_render's str_or_null). */
static void put_str(struct obj *o, const char *key, const char *text)
{
    if (!text || !*text) {
        put_literal(o, key, "null");
        return;
    }
    size_t m = member(o, key);
    end_member(o, m, m == (size_t)-1 ? 0 : json_out_string(o->b, text, strlen(text)));
}

static void put_time(struct obj *o, const char *key, const char *text)
{
    if (!text || !*text) {
        put_literal(o, key, "null");
        return;
    }
    char iso[32];
    job_time_rfc3339(strtoll(text, NULL, 10), iso);
    put_str(o, key, iso);
}

/* Stored JSON text (job_render's json_field): copied when canonical, else
 * parsed, else a string; when array_only (errors), anything else is []. */
static int json_text(struct buf *b, const char *text, int array_only)
{
    if (!text || !*text)
        return buf_puts(b, array_only ? "[]" : "null");
    if (json_out_is_compact(text) && (!array_only || text[0] == '['))
        return buf_puts(b, text);
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!v && !array_only)
        return json_out_string(b, text, strlen(text));
    int rc = (!array_only || json_is_array(v)) ? json_out_value(b, v) : buf_puts(b, "[]");
    json_decref(v);
    return rc;
}

static void put_json(struct obj *o, const char *key, const char *text, int array_only)
{
    size_t m = member(o, key);
    end_member(o, m, m == (size_t)-1 ? 0 : json_text(o->b, text, array_only));
}

static void put_object(struct obj *o, const char *key, const struct job_fields *f,
                       enum job_field in);

static void put_steps(struct obj *o, const char *key, const struct job_fields *f)
{
    size_t m = member(o, key);
    struct obj s = {o->b, 0, 0};
    if (m == (size_t)-1)
        return;
    if (buf_append(o->b, "{", 1)) {
        end_member(o, m, FW_ETOOBIG);
        return;
    }
    for (size_t i = 0; i + 1 < f->nsteps; i += 2)
        put_json(&s, f->steps[i], f->steps[i + 1], 0);
    end_member(o, m, s.err ? s.err : buf_append(o->b, "}", 1));
}

static void put_href(struct obj *o, const char *key, const char *id)
{
    char href[JOB_ID_MAX + 16];
    snprintf(href, sizeof href, "/v1/jobs/%s", id ? id : "");
    put_str(o, key, href);
}

/* Row r as a member, as job_render's value_of shows it. */
static void put_row(struct obj *o, const struct job_fields *f, enum job_field r)
{
    const struct job_field_def *d = &job_fields_table[r];
    const char *v = f->v[r];
    switch (d->view) {
    case JOB_VIEW_STR: put_str(o, d->json, v); break;
    case JOB_VIEW_INT: put_int(o, d->json, v); break;
    case JOB_VIEW_INT_NULL:
        if (v)
            put_int(o, d->json, v);
        else
            put_literal(o, d->json, "null");
        break;
    case JOB_VIEW_FLAG: put_literal(o, d->json, v && !strcmp(v, "1") ? "true" : "false"); break;
    case JOB_VIEW_TIME: put_time(o, d->json, v); break;
    case JOB_VIEW_JSON: put_json(o, d->json, v, 0); break;
    case JOB_VIEW_ARRAY: put_json(o, d->json, v, 1); break;
    case JOB_VIEW_STEPS: put_steps(o, d->json, f); break;
    case JOB_VIEW_OBJECT: put_object(o, d->json, f, r); break;
    case JOB_VIEW_HREF: put_href(o, d->json, v); break;
    case JOB_VIEW_NONE: break;
    }
}

/* The rows that are in `in`, in row order (job_render's object_of). */
static void put_members(struct obj *o, const struct job_fields *f, enum job_field in)
{
    for (int r = 0; r < JOB_NFIELDS; r++)
        if (job_fields_table[r].in == in)
            put_row(o, f, (enum job_field)r);
}

static void put_object(struct obj *o, const char *key, const struct job_fields *f,
                       enum job_field in)
{
    size_t m = member(o, key);
    struct obj p = {o->b, 0, 0};
    if (m == (size_t)-1)
        return;
    int rc = buf_append(o->b, "{", 1);
    if (rc) {
        end_member(o, m, rc);
        return;
    }
    put_members(&p, f, in);
    end_member(o, m, p.err ? p.err : buf_append(o->b, "}", 1));
}

int job_render_text(const struct job_fields *f, struct buf *out)
{
    struct obj o = {out, 0, 0};
    if (buf_append(out, "{", 1))
        return -1;
    put_members(&o, f, JOB_F_TOP);
    return o.err ? o.err : buf_append(out, "}", 1);
}
