/*
 * store_claim.c - claim records in Redis (layout in store_claim.h).
 *
 * Invariants:
 *  - A record's state changes only through store_claim_transition (or the
 *    create/successor scripts), each one Lua script that checks the current
 *    state against the allowed set computed by store_claim_transition_ok.
 *  - The sealed private key is never in the hash: it is P claimkey:ID with
 *    an EXPIRE, taken and deleted by the bundle script in the same step
 *    that marks the claim downloaded, so two downloads cannot both get it.
 *  - A key is recorded once per claim (store_claim_key_init is "set if
 *    absent"), so a retried creation reuses the CSR it already made.
 *
 *  - Every state change moves the claim between the state indexes in the
 *    same script (CLAIM_REINDEX_LUA, store_claim_index.h), so a filtered
 *    list reads P claims:s:STATE (or P claims:fs:FLEET:STATE) and costs
 *    what an unfiltered one does.
 *
 * Load: one claim creation is a handful of commands; a page reads its
 * index from the cursor on, and at most the page's records.
 */
#include "service/domain/store_claim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/domain_lua.h"
#include "service/domain/store.h"
#include "service/domain/store_claim_index.h"
#include "service/domain/generation.h"
#include "service/domain/store_fleet.h"
#include "service/core/randid.h"
#include "service/redis/store_argv.h"
#include "service/redis/store_conn.h"

static const char *const s_states[CLAIM_NSTATES] = {"creating", "active",  "rotating", "inactive",
                                                    "revoked",  "deleted", "failed"};

const char *store_claim_state_name(int state)
{
    return state >= 0 && state < CLAIM_NSTATES ? s_states[state] : 0;
}

int store_claim_state_parse(const char *s)
{
    for (int i = 0; s && i < CLAIM_NSTATES; i++)
        if (!strcmp(s, s_states[i]))
            return i;
    return -1;
}

/* Allowed transitions: s_allowed[to] is a bit set of the states it may be
 * entered from. */
#define B(s) (1u << (s))
static const unsigned s_allowed[CLAIM_NSTATES] = {
    [CLAIM_CREATING] = 0,
    [CLAIM_ACTIVE] = B(CLAIM_CREATING) | B(CLAIM_ACTIVE) | B(CLAIM_INACTIVE),
    [CLAIM_ROTATING] = B(CLAIM_ACTIVE) | B(CLAIM_ROTATING),
    [CLAIM_INACTIVE] = B(CLAIM_ACTIVE) | B(CLAIM_ROTATING) | B(CLAIM_INACTIVE),
    [CLAIM_REVOKED] = B(CLAIM_ACTIVE) | B(CLAIM_ROTATING) | B(CLAIM_INACTIVE) | B(CLAIM_REVOKED),
    [CLAIM_DELETED] = B(CLAIM_ACTIVE) | B(CLAIM_ROTATING) | B(CLAIM_INACTIVE) | B(CLAIM_REVOKED) |
                      B(CLAIM_FAILED) | B(CLAIM_DELETED),
    [CLAIM_FAILED] = B(CLAIM_CREATING) | B(CLAIM_FAILED),
};
#undef B

int store_claim_transition_ok(int from, int to)
{
    if (from < 0 || from >= CLAIM_NSTATES || to < 0 || to >= CLAIM_NSTATES)
        return 0;
    return (s_allowed[to] >> from) & 1u;
}

int store_claim_state_active(int state)
{
    return state == CLAIM_CREATING || state == CLAIM_ACTIVE || state == CLAIM_ROTATING;
}

int store_claim_id_new(char out[CLAIM_ID_MAX])
{
    return randid_new("clm_", out, CLAIM_ID_MAX);
}

int store_claim_id_valid(const char *s)
{
    return randid_valid(s, "clm_");
}

/* ---- Redis plumbing ---- */

/* Integer status from a script reply ({code, ...} or code). */
static long long reply_code(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_INTEGER)
        return r->element[0]->integer;
    return -99;
}

static const char *reply_str(const redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_STRING)
        return 0;
    return r->element[i]->str;
}

