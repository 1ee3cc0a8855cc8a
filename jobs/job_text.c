/*
 * job_text.c - job_render's output written directly (see job_text.h).
 *
 * Each member mirrors a line of job_render, including its quiet cases:
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

static const char *kv_get(const char *const *kv, size_t nkv, const char *name)
{
    for (size_t i = 0; i + 1 < nkv; i += 2)
        if (strcmp(kv[i], name) == 0)
            return kv[i + 1];
    return NULL;
}

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

static void put_progress(struct obj *o, const char *const *kv, size_t nkv)
{
    size_t m = member(o, "progress");
    struct obj p = {o->b, 0, 0};
    int rc = buf_append(o->b, "{", 1);
    if (rc) {
        end_member(o, m, rc);
        return;
    }
    put_int(&p, "done", kv_get(kv, nkv, "pdone"));
    const char *total = kv_get(kv, nkv, "ptotal");
    if (total)
        put_int(&p, "total", total);
    else
        put_literal(&p, "total", "null");
    put_str(&p, "step", kv_get(kv, nkv, "pstep"));
    end_member(o, m, p.err ? p.err : buf_append(o->b, "}", 1));
}

static void put_steps(struct obj *o, const char *const *kv, size_t nkv)
{
    size_t m = member(o, "steps");
    struct obj s = {o->b, 0, 0};
    if (buf_append(o->b, "{", 1)) {
        end_member(o, m, FW_ETOOBIG);
        return;
    }
    for (size_t i = 0; i + 1 < nkv; i += 2)
        if (strncmp(kv[i], "s:", 2) == 0)
            put_json(&s, kv[i] + 2, kv[i + 1], 0);
    end_member(o, m, s.err ? s.err : buf_append(o->b, "}", 1));
}

int job_render_text(const char *const *kv, size_t nkv, struct buf *out)
{
    const char *id = kv_get(kv, nkv, "id"), *cancel = kv_get(kv, nkv, "cancel");
    struct obj o = {out, 0, 0};
    if (buf_append(out, "{", 1))
        return -1;
    put_str(&o, "id", id);
    put_str(&o, "type", kv_get(kv, nkv, "type"));
    put_str(&o, "lane", kv_get(kv, nkv, "lane"));
    put_str(&o, "state", kv_get(kv, nkv, "state"));
    put_int(&o, "attempts", kv_get(kv, nkv, "attempts"));
    put_int(&o, "maxAttempts", kv_get(kv, nkv, "max"));
    put_progress(&o, kv, nkv);
    put_steps(&o, kv, nkv);
    put_json(&o, "payload", kv_get(kv, nkv, "payload"), 0);
    put_json(&o, "result", kv_get(kv, nkv, "result"), 0);
    put_json(&o, "errors", kv_get(kv, nkv, "errors"), 1);
    put_str(&o, "reason", kv_get(kv, nkv, "reason"));
    put_str(&o, "resource", kv_get(kv, nkv, "resource"));
    put_str(&o, "schedule", kv_get(kv, nkv, "sched"));
    put_literal(&o, "cancelRequested", cancel && !strcmp(cancel, "1") ? "true" : "false");
    put_time(&o, "createdAt", kv_get(kv, nkv, "created"));
    put_time(&o, "startedAt", kv_get(kv, nkv, "started"));
    put_time(&o, "finishedAt", kv_get(kv, nkv, "finished"));
    put_time(&o, "nextRunAt", kv_get(kv, nkv, "next"));
    char href[JOB_ID_MAX + 16];
    snprintf(href, sizeof href, "/v1/jobs/%s", id ? id : "");
    put_str(&o, "href", href);
    return o.err ? o.err : buf_append(out, "}", 1);
}
