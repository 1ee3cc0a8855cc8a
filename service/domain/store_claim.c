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
#include "service/domain/store.h"
#include "service/domain/store_claim_index.h"
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
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_INTEGER)
        return r->element[0]->integer;
    return -99;
}

static const char *reply_str(const redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements || r->element[i]->type != REDIS_REPLY_STRING)
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
static void new_fields(struct claim_kv *b, const char *id, const struct claim_new *c, long long now)
{
    claim_kv_init(b, CLAIM_BY_NEW);
    claim_kv_str(b, CLAIM_F_ID, id);
    claim_kv_str(b, CLAIM_F_FLEET, c->fleet);
    claim_kv_str(b, CLAIM_F_STATE, s_states[CLAIM_CREATING]);
    claim_kv_str(b, CLAIM_F_KEY_SOURCE, c->key_source);
    claim_kv_str(b, CLAIM_F_KEY_TYPE, c->key_type);
    claim_kv_str(b, CLAIM_F_BUNDLE_DOWNLOADED, "0");
    claim_kv_str(b, CLAIM_F_KEY_HELD, "0");
    claim_kv_int(b, CLAIM_F_CREATED, now);
    claim_kv_int(b, CLAIM_F_UPDATED, now);
    add_opt(b, CLAIM_F_CSR, c->csr);
    add_opt(b, CLAIM_F_PUBLIC_KEY_FP, c->public_key_fp);
    add_opt(b, CLAIM_F_NOTE, c->note);
    add_opt(b, CLAIM_F_PREDECESSOR, c->predecessor);
    add_opt(b, CLAIM_F_JOB, c->job);
    add_opt(b, CLAIM_F_FLEET_UID, c->fleet_uid);
    if (c->expected_devices > 0)
        claim_kv_int(b, CLAIM_F_EXPECTED_DEVICES, c->expected_devices);
}

/* KEYS: claim, claims, claims:f:FLEET. ARGV: created ms, id, prefix, fleet, fields... */
static const char s_create_lua[] = CLAIM_REINDEX_LUA
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 5))\n"
    "redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])\n"
    "redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])\n"
    "reindex(ARGV[3], ARGV[2], ARGV[4], ARGV[1], false, 'creating')\n"
    "return 1\n";

int store_claim_create(const char *id, const struct claim_new *c)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    long long now = store_now_ms();
    store_argv_eval(&v, s_create_lua, 3);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaims", p);
    store_argv_addf(&v, "%sclaims:f:%s", p, c->fleet);
    store_argv_addf(&v, "%lld", now);
    store_argv_add(&v, id);
    store_argv_add(&v, p);
    store_argv_add(&v, c->fleet);
    struct claim_kv b;
    new_fields(&b, id, c, now);
    add_kv(&v, &b);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    rc = reply_code(r) == 1 ? 0 : FW_ECONFLICT;
    freeReplyObject(r);
    return rc;
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

/* KEYS[1] the claim, KEYS[2] the certificate index; ARGV[1] now, ARGV[2]
 * the claim id, ARGV[3..] fields. A certificateId is indexed in the same
 * script, so no claim ever holds a certificate the index does not know. */
static const char s_set_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'updated', ARGV[1], unpack(ARGV, 3))\n"
    "for i = 3, #ARGV - 1, 2 do\n"
    "  if ARGV[i] == 'certificateId' and ARGV[i + 1] ~= '' then redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[2]) end\n"
    "end\n"
    "return 1\n";

int store_claim_set(const char *id, const struct claim_kv *kv)
{
    if (kv->by != CLAIM_BY_SET || claim_kv_has(kv, CLAIM_F_STATE))
        return FW_EINVAL; /* states change by store_claim_transition, which keeps the indexes */
    struct store_argv v = {0};
    store_argv_eval(&v, s_set_lua, 2);
    store_argv_addf(&v, "%sclaim:%s", store_prefix(), id);
    store_argv_addf(&v, "%sclaims:cert", store_prefix());
    store_argv_addf(&v, "%lld", store_now_ms());
    store_argv_add(&v, id);
    add_kv(&v, kv);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    rc = reply_code(r) == 1 ? 0 : FW_ENOTFOUND;
    freeReplyObject(r);
    return rc;
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
        rc = cert_owners_batch(cert_ids + at, n - at < OWNERS_BATCH ? n - at : OWNERS_BATCH, owners + at);
    return rc;
}