/* HGETALL-style flat array -> JSON object of strings. */
static json_t *flat_to_object(const redisReply *r)
{
    json_t *o = json_object();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        const char *k = reply_str(r, i), *val = reply_str(r, i + 1);
        if (k && val)
            json_object_set_new(o, k, json_string(val));
    }
    return o;
}

/* ---- create, get, set ---- */

static void add_opt(struct claim_kv *b, enum claim_field f, const char *value)
{
    if (value && value[0])
        claim_kv_str(b, f, value);
}

static void add_kv(struct store_argv *v, const struct claim_kv *b)
{
    for (size_t i = 0; b && i < 2 * b->n; i++)
        store_argv_add(v, b->kv[i]);
}

/* The fields of a new record in state creating. */
static void new_fields(struct claim_kv *b, const char *id, const struct claim_new *c)
{
    claim_kv_init(b, CLAIM_BY_NEW);
    claim_kv_str(b, CLAIM_F_ID, id);
    claim_kv_str(b, CLAIM_F_FLEET, c->fleet);
    claim_kv_str(b, CLAIM_F_STATE, s_states[CLAIM_CREATING]);
    claim_kv_str(b, CLAIM_F_KEY_SOURCE, c->key_source);
    claim_kv_str(b, CLAIM_F_KEY_TYPE, c->key_type);
    claim_kv_str(b, CLAIM_F_BUNDLE_DOWNLOADED, "0");
    claim_kv_str(b, CLAIM_F_KEY_HELD, "0");
    add_opt(b, CLAIM_F_CSR, c->csr);
    add_opt(b, CLAIM_F_PUBLIC_KEY_FP, c->public_key_fp);
    add_opt(b, CLAIM_F_NOTE, c->note);
    add_opt(b, CLAIM_F_PREDECESSOR, c->predecessor);
    add_opt(b, CLAIM_F_JOB, c->job);
    add_opt(b, CLAIM_F_FLEET_UID, c->fleet_uid);
    add_opt(b, CLAIM_F_PURPOSE, c->purpose);
    if (c->expected_devices > 0)
        claim_kv_int(b, CLAIM_F_EXPECTED_DEVICES, c->expected_devices);
}

int store_claim_create(const char *id, const struct claim_new *c)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    store_argv_script(&v, &domain_lua_claim_create, 3);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaims", p);
    store_argv_addf(&v, "%sclaims:f:%s", p, c->fleet);
    store_argv_add(&v, id);
    store_argv_add(&v, p);
    store_argv_add(&v, c->fleet);
    struct claim_kv b;
    new_fields(&b, id, c);
    add_kv(&v, &b);
    return store_argv_exec(&v);
}

int store_claim_get(const char *id, json_t **fields)
{
    struct store_argv v = {0};
    *fields = 0;
    store_argv_add(&v, "HGETALL");
    store_argv_addf(&v, "%sclaim:%s", store_prefix(), id);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        freeReplyObject(r);
        return FW_ENOTFOUND;
    }
    *fields = flat_to_object(r);
    freeReplyObject(r);
    return 0;
}

int store_claim_set(const char *id, const struct claim_kv *kv)
{
    if (kv->by != CLAIM_BY_SET || claim_kv_has(kv, CLAIM_F_STATE))
        return FW_EINVAL; /* states change by store_claim_transition, which keeps the indexes */
    struct store_argv v = {0};
    store_argv_script(&v, &domain_lua_claim_set, 2);
    store_argv_addf(&v, "%sclaim:%s", store_prefix(), id);
    store_argv_addf(&v, "%sclaims:cert", store_prefix());
    store_argv_add(&v, id);
    add_kv(&v, kv);
    return store_argv_exec(&v);
}

