/*
 * store_watch.c - incidents, per-claim watch state and watch counters in
 * Redis (layout in store_watch.h).
 *
 * Opening, updating and changing the state of an incident are each one
 * Lua script: two watch cycles racing (a scheduled one and one run on
 * demand) can never open two incidents for the same claim and rule, and a
 * resolve racing a new breach either resolves the incident the breach
 * updated, or lets the breach open a new one - never neither.
 *
 * Lists filter inside a script that walks the narrowest index (claim, then
 * fleet, then state) newest first and stops after a bounded scan, so a
 * page costs at most WATCH_LIST_SCAN hash reads however selective the
 * filter; a short page still carries a cursor when the scan stopped early.
 */
#include "service/domain/store_watch.h"

#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/domain_lua.h"
#include "service/domain/store.h"
#include "service/core/randid.h"
#include "service/redis/store_argv.h"
#include "service/redis/store_conn.h"

#define WATCH_LIST_SCAN 5000

/* The scripts are lua/incident_*.lua; inc_event in lua/prelude.lua announces each change. */

static int incident_id_new(char out[INCIDENT_ID_MAX])
{
    return randid_new("inc_", out, INCIDENT_ID_MAX);
}

int store_incident_id_valid(const char *s)
{
    return randid_valid(s, "inc_");
}

static void upsert_args(struct store_argv *a, const struct incident_new *in, const char *id,
                        long long now_ms)
{
    char k[600], now[32], iso[32];
    snprintf(k, sizeof k, "%sincopen:%s:%s:%s", store_prefix(), in->fleet, in->subject, in->rule);
    snprintf(now, sizeof now, "%lld", now_ms);
    store_format_time(now_ms, iso);
    store_argv_script(a, &domain_lua_incident_upsert, 1);
    store_argv_add(a, k);
    store_argv_add(a, store_prefix());
    store_argv_add(a, id);
    store_argv_add(a, in->fleet);
    store_argv_add(a, in->subject);
    store_argv_add(a, in->claim);
    store_argv_add(a, in->template_);
    store_argv_add(a, in->rule);
    store_argv_add(a, in->finding_json ? in->finding_json : "{}");
    store_argv_add(a, in->action_json ? in->action_json : "{}");
    store_argv_add(a, in->action_pending ? "pending" : "none");
    store_argv_add(a, now);
    store_argv_add(a, iso);
}

int store_incident_upsert(const struct incident_new *in, long long now_ms, char id[INCIDENT_ID_MAX],
                          int *created, int *action_pending)
{
    char fresh[INCIDENT_ID_MAX];
    int rc = incident_id_new(fresh);
    if (rc)
        return rc;
    struct store_argv a = {0};
    upsert_args(&a, in, fresh, now_ms);
    redisReply *r = store_argv_run(&a, &rc);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return FW_EREDIS;
    }
    snprintf(id, INCIDENT_ID_MAX, "%s", r->element[0]->str);
    *created = r->element[1]->integer == 1;
    *action_pending =
        r->element[2]->type == REDIS_REPLY_STRING && !strcmp(r->element[2]->str, "pending");
    freeReplyObject(r);
    return 0;
}

int store_incident_set(const char *id, const char *const *kv, size_t n)
{
    char key[80];
    snprintf(key, sizeof key, "%sinc:%s", store_prefix(), id);
    const char **argv = xcalloc(2 * n + 2, sizeof *argv);
    argv[0] = "HSET";
    argv[1] = key;
    for (size_t i = 0; i < 2 * n; i++)
        argv[2 + i] = kv[i] ? kv[i] : "";
    int rc;
    /* HSET on a missing key would create it: refuse first. */
    const char *ex[] = {"EXISTS", key};
    redisReply *r = store_conn_argv(&rc, 2, ex, 0);
    if (r && r->integer != 1)
        rc = FW_ENOTFOUND;
    freeReplyObject(r);
    if (!rc) {
        r = store_conn_argv(&rc, (int)(2 * n + 2), argv, 0);
        freeReplyObject(r);
    }
    free(argv);
    return rc;
}

/* ---- rendering ---- */

static void put_time(json_t *o, const char *name, const char *ms)
{
    char t[32];
    if (!ms || !*ms) {
        json_object_set_new(o, name, json_null());
        return;
    }
    store_format_time(strtoll(ms, 0, 10), t);
    json_object_set_new(o, name, json_string(t));
}

static void put_json(json_t *o, const char *name, const char *text)
{
    json_t *v = text && *text ? json_loads(text, 0, 0) : 0;
    json_object_set_new(o, name, v ? v : json_null());
}

static void put_str(json_t *o, const char *name, const char *s)
{
    json_object_set_new(o, name, s && *s ? json_string(s) : json_null());
}

/* Looks up field f in alternating name/value strings. */
static const char *kv_get(char *const *kv, size_t n, const char *f)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        if (!strcmp(kv[i], f))
            return kv[i + 1];
    return 0;
}