/* ARGV[1] now, ARGV[2] target state, ARGV[3] allowed states ",a,b,",
 * ARGV[4] prefix, ARGV[5] id, ARGV[6..] fields. Returns {code, current state}. */
static const char s_transition_lua[] = CLAIM_REINDEX_LUA
    "local f = redis.call('HMGET', KEYS[1], 'state', 'fleet', 'created')\n"
    "local cur = f[1]\n"
    "if not cur then return {0, ''} end\n"
    "if not string.find(ARGV[3], ',' .. cur .. ',', 1, true) then return {2, cur} end\n"
    "redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updated', ARGV[1], unpack(ARGV, 6))\n"
    "reindex(ARGV[4], ARGV[5], f[2] or '', f[3] or 0, cur, ARGV[2])\n"
    "return {1, cur}\n";

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
    if (!store_claim_state_name(to) || (kv && (kv->by != CLAIM_BY_SET || claim_kv_has(kv, CLAIM_F_STATE))))
        return FW_EINVAL;
    allowed_list(to, allowed, sizeof allowed);
    store_argv_eval(&v, s_transition_lua, 1);
    store_argv_addf(&v, "%sclaim:%s", store_prefix(), id);
    store_argv_addf(&v, "%lld", store_now_ms());
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
    return code == 1 ? 0 : code == 2 ? FW_ECONFLICT : FW_ENOTFOUND;
}

/* ---- the sealed key ---- */

/* KEYS: claim, claimkey. ARGV: now, csr, fp, keyType, sealed, ttl. */
static const char s_key_init_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "if redis.call('HEXISTS', KEYS[1], 'csr') == 1 then return 2 end\n"
    "redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[6])\n"
    "redis.call('HSET', KEYS[1], 'csr', ARGV[2], 'publicKeyFp', ARGV[3], 'keyType', ARGV[4], 'keyHeld', '1',\n"
    "           'updated', ARGV[1])\n"
    "return 1\n";

int store_claim_key_init(const char *id, const char *csr, const char *fp, const char *key_type, const char *sealed,
                         long ttl_s, int *already)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    *already = 0;
    store_argv_eval(&v, s_key_init_lua, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaimkey:%s", p, id);
    store_argv_addf(&v, "%lld", store_now_ms());
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
    return code == 0 ? FW_ENOTFOUND : 0;
}

static const char s_key_put_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])\n"
    "redis.call('HSET', KEYS[1], 'keyHeld', '1', 'updated', ARGV[1])\n"
    "return 1\n";

int store_claim_key_put(const char *id, const char *sealed, long ttl_s)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    store_argv_eval(&v, s_key_put_lua, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaimkey:%s", p, id);
    store_argv_addf(&v, "%lld", store_now_ms());
    store_argv_add(&v, sealed);
    store_argv_addf(&v, "%ld", ttl_s > 0 ? ttl_s : 1);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    rc = reply_code(r) == 1 ? 0 : FW_ENOTFOUND;
    freeReplyObject(r);
    return rc;
}

static const char s_key_erase_lua[] =
    "local had = redis.call('DEL', KEYS[2])\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 and had == 1 then\n"
    "  redis.call('HSET', KEYS[1], 'keyHeld', '0', 'keyErasedReason', ARGV[1])\n"
    "end\n"
    "return had\n";

int store_claim_key_erase(const char *id, const char *reason)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    store_argv_eval(&v, s_key_erase_lua, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaimkey:%s", p, id);
    store_argv_add(&v, reason);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (r)
        freeReplyObject(r);
    return rc;
}

/* {code, sealed|false, why}: 0 ok, -1 not found, -2 gone, -3 creating,
 * -4 the key changed since it was peeked. ARGV: now ms, "peek" or "take",
 * the sealed key take expects ("" for none). */
