/*
 * store_fleet.c - fleet and template documents in Redis hashes.
 *
 * One document = one hash: "j:<member>" holds the JSON text of a
 * top-level member, "r:<member>" of a member of "resources". Writes are
 * Lua scripts (create-if-absent, update-if-exists-and-version-matches), so
 * two writers of different members never lose each other's change, a
 * handler finishing after a DELETE never revives the record, and If-Match
 * is a real compare-and-set. Expected load: a handful of writes per setup
 * step, reads per GET; lists read one hash per item.
 */
#include "service/domain/store_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/domain_lua.h"
#include "service/domain/store.h"
#include "service/redis/script.h"
#include "service/redis/store_conn.h"

#define DOC_MAX_ARGS 256

static const char *const s_kind_key[] = {"fleet", "template"};
static const char *const s_kind_index[] = {"fleets", "templates"};

/* Growing argv for redisCommandArgv; strings owned. */
struct doc_args {
    char *v[DOC_MAX_ARGS];
    int n;
};

static void args_add(struct doc_args *a, char *owned)
{
    if (a->n < DOC_MAX_ARGS)
        a->v[a->n++] = owned;
    else
        free(owned);
}

static void args_free(struct doc_args *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

static char *dump(const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : 0;
    char *out = xstrdup(s ? s : "null");
    free(s);
    return out;
}

/* Appends "<prefix><key>", json pairs for every member of obj. */
static void args_members(struct doc_args *a, const char *prefix, const json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!strcmp(prefix, "j:") && !strcmp(key, "resources"))
            continue;
        args_add(a, xasprintf("%s%s", prefix, key));
        args_add(a, dump(v));
    }
}

static redisReply *run_argv(int *rc, struct doc_args *a)
{
    size_t lens[DOC_MAX_ARGS];
    for (int i = 0; i < a->n; i++)
        lens[i] = strlen(a->v[i]);
    return store_conn_argv(rc, a->n, (const char **)a->v, lens);
}

/* Runs script s with a's arguments (its keys first) and frees them: the reply, or NULL with *rc
 * set. */
static redisReply *run_script(int *rc, const struct redis_script *s, int nkeys, struct doc_args *a)
{
    redisReply *r = NULL;
    *rc = redis_script_run(s, nkeys, a->n, (const char *const *)a->v, NULL, &r);
    args_free(a);
    return *rc ? NULL : r;
}

/* The document's key, and with nkeys 2 its kind's index. */
static void script_keys(struct doc_args *a, enum store_doc_kind kind, const char *name, int nkeys)
{
    const char *p = store_prefix();
    args_add(a, xasprintf("%s%s:%s", p, s_kind_key[kind], name));
    if (nkeys > 1)
        args_add(a, xasprintf("%s%s", p, s_kind_index[kind]));
}

int store_doc_create(enum store_doc_kind kind, const char *name, const json_t *doc)
{
    struct doc_args a = {0};
    script_keys(&a, kind, name, 2);
    args_add(&a, xstrdup(name));
    args_members(&a, "j:", doc);
    json_t *res = json_object_get(doc, "resources");
    if (json_is_object(res))
        args_members(&a, "r:", res);
    int rc;
    redisReply *r = run_script(&rc, &domain_lua_doc_create, 2, &a);
    if (r)
        freeReplyObject(r);
    return rc;
}

/* "\"v7\"" or "v7" or "7" -> "7"; "*" or NULL -> "". */
static char *version_of(const char *if_match)
{
    if (!if_match || !strcmp(if_match, "*"))
        return xstrdup("");
    const char *s = if_match;
    if (!strncmp(s, "W/", 2))
        s += 2;
    s += strspn(s, "\"v");
    size_t n = strspn(s, "0123456789");
    return n ? xstrndup(s, n) : xstrdup("none");
}

static void format_etag(long long version, char out[STORE_ETAG_MAX])
{
    if (out)
        snprintf(out, STORE_ETAG_MAX, "\"v%lld\"", version);
}