static json_t *render(char *const *kv, size_t n)
{
    json_t *o = json_object();
    const char *id = kv_get(kv, n, "id");
    char href[64];
    snprintf(href, sizeof href, "/v1/incidents/%s", id ? id : "");
    put_str(o, "id", id);
    put_str(o, "fleet", kv_get(kv, n, "fleet"));
    put_str(o, "subject", kv_get(kv, n, "subject"));
    put_str(o, "claimId", kv_get(kv, n, "claim"));
    put_str(o, "template", kv_get(kv, n, "template"));
    put_str(o, "rule", kv_get(kv, n, "rule"));
    put_str(o, "state", kv_get(kv, n, "state"));
    const char *b = kv_get(kv, n, "breaches");
    json_object_set_new(o, "breaches", json_integer(b ? strtoll(b, 0, 10) : 0));
    put_json(o, "finding", kv_get(kv, n, "finding"));
    put_json(o, "firstFinding", kv_get(kv, n, "firstFinding"));
    put_json(o, "action", kv_get(kv, n, "action"));
    put_str(o, "actionState", kv_get(kv, n, "actionState"));
    put_str(o, "webhookJob", kv_get(kv, n, "webhookJob"));
    put_str(o, "note", kv_get(kv, n, "note"));
    put_time(o, "openedAt", kv_get(kv, n, "openedAt"));
    put_time(o, "lastSeenAt", kv_get(kv, n, "lastSeenAt"));
    put_time(o, "updatedAt", kv_get(kv, n, "updatedAt"));
    put_time(o, "acknowledgedAt", kv_get(kv, n, "ackAt"));
    put_time(o, "resolvedAt", kv_get(kv, n, "resolvedAt"));
    json_object_set_new(o, "href", json_string(href));
    return o;
}

static json_t *render_reply(const redisReply *r)
{
    char **kv = xcalloc(r->elements + 1, sizeof *kv);
    for (size_t i = 0; i < r->elements; i++)
        kv[i] = r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : (char *)"";
    json_t *o = render(kv, r->elements);
    free(kv);
    return o;
}

int store_incident_get(const char *id, json_t **out)
{
    char key[80];
    *out = 0;
    if (!store_incident_id_valid(id))
        return FW_ENOTFOUND;
    snprintf(key, sizeof key, "%sinc:%s", store_prefix(), id);
    const char *argv[] = {"HGETALL", key};
    int rc;
    redisReply *r = store_conn_argv(&rc, 2, argv, 0);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        freeReplyObject(r);
        return FW_ENOTFOUND;
    }
    *out = render_reply(r);
    freeReplyObject(r);
    return 0;
}

int store_incident_transition(const char *id, const char *to, const char *note, long long now_ms)
{
    if (!store_incident_id_valid(id))
        return FW_ENOTFOUND;
    if (strcmp(to, "acknowledged") && strcmp(to, "resolved"))
        return FW_EINVAL;
    char now[32], iso[32];
    snprintf(now, sizeof now, "%lld", now_ms);
    store_format_time(now_ms, iso);
    struct store_argv a = {0};
    store_argv_script(&a, &domain_lua_incident_transition, 1);
    store_argv_addf(&a, "%sinc:%s", store_prefix(), id);
    store_argv_add(&a, store_prefix());
    store_argv_add(&a, to);
    store_argv_add(&a, note);
    store_argv_add(&a, now);
    store_argv_add(&a, iso);
    return store_argv_exec(&a); /* the scripts answer a count, or an error reply (reply.h) */
}

int store_incident_claim_off(const char *claim, const char *incident, const char *job, int revoked,
                             long long now_ms)
{
    char iso[32];
    store_format_time(now_ms, iso);
    struct store_argv a = {0};
    store_argv_script(&a, &domain_lua_incident_claim_off, 1);
    store_argv_addf(&a, "%sincs:c:%s", store_prefix(), claim);
    store_argv_add(&a, store_prefix());
    store_argv_add(&a, revoked ? "claimRevoked" : "claimDisabled");
    store_argv_add(&a, iso);
    store_argv_add(&a, job);
    store_argv_add(&a, incident);
    return store_argv_exec(&a); /* the scripts answer a count, or an error reply (reply.h) */
}

static int list_index(struct store_argv *a, const char *state, const char *fleet, const char *claim)
{
    if (claim)
        store_argv_addf(a, "%sincs:c:%s", store_prefix(), claim);
    else if (fleet)
        store_argv_addf(a, "%sincs:f:%s", store_prefix(), fleet);
    else if (state)
        store_argv_addf(a, "%sincs:s:%s", store_prefix(), state);
    else
        store_argv_addf(a, "%sincs%s", store_prefix(), "");
    return 0;
}

static int cursor_arg(const char *cursor, char out[32])
{
    if (!cursor || !*cursor) {
        snprintf(out, 32, "+inf");
        return 0;
    }
    char *end = 0;
    long long v = strtoll(cursor, &end, 10);
    if (end == cursor || *end || v < 0)
        return FW_EINVAL;
    snprintf(out, 32, "(%lld", v);
    return 0;
}

