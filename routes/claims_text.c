/*
 * claims_text.c - claims_view written straight to text (see claims_text.h).
 *
 * Every line mirrors claims_view.c: the same fields, the same order, the
 * same nulls. Record values are UTF-8 strings (the store drops any other),
 * so only the two hrefs, cut by snprintf at a fixed size, can be refused by
 * jansson: the claim's own (json_pack fails, the item is dropped) and the
 * job link's (its member is dropped).
 */
#include "claims_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/json_out.h"
#include "service/domain/store.h"

/* A record value, NULL when absent or empty (claims_view's field()). */
static const char *field(const json_t *f, const char *name)
{
    const char *v = json_string_value(json_object_get(f, name));
    return v && v[0] ? v : 0;
}

/* "verification" for a fleet verification's own claim, else "production" (JSON text). */
static const char *purpose(const json_t *f)
{
    const char *p = field(f, "purpose");
    return p && !strcmp(p, "verification") ? "\"verification\"" : "\"production\"";
}

/* ,"key": (constant ASCII keys need no escaping). */
static int key(struct buf *b, const char *k)
{
    int rc = buf_append(b, ",\"", 2);
    rc = rc ? rc : buf_puts(b, k);
    return rc ? rc : buf_append(b, "\":", 2);
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
    if (!field(f, "regUpdatedAt"))
        return buf_append(b, "null", 4);
    int rc = buf_puts(b, "{\"lastHour\":");
    rc = rc ? rc : int_or_null(b, field(f, "regLastHour"));
    rc = rc ? rc : buf_puts(b, ",\"total\":");
    rc = rc ? rc : int_or_null(b, field(f, "regTotal"));
    rc = rc ? rc : buf_puts(b, ",\"updatedAt\":");
    rc = rc ? rc : time_or_null(b, field(f, "regUpdatedAt"));
    return rc ? rc : buf_append(b, "}", 1);
}

/* The "job" member; left out (as set_new of a NULL did) when its href is not UTF-8. */
static int job_member(struct buf *b, const json_t *f)
{
    const char *j = field(f, "job");
    size_t mark = b->len;
    int rc = key(b, "job");
    if (rc || !j)
        return rc ? rc : buf_append(b, "null", 4);
    char href[200];
    snprintf(href, sizeof href, "/v1/jobs/%s", j);
    rc = buf_puts(b, "{\"id\":");
    rc = rc ? rc : json_out_string(b, j, strlen(j));
    rc = rc ? rc : buf_puts(b, ",\"href\":");
    rc = rc ? rc : json_out_string(b, href, strlen(href));
    rc = rc ? rc : buf_append(b, "}", 1);
    if (rc == -1) {
        b->len = mark;
        b->ptr[mark] = '\0';
        return 0;
    }
    return rc;
}

static int flag_member(struct buf *b, const char *k, const json_t *f, const char *name)
{
    const char *v = field(f, name);
    int rc = key(b, k);
    return rc ? rc : buf_puts(b, v && !strcmp(v, "1") ? "true" : "false");
}

/* The head json_pack wrote: -1 when the claim's href is not UTF-8. */
static int head(struct buf *b, const json_t *f)
{
    const char *id = field(f, "id");
    char href[64];
    snprintf(href, sizeof href, "/v1/claims/%s", id ? id : "");
    int rc = buf_puts(b, "{\"id\":");
    rc = rc ? rc : str_or_null(b, id);
    rc = rc ? rc : key(b, "href");
    rc = rc ? rc : json_out_string(b, href, strlen(href));
    const char *strs[][2] = {{"fleet", "fleet"}, {"state", "state"}, {"keySource", "keySource"},
                             {"keyType", "keyType"}, {"certificateId", "certificateId"},
                             {"certificateArn", "certificateArn"}, {"publicKeyFingerprint", "publicKeyFp"}};
    for (size_t i = 0; !rc && i < sizeof strs / sizeof strs[0]; i++) {
        rc = key(b, strs[i][0]);
        rc = rc ? rc : str_or_null(b, field(f, strs[i][1]));
    }
    return rc;
}

static int claim(struct buf *b, const json_t *f)
{
    static const char *const times[][2] = {
        {"createdAt", "created"},       {"activatedAt", "activated"},   {"expiresAt", "expires"},
        {"rotationStartedAt", "rotatingAt"}, {"graceUntil", "graceUntil"}, {"retiredAt", "inactiveAt"},
        {"revokedAt", "revokedAt"},     {"deletedAt", "deletedAt"},
        {"bundleDownloadedAt", "bundleDownloadedAt"}, {"updatedAt", "updated"}};
    static const char *const strs[] = {"predecessor", "successor", "disableReason"};
    int rc = head(b, f);
    for (size_t i = 0; !rc && i < sizeof times / sizeof times[0]; i++) {
        rc = key(b, times[i][0]);
        rc = rc ? rc : time_or_null(b, field(f, times[i][1]));
    }
    for (size_t i = 0; !rc && i < sizeof strs / sizeof strs[0]; i++) {
        rc = key(b, strs[i]);
        rc = rc ? rc : str_or_null(b, field(f, strs[i]));
    }
    rc = rc ? rc : key(b, "registrations");
    rc = rc ? rc : registrations(b, f);
    rc = rc ? rc : key(b, "expectedDevices");
    rc = rc ? rc : int_or_null(b, field(f, "expectedDevices"));
    rc = rc ? rc : key(b, "note");
    rc = rc ? rc : str_or_null(b, field(f, "note"));
    rc = rc ? rc : flag_member(b, "bundleDownloaded", f, "bundleDownloaded");
    rc = rc ? rc : flag_member(b, "privateKeyHeld", f, "keyHeld");
    rc = rc ? rc : key(b, "error");
    rc = rc ? rc : str_or_null(b, field(f, "error"));
    rc = rc ? rc : job_member(b, f);
    rc = rc ? rc : key(b, "purpose");
    rc = rc ? rc : buf_puts(b, purpose(f));
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