/* One HMGET of at most OWNERS_BATCH ids (a cmdv holds 96 arguments). */
#define OWNERS_BATCH 64
static int cert_owners_batch(const char *const *cert_ids, size_t n, char (*owners)[CLAIM_ID_MAX])
{
    struct store_argv v = {0};
    store_argv_add(&v, "HMGET");
    store_argv_addf(&v, "%sclaims:cert", store_prefix());
    for (size_t i = 0; i < n; i++)
        store_argv_add(&v, cert_ids[i]);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    rc = r->type == REDIS_REPLY_ARRAY && r->elements == n ? 0 : FW_EREDIS;
    for (size_t i = 0; !rc && i < n; i++) {
        const redisReply *e = r->element[i];
        int ok = e->type == REDIS_REPLY_STRING && e->len < CLAIM_ID_MAX;
        snprintf(owners[i], CLAIM_ID_MAX, "%s", ok ? e->str : "");
    }
    freeReplyObject(r);
    return rc;
}

int store_claim_cert_owners(const char *const *cert_ids, size_t n, char (*owners)[CLAIM_ID_MAX])
{
    int rc = 0;
    for (size_t at = 0; !rc && at < n; at += OWNERS_BATCH)
        rc = cert_owners_batch(cert_ids + at, n - at < OWNERS_BATCH ? n - at : OWNERS_BATCH,
                               owners + at);
    return rc;
}

static void allowed_list(int to, char *out, size_t n)
{
    size_t off = (size_t)snprintf(out, n, ",");
    for (int s = 0; s < CLAIM_NSTATES && off < n; s++)
        if (store_claim_transition_ok(s, to))
            off += (size_t)snprintf(out + off, n - off, "%s,", s_states[s]);
}

int store_claim_transition(const char *id, int to, const struct claim_kv *kv, int *from)
{
    struct store_argv v = {0};
    char allowed[128];
    if (from)
        *from = -1;
    if (!store_claim_state_name(to) ||
        (kv && (kv->by != CLAIM_BY_SET || claim_kv_has(kv, CLAIM_F_STATE))))
        return FW_EINVAL;
    allowed_list(to, allowed, sizeof allowed);
    store_argv_script(&v, &domain_lua_claim_transition, 1);
    store_argv_addf(&v, "%sclaim:%s", store_prefix(), id);
    store_argv_add(&v, s_states[to]);
    store_argv_add(&v, allowed);
    store_argv_add(&v, store_prefix());
    store_argv_add(&v, id);
    add_kv(&v, kv);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    long long code = reply_code(r);
    if (from)
        *from = store_claim_state_parse(reply_str(r, 1));
    freeReplyObject(r);
    return code == 1 ? 0 : code == 2 ? FW_ECONFLICT : FW_EREDIS;
}

/* ---- the sealed key ---- */

int store_claim_key_init(const char *id, const char *csr, const char *fp, const char *key_type,
                         const char *sealed, long ttl_s, int *already)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    *already = 0;
    store_argv_script(&v, &domain_lua_claim_key_init, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaimkey:%s", p, id);
    store_argv_add(&v, csr);
    store_argv_add(&v, fp);
    store_argv_add(&v, key_type);
    store_argv_add(&v, sealed);
    store_argv_addf(&v, "%ld", ttl_s > 0 ? ttl_s : 1);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    long long code = reply_code(r);
    freeReplyObject(r);
    *already = code == 2;
    return 0;
}

int store_claim_key_put(const char *id, const char *sealed, long ttl_s)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    store_argv_script(&v, &domain_lua_claim_key_put, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaimkey:%s", p, id);
    store_argv_add(&v, sealed);
    store_argv_addf(&v, "%ld", ttl_s > 0 ? ttl_s : 1);
    return store_argv_exec(&v);
}

int store_claim_key_erase(const char *id, const char *reason)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    store_argv_script(&v, &domain_lua_claim_key_erase, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaimkey:%s", p, id);
    store_argv_add(&v, reason);
    return store_argv_exec(&v);
}

/* Runs s_bundle_lua in mode; *sealed (peek) gets the key or NULL. */
static int bundle_step(const char *id, const char *mode, const char *expected, char **sealed,
                       char *why, size_t whylen)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    why[0] = 0;
    store_argv_script(&v, &domain_lua_claim_bundle, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaimkey:%s", p, id);
    store_argv_add(&v, mode);
    store_argv_add(&v, expected ? expected : "");
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    long long code = reply_code(r);
    const char *s = reply_str(r, 1), *w = reply_str(r, 2);
    snprintf(why, whylen, "%s", w ? w : "");
    if (code == 0 && s && sealed)
        *sealed = xstrdup(s);
    freeReplyObject(r);
    return code == 0 ? 0 : code == -1 ? FW_ENOTFOUND : code == -2 ? FW_EGONE : FW_ECONFLICT;
}

