/*
 * claims_text.c - claims_view written straight to text (see claims_text.h).
 *
 * Both walk the rows of service/domain/claim_fields.h, so they show the
 * same fields in the same order; value() mirrors claims_view.c's member():
 * the same nulls. Record values are UTF-8 strings (the store drops any other),
 * so only the two hrefs, cut by snprintf at a fixed size, can be refused by
 * jansson: the claim's own (json_pack fails, the item is dropped) and the
 * job link's (its member is dropped).
 */
#include "claims_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/json_out.h"
#include "service/domain/claim_fields.h"
#include "service/domain/store.h"

/* A record value, NULL when absent or empty (claims_view's field()). */
static const char *field(const json_t *f, const char *name)
{
    const char *v = json_string_value(json_object_get(f, name));
    return v && v[0] ? v : 0;
}

/* "key": after a comma unless first (constant ASCII keys need no escaping). */
static int key_at(struct buf *b, const char *k, int first)
{
    int rc = first ? buf_append(b, "\"", 1) : buf_append(b, ",\"", 2);
    rc = rc ? rc : buf_puts(b, k);
    return rc ? rc : buf_append(b, "\":", 2);
}

static int key(struct buf *b, const char *k)
{
    return key_at(b, k, 0);
}

static int str_or_null(struct buf *b, const char *v)
{
    return v ? json_out_string(b, v, strlen(v)) : buf_append(b, "null", 4);
}

static int time_or_null(struct buf *b, const char *v)
{
    long long ms = v ? strtoll(v, 0, 10) : 0;
    if (ms <= 0)
        return buf_append(b, "null", 4);
    char t[32];
    store_format_time(ms, t);
    return json_out_string(b, t, strlen(t));
}

static int int_or_null(struct buf *b, const char *v)
{
    return v ? buf_printf(b, "%lld", strtoll(v, 0, 10)) : buf_append(b, "null", 4);
}

static int registrations(struct buf *b, const json_t *f)
{
    const char *at = field(f, claim_field_name(CLAIM_F_REG_UPDATED_AT));
    if (!at)
        return buf_append(b, "null", 4);
    const struct claim_field_def *h = &claim_fields[CLAIM_F_REG_LAST_HOUR],
                                 *t = &claim_fields[CLAIM_F_REG_TOTAL];
    int rc = buf_append(b, "{", 1);
    rc = rc ? rc : key_at(b, h->json, 1);
    rc = rc ? rc : int_or_null(b, field(f, h->name));
    rc = rc ? rc : key(b, t->json);
    rc = rc ? rc : int_or_null(b, field(f, t->name));
    rc = rc ? rc : key(b, "updatedAt");
    rc = rc ? rc : time_or_null(b, at);
    return rc ? rc : buf_append(b, "}", 1);
}

/* The job link's value; -1 (the member is left out, as set_new of a NULL
 * did) when its href is not UTF-8. */
static int job_link(struct buf *b, const char *j)
{
    if (!j)
        return buf_append(b, "null", 4);
    char href[200];
    snprintf(href, sizeof href, "/v1/jobs/%s", j);
    int rc = buf_puts(b, "{\"id\":");
    rc = rc ? rc : json_out_string(b, j, strlen(j));
    rc = rc ? rc : buf_puts(b, ",\"href\":");
    rc = rc ? rc : json_out_string(b, href, strlen(href));
    return rc ? rc : buf_append(b, "}", 1);
}

/* The claim's own href; -1 when it is not UTF-8 (claims_view gives NULL). */
static int href(struct buf *b, const char *id)
{
    char h[64];
    snprintf(h, sizeof h, "/v1/claims/%s", id ? id : "");
    int rc = key(b, "href");
    return rc ? rc : json_out_string(b, h, strlen(h));
}

/* One field's value, as claims_view's member(). */
static int value(struct buf *b, const json_t *f, const struct claim_field_def *d)
{
    const char *v = field(f, d->name);
    switch (d->view) {
    case CLAIM_VIEW_ID:
    case CLAIM_VIEW_STR: return str_or_null(b, v);
    case CLAIM_VIEW_TIME: return time_or_null(b, v);
    case CLAIM_VIEW_INT: return int_or_null(b, v);
    case CLAIM_VIEW_FLAG: return buf_puts(b, v && !strcmp(v, "1") ? "true" : "false");
    case CLAIM_VIEW_JOB: return job_link(b, v);
    case CLAIM_VIEW_PURPOSE:
        return buf_puts(b, v && !strcmp(v, "verification") ? "\"verification\"" : "\"production\"");
    case CLAIM_VIEW_REG: return registrations(b, f);
    case CLAIM_VIEW_PART:
    case CLAIM_VIEW_NONE: break;
    }
    return 0;
}

/* One member: ,"json":value; a value that fails with -1 is cut back out. */
static int member(struct buf *b, const json_t *f, const struct claim_field_def *d, int first)
{
    size_t mark = b->len;
    int rc = key_at(b, d->json, first);
    rc = rc ? rc : value(b, f, d);
    if (rc == -1) {
        b->len = mark;
        b->ptr[mark] = '\0';
        return 0;
    }
    return rc;
}

/* Walks claim_fields in order, as claims_view does. */
static int claim(struct buf *b, const json_t *f)
{
    int rc = buf_append(b, "{", 1);
    for (size_t i = 0; !rc && i < CLAIM_NFIELDS; i++) {
        const struct claim_field_def *d = &claim_fields[i];
        if (d->view == CLAIM_VIEW_PART || d->view == CLAIM_VIEW_NONE)
            continue;
        rc = member(b, f, d, b->ptr[b->len - 1] == '{');
        rc = rc ? rc : d->view == CLAIM_VIEW_ID ? href(b, field(f, d->name)) : 0;
    }
    return rc ? rc : buf_append(b, "}", 1);
}

int claims_list_text(const json_t *records, struct buf *out)
{
    int rc = buf_append(out, "[", 1), n = 0;
    for (size_t i = 0; !rc && i < json_array_size(records); i++) {
        size_t mark = out->len;
        rc = n ? buf_append(out, ",", 1) : 0;
        rc = rc ? rc : claim(out, json_array_get(records, i));
        if (rc == -1) { /* claims_view gave NULL: the item was never in the array */
            out->len = mark;
            out->ptr[mark] = '\0';
            rc = 0;
        } else if (!rc) {
            n++;
        }
    }
    return rc ? rc : buf_append(out, "]", 1);
}