int store_doc_update(enum store_doc_kind kind, const char *name, const json_t *obj,
                     const json_t *resources, const char *if_match, char etag_out[STORE_ETAG_MAX])
{
    struct doc_args a = {0};
    script_keys(&a, kind, name, 1);
    args_add(&a, version_of(if_match));
    if (obj)
        args_members(&a, "j:", obj);
    if (resources)
        args_members(&a, "r:", resources);
    int rc;
    redisReply *r = run_script(&rc, &domain_lua_doc_update, 1, &a);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_INTEGER)
        rc = FW_EREDIS;
    else
        format_etag(r->integer, etag_out);
    freeReplyObject(r);
    return rc;
}

static json_t *parse_value(const char *s)
{
    json_t *v = json_loads(s, JSON_DECODE_ANY, 0);
    return v ? v : json_string(s);
}

static void put_time(json_t *doc, const char *key, const char *ms)
{
    char t[32];
    store_format_time(strtoll(ms, 0, 10), t);
    json_object_set_new(doc, key, json_string(t));
}

/* Builds the document from HGETALL's pairs. */
static json_t *render(const redisReply *r, char etag[STORE_ETAG_MAX])
{
    json_t *doc = json_object(), *res = json_object();
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
        if (!k || !v)
            continue;
        if (!strncmp(k, "j:", 2))
            json_object_set_new(doc, k + 2, parse_value(v));
        else if (!strncmp(k, "r:", 2))
            json_object_set_new(res, k + 2, parse_value(v));
        else if (!strcmp(k, "createdAt") || !strcmp(k, "updatedAt"))
            put_time(doc, k, v);
        else if (!strcmp(k, "version"))
            format_etag(strtoll(v, 0, 10), etag);
    }
    json_object_set_new(doc, "resources", res);
    return doc;
}

int store_doc_get(enum store_doc_kind kind, const char *name, json_t **doc,
                  char etag[STORE_ETAG_MAX])
{
    *doc = 0;
    struct doc_args a = {0};
    args_add(&a, xstrdup("HGETALL"));
    args_add(&a, xasprintf("%s%s:%s", store_prefix(), s_kind_key[kind], name));
    int rc;
    redisReply *r = run_argv(&rc, &a);
    args_free(&a);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        freeReplyObject(r);
        return FW_ENOTFOUND;
    }
    char tmp[STORE_ETAG_MAX];
    *doc = render(r, etag ? etag : tmp);
    freeReplyObject(r);
    return 0;
}

int store_doc_delete(enum store_doc_kind kind, const char *name)
{
    struct doc_args a = {0};
    script_keys(&a, kind, name, 2);
    args_add(&a, xstrdup(name));
    int rc;
    redisReply *r = run_script(&rc, &domain_lua_doc_delete, 2, &a);
    if (r)
        freeReplyObject(r);
    return rc;
}

/* Names after cursor (exclusive), at most limit + 1 of them. */
static int list_names(enum store_doc_kind kind, int limit, const char *cursor, redisReply **out)
{
    struct doc_args a = {0};
    args_add(&a, xstrdup("ZRANGEBYLEX"));
    args_add(&a, xasprintf("%s%s", store_prefix(), s_kind_index[kind]));
    args_add(&a, cursor && *cursor ? xasprintf("(%s", cursor) : xstrdup("-"));
    args_add(&a, xstrdup("+"));
    args_add(&a, xstrdup("LIMIT"));
    args_add(&a, xstrdup("0"));
    args_add(&a, xasprintf("%d", limit + 1));
    int rc;
    *out = run_argv(&rc, &a);
    args_free(&a);
    if (*out && (*out)->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(*out);
        *out = 0;
        rc = FW_EREDIS;
    }
    return rc;
}