static const char s_bundle_lua[] =
    "local f = redis.call('HMGET', KEYS[1], 'state', 'bundleDownloaded', 'keyHeld', 'keyErasedReason')\n"
    "if not f[1] then return {-1, false, ''} end\n"
    "if f[2] == '1' then return {-2, false, 'the bundle was already downloaded'} end\n"
    "if f[1] == 'creating' then return {-3, false, 'the claim is still being created'} end\n"
    "if f[1] == 'revoked' or f[1] == 'deleted' or f[1] == 'failed' then\n"
    "  return {-2, false, 'the claim is ' .. f[1]} end\n"
    "local sealed = redis.call('GET', KEYS[2])\n"
    "if f[3] == '1' and not sealed then\n"
    "  redis.call('HSET', KEYS[1], 'keyHeld', '0', 'keyErasedReason', 'ttl')\n"
    "  return {-2, false, 'the private key was erased: it was not downloaded within its time to live'} end\n"
    "if f[3] ~= '1' and f[4] then\n"
    "  return {-2, false, 'the private key was erased (' .. f[4] .. ')'} end\n"
    "if ARGV[2] == 'peek' then return {0, sealed or false, ''} end\n"
    "if (sealed or '') ~= ARGV[3] then return {-4, false, 'the key changed meanwhile; download again'} end\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('HSET', KEYS[1], 'bundleDownloaded', '1', 'bundleDownloadedAt', ARGV[1], 'keyHeld', '0')\n"
    "if sealed then redis.call('HSET', KEYS[1], 'keyErasedReason', 'downloaded') end\n"
    "return {0, false, ''}\n";

/* Runs s_bundle_lua in mode; *sealed (peek) gets the key or NULL. */
static int bundle_step(const char *id, const char *mode, const char *expected, char **sealed, char *why,
                       size_t whylen)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    why[0] = 0;
    store_argv_eval(&v, s_bundle_lua, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaimkey:%s", p, id);
    store_argv_addf(&v, "%lld", store_now_ms());
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

/* KEYS[1] index of every claim (or of the fleet's), KEYS[2] the state's
 * index (claims:s:STATE or claims:fs:FLEET:STATE; KEYS[1] again without a
 * state); ARGV: cursor ms ("" newest), cursor id, limit, state (""
 * any), prefix, max scan, then the fields to read (none: all of them,
 * HGETALL). With a state, the state's index is walked once it is built
 * (P claims:idx, store_claim_index.h): every entry it gives is a match, so
 * a filtered page reads what an unfiltered one does. Before (an upgrade
 * whose migration is still running) the whole index is walked and the
 * state filtered here, as far as the scan bound. The state is checked in
 * both cases: an entry an older version left behind is skipped. A list that names its fields leaves out what it does not show:
 * a claim's CSR and certificate PEM are ~1.3 KB of its ~2 KB, read, sent,
 * parsed, copied and freed for nothing on every page.
 *
 * Keyset paging: the cursor is the last entry the previous page examined
 * (score = created ms, member = id). Redis orders equal scores by member,
 * so newest first the page goes on at score < ms, or score == ms and
 * member < id. Claims created meanwhile are newer than the cursor and
 * never shift the walk (an offset did: items showed twice). The start is
 * found by rank (ZCOUNT of the newer scores, O(log n)); then the entries
 * of the cursor's own millisecond at or above its id are passed over,
 * uncounted: a few at most, as each claim is one script's ZADD. Lua's <
 * is strcoll, which orders "clm_" + lowercase hex as Redis does.
 * The scan bound counts examined entries, so a sparse state filter may
 * give a short page that still carries a cursor.
 * Returns {next ms or -1, next id, {flat hash, ...}}. */
static const char s_list_lua[] =
    "local cms, cid = tonumber(ARGV[1]), ARGV[2]\n"
    "local lim, scan = tonumber(ARGV[3]), tonumber(ARGV[6])\n"
    "local idx = KEYS[1]\n"
    "if ARGV[4] ~= '' and redis.call('GET', ARGV[5] .. 'claims:idx') == '" CLAIM_INDEX_VERSION "' then idx = KEYS[2] end\n"
    "local names = {unpack(ARGV, 7)}\n"
    "local function read(k)\n"
    "  if #names == 0 then return redis.call('HGETALL', k) end\n"
    "  local v, h = redis.call('HMGET', k, unpack(names)), {}\n"
    "  for i = 1, #names do if v[i] then h[#h + 1] = names[i]; h[#h + 1] = v[i] end end\n"
    "  if #h == 0 and redis.call('EXISTS', k) == 1 then h = {'id', ''} end\n"
    "  return h\n"
    "end\n"
    "local total = redis.call('ZCARD', idx)\n"
    "local pos = cms and redis.call('ZCOUNT', idx, '(' .. ARGV[1], '+inf') or 0\n"
    "local out, seen, lms, lid = {}, 0, cms, cid\n"
    "while #out < lim and pos < total and seen < scan do\n"
    "  local ids = redis.call('ZREVRANGE', idx, pos, pos + 199, 'WITHSCORES')\n"
    "  if #ids == 0 then break end\n"
    "  for i = 1, #ids, 2 do\n"
    "    local id, ms = ids[i], tonumber(ids[i + 1])\n"
    "    pos = pos + 1\n"
    "    if not (cms and ms == cms and id >= cid) then\n"
    "      seen, lms, lid = seen + 1, ms, id\n"
    "      local k = ARGV[5] .. 'claim:' .. id\n"
    "      if ARGV[4] == '' or redis.call('HGET', k, 'state') == ARGV[4] then\n"
    "        local h = read(k)\n"
    "        if #h > 0 then out[#out + 1] = h end\n"
    "      end\n"
    "      if #out >= lim or seen >= scan then break end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if pos >= total then return {-1, '', out} end\n"
    "return {lms or -1, lid or '', out}\n";

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
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_INTEGER)
        return FW_EREDIS;
    long long ms = r->element[0]->integer;
    if (ms >= 0 && store_claim_cursor_format(ms, reply_str(r, 1), cur))
        return FW_EREDIS;
    *items = rows_to_array(r->element[2]);
    *next = ms >= 0 ? xstrdup(cur) : 0;
    return 0;
}