int store_claim_bundle_peek(const char *id, char **sealed, char *why, size_t whylen)
{
    *sealed = 0;
    return bundle_step(id, "peek", 0, sealed, why, whylen);
}

int store_claim_bundle_take(const char *id, const char *expected, char *why, size_t whylen)
{
    return bundle_step(id, "take", expected, 0, why, whylen);
}

/* ---- listing and counting ---- */

/* "MS.ID": MS at most 15 digits (exact in a Lua number, ~31,000 years of
 * ms), ID a claim id. */
#define CURSOR_MS_DIGITS 15

int store_claim_cursor_format(long long ms, const char *id, char out[CLAIM_CURSOR_MAX])
{
    out[0] = 0;
    if (ms < 0 || ms > 999999999999999LL || !store_claim_id_valid(id))
        return FW_EINVAL;
    snprintf(out, CLAIM_CURSOR_MAX, "%lld.%s", ms, id);
    return 0;
}

int store_claim_cursor_parse(const char *s, long long *ms, char id[CLAIM_ID_MAX])
{
    *ms = -1;
    id[0] = 0;
    size_t nd = s ? strspn(s, "0123456789") : 0;
    if (nd == 0 || nd > CURSOR_MS_DIGITS || s[nd] != '.' || !store_claim_id_valid(s + nd + 1))
        return FW_EINVAL;
    *ms = strtoll(s, 0, 10);
    snprintf(id, CLAIM_ID_MAX, "%s", s + nd + 1);
    return 0;
}

static json_t *rows_to_array(const redisReply *rows)
{
    json_t *arr = json_array();
    for (size_t i = 0; rows->type == REDIS_REPLY_ARRAY && i < rows->elements; i++)
        json_array_append_new(arr, flat_to_object(rows->element[i]));
    return arr;
}

/* {next ms or -1, next id, rows} -> *items and *next. */
static int list_reply(const redisReply *r, json_t **items, char **next)
{
    char cur[CLAIM_CURSOR_MAX];
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER)
        return FW_EREDIS;
    long long ms = r->element[0]->integer;
    if (ms >= 0 && store_claim_cursor_format(ms, reply_str(r, 1), cur))
        return FW_EREDIS;
    *items = rows_to_array(r->element[2]);
    *next = ms >= 0 ? xstrdup(cur) : 0;
    return 0;
}

/* The uid of fleet's current generation into uid ("" when the fleet is gone, or for none): the
 * claims of the fleet's indexes that record another one are an earlier fleet's of the same name
 * (deleted, then made again) and not this one's. 0 or a Redis error. */
static int generation(const char *fleet, char uid[GENERATION_UID_MAX])
{
    uid[0] = 0;
    if (!fleet)
        return 0;
    int rc = store_fleet_uid(fleet, uid, GENERATION_UID_MAX);
    return rc == FW_ENOTFOUND ? 0 : rc;
}

int store_claim_list_fields(const char *fleet, const char *state, int limit, const char *cursor,
                            const char *const *fields, size_t nfields, json_t **items, char **next)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    long long ms = -1;
    char id[CLAIM_ID_MAX] = "", uid[GENERATION_UID_MAX];
    *items = 0;
    *next = 0;
    if (cursor && cursor[0] && store_claim_cursor_parse(cursor, &ms, id))
        return FW_EINVAL;
    int rc = generation(fleet, uid);
    if (rc)
        return rc;
    store_argv_script(&v, &domain_lua_claim_list, 2);
    if (fleet)
        store_argv_addf(&v, "%sclaims:f:%s", p, fleet);
    else
        store_argv_addf(&v, "%sclaims", p);
    if (state && fleet)
        store_argv_addf(&v, "%sclaims:fs:%s:%s", p, fleet, state);
    else if (state)
        store_argv_addf(&v, "%sclaims:s:%s", p, state);
    else
        store_argv_add(&v, v.s[v.n - 1]);
    store_argv_add_keyset(&v, ms, id, limit);
    store_argv_add(&v, state ? state : "");
    store_argv_add(&v, p);
    store_argv_add(&v, "5000");
    store_argv_add(&v, uid);
    for (size_t i = 0; i < nfields; i++)
        store_argv_add(&v, fields[i]);
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    rc = list_reply(r, items, next);
    freeReplyObject(r);
    return rc;
}