static int cursor_valid(const char *cursor)
{
    if (!cursor || !*cursor)
        return 1;
    size_t n = strlen(cursor);
    return n <= 128 &&
           strspn(cursor, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int store_doc_list(enum store_doc_kind kind, int limit, const char *cursor, json_t **items,
                   char **next)
{
    *items = 0;
    *next = 0;
    if (!cursor_valid(cursor))
        return FW_EINVAL;
    redisReply *names = 0;
    int rc = list_names(kind, limit, cursor, &names);
    if (rc)
        return rc;
    json_t *arr = json_array();
    size_t n = names->elements > (size_t)limit ? (size_t)limit : names->elements;
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *d = 0;
        rc = store_doc_get(kind, names->element[i]->str, &d, 0);
        if (rc == FW_ENOTFOUND)
            rc = 0;
        else if (!rc)
            json_array_append_new(arr, d);
    }
    if (!rc && names->elements > (size_t)limit && n > 0)
        *next = xstrdup(names->element[n - 1]->str);
    freeReplyObject(names);
    if (rc)
        json_decref(arr);
    else
        *items = arr;
    return rc;
}

int store_fleet_create(const char *name, const json_t *doc)
{
    return store_doc_create(STORE_DOC_FLEET, name, doc);
}

int store_fleet_get(const char *name, json_t **fleet)
{
    return store_doc_get(STORE_DOC_FLEET, name, fleet, 0);
}

int store_fleet_uid(const char *name, char *uid, size_t uidlen)
{
    int rc;
    uid[0] = '\0';
    redisReply *r = store_conn_cmd(&rc, "HMGET %sfleet:%s version j:uid", store_prefix(), name);
    if (!r)
        return rc;
    rc = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 r->element[0]->type == REDIS_REPLY_STRING
             ? 0
             : FW_ENOTFOUND;
    json_t *v = !rc && r->element[1]->type == REDIS_REPLY_STRING
                    ? json_loads(r->element[1]->str, JSON_DECODE_ANY, 0)
                    : 0;
    if (json_is_string(v))
        snprintf(uid, uidlen, "%s", json_string_value(v));
    json_decref(v);
    freeReplyObject(r);
    return rc;
}

int store_fleet_get_etag(const char *name, json_t **fleet, char etag[STORE_ETAG_MAX])
{
    return store_doc_get(STORE_DOC_FLEET, name, fleet, etag);
}

int store_fleet_set(const char *name, const char *key, const json_t *value)
{
    json_t *o = json_object();
    json_object_set_new(o, key, value ? json_deep_copy(value) : json_null());
    int rc = store_doc_update(STORE_DOC_FLEET, name, o, 0, 0, 0);
    json_decref(o);
    return rc;
}

int store_fleet_set_resource(const char *name, const char *key, const json_t *value)
{
    json_t *o = json_object();
    json_object_set_new(o, key, value ? json_deep_copy(value) : json_null());
    int rc = store_doc_update(STORE_DOC_FLEET, name, 0, o, 0, 0);
    json_decref(o);
    return rc;
}

int store_fleet_update(const char *name, const json_t *obj, const char *if_match,
                       char etag_out[STORE_ETAG_MAX])
{
    return store_doc_update(STORE_DOC_FLEET, name, obj, 0, if_match, etag_out);
}

int store_fleet_delete(const char *name)
{
    return store_doc_delete(STORE_DOC_FLEET, name);
}

int store_fleet_list(int limit, const char *cursor, json_t **items, char **next)
{
    return store_doc_list(STORE_DOC_FLEET, limit, cursor, items, next);
}

int store_fleet_list_names(json_t **names)
{
    *names = 0;
    redisReply *r = 0;
    int rc = list_names(STORE_DOC_FLEET, 1000000 - 1, 0, &r);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->str)
            json_array_append_new(arr, json_string(r->element[i]->str));
    freeReplyObject(r);
    *names = arr;
    return 0;
}

int store_template_create(const char *name, const json_t *doc)
{
    return store_doc_create(STORE_DOC_TEMPLATE, name, doc);
}

int store_template_get_etag(const char *name, json_t **doc, char etag[STORE_ETAG_MAX])
{
    return store_doc_get(STORE_DOC_TEMPLATE, name, doc, etag);
}

int store_template_update(const char *name, const json_t *obj, const char *if_match,
                          char etag_out[STORE_ETAG_MAX])
{
    return store_doc_update(STORE_DOC_TEMPLATE, name, obj, 0, if_match, etag_out);
}

int store_template_delete(const char *name)
{
    return store_doc_delete(STORE_DOC_TEMPLATE, name);
}

int store_template_list(int limit, const char *cursor, json_t **items, char **next)
{
    return store_doc_list(STORE_DOC_TEMPLATE, limit, cursor, items, next);
}