int store_claim_list_fields(const char *fleet, const char *state, int limit, const char *cursor,
                            const char *const *fields, size_t nfields, json_t **items, char **next)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    long long ms = -1;
    char id[CLAIM_ID_MAX] = "";
    *items = 0;
    *next = 0;
    if (cursor && cursor[0] && store_claim_cursor_parse(cursor, &ms, id))
        return FW_EINVAL;
    store_argv_eval(&v, s_list_lua, 2);
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
    if (ms >= 0)
        store_argv_addf(&v, "%lld", ms);
    else
        store_argv_add(&v, "");
    store_argv_add(&v, id);
    store_argv_addf(&v, "%d", limit);
    store_argv_add(&v, state ? state : "");
    store_argv_add(&v, p);
    store_argv_add(&v, "5000");
    for (size_t i = 0; i < nfields; i++)
        store_argv_add(&v, fields[i]);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    rc = list_reply(r, items, next);
    freeReplyObject(r);
    return rc;
}

int store_claim_list(const char *fleet, const char *state, int limit, const char *cursor, json_t **items,
                     char **next)
{
    return store_claim_list_fields(fleet, state, limit, cursor, 0, 0, items, next);
}

/* With the state indexes built: three ZCARDs; before, a walk of the fleet's claims. */
static const char s_count_lua[] =
    "local p, fs = ARGV[1], ARGV[1] .. 'claims:fs:' .. ARGV[2] .. ':'\n"
    "if redis.call('GET', p .. 'claims:idx') == '" CLAIM_INDEX_VERSION "' then\n"
    "  return redis.call('ZCARD', fs .. 'creating') + redis.call('ZCARD', fs .. 'active') +\n"
    "         redis.call('ZCARD', fs .. 'rotating')\n"
    "end\n"
    "local n = 0\n"
    "for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
    "  local s = redis.call('HGET', ARGV[1] .. 'claim:' .. id, 'state')\n"
    "  if s == 'creating' or s == 'active' or s == 'rotating' then n = n + 1 end\n"
    "end\n"
    "return n\n";

int store_claim_count_active(const char *fleet, int *n)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    *n = 0;
    store_argv_eval(&v, s_count_lua, 1);
    store_argv_addf(&v, "%sclaims:f:%s", p, fleet);
    store_argv_add(&v, p);
    store_argv_add(&v, fleet);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    *n = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
    freeReplyObject(r);
    return 0;
}

int store_claim_set_registrations(const char *id, long long last_hour, long long total, long long updated_ms)
{
    struct claim_kv b;
    claim_kv_init(&b, CLAIM_BY_SET);
    claim_kv_int(&b, CLAIM_F_REG_LAST_HOUR, last_hour);
    claim_kv_int(&b, CLAIM_F_REG_TOTAL, total);
    claim_kv_int(&b, CLAIM_F_REG_UPDATED_AT, updated_ms);
    return store_claim_set(id, &b);
}

/* ---- rotation ---- */

/* KEYS[1] old claim, KEYS[2] new claim. ARGV: new id, now, csr, fp,
 * key type override, prefix, old id. Returns {code, successor id}. */