int store_claim_list(const char *fleet, const char *state, int limit, const char *cursor,
                     json_t **items, char **next)
{
    return store_claim_list_fields(fleet, state, limit, cursor, 0, 0, items, next);
}

int store_claim_count_active(const char *fleet, int *n)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    char uid[GENERATION_UID_MAX];
    *n = 0;
    int rc = generation(fleet, uid);
    if (rc)
        return rc;
    store_argv_script(&v, &domain_lua_claim_count_active, 1);
    store_argv_addf(&v, "%sclaims:f:%s", p, fleet);
    store_argv_add(&v, p);
    store_argv_add(&v, fleet);
    store_argv_add(&v, uid);
    long long count = 0;
    rc = store_argv_run_int(&v, &count);
    *n = (int)count;
    return rc;
}

int store_claim_set_registrations(const char *id, long long last_hour, long long total,
                                  long long updated_ms)
{
    struct claim_kv b;
    claim_kv_init(&b, CLAIM_BY_SET);
    claim_kv_int(&b, CLAIM_F_REG_LAST_HOUR, last_hour);
    claim_kv_int(&b, CLAIM_F_REG_TOTAL, total);
    claim_kv_int(&b, CLAIM_F_REG_UPDATED_AT, updated_ms);
    return store_claim_set(id, &b);
}

/* ---- rotation ---- */

int store_claim_successor_ensure(const char *id, const char *csr, const char *fp,
                                 const char *key_type, char out[CLAIM_ID_MAX], int *created)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    char nid[CLAIM_ID_MAX];
    *created = 0;
    out[0] = 0;
    if (store_claim_id_new(nid))
        return FW_ECRYPTO;
    store_argv_script(&v, &domain_lua_claim_successor, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaim:%s", p, nid);
    store_argv_add(&v, nid);
    store_argv_add(&v, csr);
    store_argv_add(&v, fp);
    store_argv_add(&v, key_type);
    store_argv_add(&v, p);
    store_argv_add(&v, id);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    long long code = reply_code(r);
    const char *s = reply_str(r, 1);
    if (code && s)
        snprintf(out, CLAIM_ID_MAX, "%s", s);
    *created = code == 1;
    freeReplyObject(r);
    return code ? 0 : FW_EREDIS;
}

int store_claim_rotation_due(const char *id, long long due_ms)
{
    struct store_argv v = {0};
    store_argv_add(&v, due_ms > 0 ? "ZADD" : "ZREM");
    store_argv_addf(&v, "%sclaims:rotdue", store_prefix());
    if (due_ms > 0)
        store_argv_addf(&v, "%lld", due_ms);
    store_argv_add(&v, id);
    return store_argv_exec(&v);
}

int store_claim_rotation_due_nx(const char *id, long long due_ms)
{
    struct store_argv v = {0};
    store_argv_add(&v, "ZADD");
    store_argv_addf(&v, "%sclaims:rotdue", store_prefix());
    store_argv_add(&v, "NX");
    store_argv_addf(&v, "%lld", due_ms);
    store_argv_add(&v, id);
    return store_argv_exec(&v);
}

int store_claim_rotation_take(long long now_ms, int max, json_t **ids)
{
    struct store_argv v = {0};
    *ids = 0;
    store_argv_script(&v, &domain_lua_claim_rotation_take, 1);
    store_argv_addf(&v, "%sclaims:rotdue", store_prefix());
    store_argv_addf(&v, "%lld", now_ms);
    store_argv_addf(&v, "%d", max > 0 ? max : 1);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (reply_str(r, i))
            json_array_append_new(arr, json_string(reply_str(r, i)));
    *ids = arr;
    freeReplyObject(r);
    return 0;
}