static json_t *rows(const redisReply *r)
{
    json_t *items = json_array();
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_ARRAY)
            json_array_append_new(items, render_reply(r->element[i]));
    return items;
}

int store_incident_list(const char *state, const char *fleet, const char *claim, int limit,
                        const char *cursor, json_t **items, char **next)
{
    char cur[32], lim[16], scan[16];
    *items = 0;
    *next = 0;
    if (cursor_arg(cursor, cur))
        return FW_EINVAL;
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(scan, sizeof scan, "%d", WATCH_LIST_SCAN);
    struct store_argv a = {0};
    store_argv_script(&a, &domain_lua_incident_list, 1);
    list_index(&a, state, fleet, claim);
    store_argv_add(&a, store_prefix());
    store_argv_add(&a, cur);
    store_argv_add(&a, lim);
    store_argv_add(&a, state);
    store_argv_add(&a, fleet);
    store_argv_add(&a, claim);
    store_argv_add(&a, scan);
    int rc;
    redisReply *r = store_argv_run(&a, &rc);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return FW_EREDIS;
    }
    *items = rows(r->element[1]);
    if (r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer >= 0)
        *next = xasprintf("%lld", r->element[0]->integer);
    freeReplyObject(r);
    return 0;
}

/* ---- per-claim watch state ---- */

#define WATCH_BATCH 1000

static int claims_get_batch(const char *const *ids, size_t n, char **vals)
{
    char key[80];
    snprintf(key, sizeof key, "%swatch:claim", store_prefix());
    const char **argv = xcalloc(n + 2, sizeof *argv);
    argv[0] = "HMGET";
    argv[1] = key;
    memcpy(argv + 2, ids, n * sizeof *argv);
    int rc;
    redisReply *r = store_conn_argv(&rc, (int)n + 2, argv, 0);
    free(argv);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        freeReplyObject(r);
        return FW_EREDIS;
    }
    for (size_t i = 0; i < n; i++)
        vals[i] = r->element[i]->type == REDIS_REPLY_STRING ? xstrdup(r->element[i]->str) : 0;
    freeReplyObject(r);
    return 0;
}

int store_watch_claims_get(const char *const *ids, size_t n, char **vals)
{
    for (size_t i = 0; i < n; i++)
        vals[i] = 0;
    for (size_t off = 0; off < n; off += WATCH_BATCH) {
        size_t m = n - off < WATCH_BATCH ? n - off : WATCH_BATCH;
        int rc = claims_get_batch(ids + off, m, vals + off);
        if (rc)
            return rc;
    }
    return 0;
}

static int claims_set_batch(const char *const *ids, const char *const *vals, size_t n)
{
    char key[80];
    snprintf(key, sizeof key, "%swatch:claim", store_prefix());
    const char **argv = xcalloc(2 * n + 2, sizeof *argv);
    argv[0] = "HSET";
    argv[1] = key;
    for (size_t i = 0; i < n; i++) {
        argv[2 + 2 * i] = ids[i];
        argv[3 + 2 * i] = vals[i] ? vals[i] : "";
    }
    int rc;
    redisReply *r = store_conn_argv(&rc, (int)(2 * n + 2), argv, 0);
    free(argv);
    freeReplyObject(r);
    return rc;
}

int store_watch_claims_set(const char *const *ids, const char *const *vals, size_t n)
{
    for (size_t off = 0; off < n; off += WATCH_BATCH) {
        size_t m = n - off < WATCH_BATCH ? n - off : WATCH_BATCH;
        int rc = claims_set_batch(ids + off, vals + off, m);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- counters ---- */

static int stat_cmd(const char *op, const char *field, long long v)
{
    char key[80], num[32];
    snprintf(key, sizeof key, "%swatch:stats", store_prefix());
    snprintf(num, sizeof num, "%lld", v);
    const char *argv[] = {op, key, field, num};
    int rc;
    redisReply *r = store_conn_argv(&rc, 4, argv, 0);
    freeReplyObject(r);
    return rc;
}

int store_watch_stat_add(const char *field, long long by)
{
    return stat_cmd("HINCRBY", field, by);
}

int store_watch_stat_set(const char *field, long long value)
{
    return stat_cmd("HSET", field, value);
}

int store_watch_stats(json_t **out)
{
    char key[80];
    snprintf(key, sizeof key, "%swatch:stats", store_prefix());
    const char *argv[] = {"HGETALL", key};
    int rc;
    *out = 0;
    redisReply *r = store_conn_argv(&rc, 2, argv, 0);
    if (!r)
        return rc;
    json_t *o = json_object();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        if (r->element[i]->str && r->element[i + 1]->str)
            json_object_set_new(o, r->element[i]->str,
                                json_integer(strtoll(r->element[i + 1]->str, 0, 10)));
    freeReplyObject(r);
    *out = o;
    return 0;
}