static const char s_successor_lua[] = CLAIM_REINDEX_LUA
    "local f = redis.call('HMGET', KEYS[1], 'state', 'successor', 'fleet', 'keySource', 'keyType',\n"
    "                     'expectedDevices', 'note')\n"
    "if not f[1] then return {0, ''} end\n"
    "if f[2] and f[2] ~= '' then return {2, f[2]} end\n"
    "local kt = ARGV[5] ~= '' and ARGV[5] or f[5]\n"
    "redis.call('HSET', KEYS[2], 'id', ARGV[1], 'fleet', f[3], 'state', 'creating', 'keySource', f[4],\n"
    "           'keyType', kt, 'bundleDownloaded', '0', 'keyHeld', '0', 'created', ARGV[2],\n"
    "           'updated', ARGV[2], 'predecessor', ARGV[7])\n"
    "if f[6] then redis.call('HSET', KEYS[2], 'expectedDevices', f[6]) end\n"
    "if f[7] then redis.call('HSET', KEYS[2], 'note', f[7]) end\n"
    "if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'csr', ARGV[3], 'publicKeyFp', ARGV[4]) end\n"
    "redis.call('ZADD', ARGV[6] .. 'claims', ARGV[2], ARGV[1])\n"
    "redis.call('ZADD', ARGV[6] .. 'claims:f:' .. f[3], ARGV[2], ARGV[1])\n"
    "reindex(ARGV[6], ARGV[1], f[3], ARGV[2], false, 'creating')\n"
    "redis.call('HSET', KEYS[1], 'successor', ARGV[1], 'updated', ARGV[2])\n"
    "return {1, ARGV[1]}\n";

int store_claim_successor_ensure(const char *id, const char *csr, const char *fp, const char *key_type,
                                 char out[CLAIM_ID_MAX], int *created)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    char nid[CLAIM_ID_MAX];
    *created = 0;
    out[0] = 0;
    if (store_claim_id_new(nid))
        return FW_ECRYPTO;
    store_argv_eval(&v, s_successor_lua, 2);
    store_argv_addf(&v, "%sclaim:%s", p, id);
    store_argv_addf(&v, "%sclaim:%s", p, nid);
    store_argv_add(&v, nid);
    store_argv_addf(&v, "%lld", store_now_ms());
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
    return code ? 0 : FW_ENOTFOUND;
}

int store_claim_rotation_due(const char *id, long long due_ms)
{
    struct store_argv v = {0};
    store_argv_add(&v, due_ms > 0 ? "ZADD" : "ZREM");
    store_argv_addf(&v, "%sclaims:rotdue", store_prefix());
    if (due_ms > 0)
        store_argv_addf(&v, "%lld", due_ms);
    store_argv_add(&v, id);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (r)
        freeReplyObject(r);
    return rc;
}

int store_claim_rotation_due_nx(const char *id, long long due_ms)
{
    struct store_argv v = {0};
    store_argv_add(&v, "ZADD");
    store_argv_addf(&v, "%sclaims:rotdue", store_prefix());
    store_argv_add(&v, "NX");
    store_argv_addf(&v, "%lld", due_ms);
    store_argv_add(&v, id);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (r)
        freeReplyObject(r);
    return rc;
}

static const char s_take_lua[] =
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
    "if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end\n"
    "return ids\n";

int store_claim_rotation_take(long long now_ms, int max, json_t **ids)
{
    struct store_argv v = {0};
    *ids = 0;
    store_argv_eval(&v, s_take_lua, 1);
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

/* ---- Idempotency-Key ---- */

static const char s_idem_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3]) return {1, ''} end\n"
    "local sep = string.find(v, '|', 1, true)\n"
    "local id, body = string.sub(v, 1, sep - 1), string.sub(v, sep + 1)\n"
    "return {body == ARGV[2] and 2 or 3, id}\n";

int store_claim_idem_bind(const char *key_hash, const char *body_hash, const char *claim_id, long ttl_s,
                          char bound_id[CLAIM_ID_MAX], int *same_body)
{
    struct store_argv v = {0};
    bound_id[0] = 0;
    *same_body = 0;
    store_argv_eval(&v, s_idem_lua, 1);
    store_argv_addf(&v, "%sclaimidem:%s", store_prefix(), key_hash);
    store_argv_add(&v, claim_id);
    store_argv_add(&v, body_hash);
    store_argv_addf(&v, "%ld", ttl_s > 0 ? ttl_s : 86400);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    long long code = reply_code(r);
    const char *id = reply_str(r, 1);
    if (code != 1 && id)
        snprintf(bound_id, CLAIM_ID_MAX, "%s", id);
    *same_body = code == 2;
    freeReplyObject(r);
    return 0;
}
