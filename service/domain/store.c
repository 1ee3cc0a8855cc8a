/*
 * store.c - tokens and the audit trail in Redis.
 *
 * Multi-key changes go through MULTI/EXEC so a crash never leaves a token
 * reachable by hash but missing from the list, or the reverse.
 */
#include "service/domain/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/domain_lua.h"
#include "service/domain/store_rate.h"
#include "service/redis/reply.h"
#include "service/redis/store_argv.h"
#include "service/redis/store_conn.h"

long long store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_format_time(long long ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char t[24];
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", t, (int)(ms % 1000));
}

int store_ping(char *why, size_t whylen)
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "PING");
    if (!r) {
        snprintf(why, whylen, "%s",
                 rc == FW_EUNAVAILABLE ? store_conn_last_error() : "redis error reply to PING");
        return FW_EUNAVAILABLE;
    }
    freeReplyObject(r);
    why[0] = '\0';
    return 0;
}

int store_ready_write(const char *process, char *code, size_t codelen)
{
    code[0] = '\0';
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EUNAVAILABLE;
    redisReply *r = redisCommand(c, "SET %sready:%s 1 PX 30000", store_prefix(), process);
    if (!r) {
        store_conn_broken();
        return FW_EUNAVAILABLE;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        size_t n = r->str ? strcspn(r->str, " ") : 0;
        snprintf(code, codelen, "%.*s", (int)(n < 32 ? n : 32), r->str ? r->str : "");
        if (redis_reply_is_failover(r->str, r->len))
            store_conn_broken(); /* as every command does: the next one reconnects */
        rc = FW_EREDIS;
    }
    freeReplyObject(r);
    return rc;
}

int store_kek_check(const char *check, int write, int *written)
{
    int rc = 0;
    *written = 0;
    if (write) {
        redisReply *r = store_conn_cmd(&rc, "SET %skek:check %s NX", store_prefix(), check);
        if (!r)
            return rc;
        *written = r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (*written)
            return 0;
    }
    redisReply *r = store_conn_cmd(&rc, "GET %skek:check", store_prefix());
    if (!r)
        return rc;
    size_t n = strlen(check);
    if (r->type != REDIS_REPLY_STRING)
        rc = FW_ENOTFOUND;
    else if (r->len != n || CRYPTO_memcmp(r->str, check, n))
        rc = FW_ECONFLICT;
    freeReplyObject(r);
    return rc;
}

/* Appends a command to the pipeline; hiredis only fails here on OOM. */
static void append(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisvAppendCommand(c, fmt, ap);
    va_end(ap);
}

/* Reads n pipelined replies, each through the one mapping (reply.h); the last one (EXEC) must be
 * an array. */
static int read_exec(redisContext *c, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        redisReply *r = 0;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            store_conn_broken();
            return FW_EUNAVAILABLE;
        }
        int one = redis_reply_rc(r, i == n - 1 ? "EXEC" : "MULTI");
        if (!one && i == n - 1 && r->type != REDIS_REPLY_ARRAY)
            one = FW_EREDIS;
        if (!rc)
            rc = one;
        freeReplyObject(r);
    }
    return rc;
}

int store_token_create(const char *hash, const struct auth_token *t)
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EUNAVAILABLE;
    const char *p = store_prefix();
    long long now = store_now_ms();
    append(c, "MULTI");
    append(c, "HSET %stoken:%s id %s name %s scope %s created %lld lastUsed 0", p, hash, t->id,
           t->name, auth_scope_name(t->scope), now);
    append(c, "SET %stokenid:%s %s", p, t->id, hash);
    append(c, "ZADD %stokens %lld %s", p, now, t->id);
    append(c, "EXEC");
    return read_exec(c, 5);
}

static const char *elem_str(const redisReply *r, size_t i)
{
    if (i >= r->elements || r->element[i]->type != REDIS_REPLY_STRING)
        return 0;
    return r->element[i]->str;
}

static void touch(const char *hash, const char *last_used)
{
    long long now = store_now_ms();
    if (last_used && now - strtoll(last_used, 0, 10) < 60000)
        return;
    int rc;
    redisReply *r = store_conn_cmd(&rc, "HSET %stoken:%s lastUsed %lld", store_prefix(), hash, now);
    if (r)
        freeReplyObject(r);
}

/* The token's fields (HMGET order id name scope lastUsed, from index `at` of r) into out; touches
 * it. */
static int token_from(const char *hash, const redisReply *r, size_t at, struct auth_token *out)
{
    const char *id = elem_str(r, at), *name = elem_str(r, at + 1), *scope = elem_str(r, at + 2);
    if (!id || !name || !scope)
        return FW_ENOTFOUND;
    snprintf(out->id, sizeof out->id, "%s", id);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->scope = auth_scope_parse(scope);
    touch(hash, elem_str(r, at + 3));
    return out->scope == SCOPE_NONE ? FW_ENOTFOUND : 0;
}

int store_token_lookup_rated(const char *hash, const struct store_rate_req *q,
                             struct auth_token *out, int *throttled, int *retry_after_s,
                             int *by_token)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    *throttled = 0;
    store_argv_script(&v, &domain_lua_token_lookup_rated, 2);
    store_argv_addf(&v, "%stoken:%s", p, hash);
    if (q->addr && q->addr_n > 0)
        store_argv_addf(&v, "%srl:a:%s", p, q->addr);
    else
        store_argv_add(&v, "");
    store_argv_addf(&v, "%d", q->addr_n);
    store_argv_addf(&v, "%d", q->addr_s > 0 ? q->addr_s : 1);
    if (q->token_n > 0)
        store_argv_addf(&v, "%srl:t:", p);
    else
        store_argv_add(&v, "");
    store_argv_addf(&v, "%d", q->token_n);
    store_argv_addf(&v, "%d", q->token_s > 0 ? q->token_s : 1);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    int shaped = r->type == REDIS_REPLY_ARRAY && r->elements == 6 &&
                 r->element[0]->type == REDIS_REPLY_INTEGER &&
                 r->element[1]->type == REDIS_REPLY_INTEGER;
    long long which = shaped ? r->element[0]->integer : 0,
              left = shaped ? r->element[1]->integer : 0;
    rc = shaped ? token_from(hash, r, 2, out) : FW_EREDIS;
    freeReplyObject(r);
    if (which) {
        *throttled = FW_ETHROTTLED;
        *by_token = which == 2;
        *retry_after_s = store_rate_left_s(left);
    }
    return rc;
}

int store_token_lookup(const char *hash, struct auth_token *out)
{
    int rc;
    redisReply *r =
        store_conn_cmd(&rc, "HMGET %stoken:%s id name scope lastUsed", store_prefix(), hash);
    if (!r)
        return rc;
    rc = token_from(hash, r, 0, out);
    freeReplyObject(r);
    return rc;
}

/* Deletes a token with the last-admin check in one script (lua/token_delete.lua). */
int store_token_delete(const char *id)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    store_argv_script(&v, &domain_lua_token_delete, 3);
    store_argv_addf(&v, "%stokenid:%s", p, id);
    store_argv_addf(&v, "%stokens", p);
    store_argv_addf(&v, "%stokens:epoch", p);
    store_argv_add(&v, p);
    store_argv_add(&v, id);
    return store_argv_exec(&v);
}

/* Fields name, scope, created, lastUsed start at element `first` of h. */
static json_t *token_json(const char *id, const redisReply *h, size_t first)
{
    const char *name = elem_str(h, first), *scope = elem_str(h, first + 1),
               *created = elem_str(h, first + 2), *used = elem_str(h, first + 3);
    if (!name || !scope || !created)
        return 0;
    char t1[32], t2[32];
    store_format_time(strtoll(created, 0, 10), t1);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s}", "id", id, "name", name, "scope", scope, "createdAt", t1);
    long long u = used ? strtoll(used, 0, 10) : 0;
    if (u > 0) {
        store_format_time(u, t2);
        json_object_set_new(o, "lastUsedAt", json_string(t2));
    } else {
        json_object_set_new(o, "lastUsedAt", json_null());
    }
    return o;
}

/* The list cursor: "MS.ID", the created ms (the index score, 1 to 15 digits) and the id of the
 * last token a page gave. Before, the cursor was an offset into the index (digits only): still
 * taken (*off), and its page gives a keyset cursor. FW_EINVAL for anything else. */
static int parse_cursor(const char *cursor, long long *ms, char id[AUTH_ID_LEN + 1], long *off)
{
    *ms = -1;
    *off = -1;
    id[0] = 0;
    if (!cursor || !cursor[0])
        return 0;
    size_t nd = strspn(cursor, "0123456789");
    if (nd > 0 && nd <= 9 && !cursor[nd]) {
        *off = strtol(cursor, 0, 10);
        return *off <= 100000000 ? 0 : FW_EINVAL;
    }
    const char *rest = cursor + nd + 1;
    size_t nid = strlen(rest);
    if (nd == 0 || nd > 15 || cursor[nd] != '.' || nid == 0 || nid > AUTH_ID_LEN ||
        strspn(rest, "abcdefghijklmnopqrstuvwxyz0123456789_") != nid)
        return FW_EINVAL;
    *ms = strtoll(cursor, 0, 10);
    memcpy(id, rest, nid + 1);
    return 0;
}

static json_t *token_rows(const redisReply *rows, int limit)
{
    json_t *arr = json_array();
    for (size_t i = 0; rows->type == REDIS_REPLY_ARRAY && i < rows->elements && (int)i < limit;
         i++) {
        const redisReply *row = rows->element[i];
        json_t *o = elem_str(row, 0) ? token_json(elem_str(row, 0), row, 1) : 0;
        if (o)
            json_array_append_new(arr, o);
    }
    return arr;
}

int store_token_list(int limit, const char *cursor, json_t **items, char **next)
{
    long long ms;
    long off;
    char id[AUTH_ID_LEN + 1];
    int rc;
    *items = 0;
    *next = 0;
    if (parse_cursor(cursor, &ms, id, &off))
        return FW_EINVAL;
    const char *p = store_prefix();
    struct store_argv v = {0};
    store_argv_script(&v, &domain_lua_token_list, 1);
    store_argv_addf(&v, "%stokens", p);
    store_argv_add_keyset(&v, ms, id, limit);
    store_argv_add(&v, p);
    if (off >= 0)
        store_argv_addf(&v, "%ld", off);
    else
        store_argv_add(&v, "");
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        return FW_EREDIS;
    }
    if (r->element[0]->integer >= 0 && elem_str(r, 1))
        *next = xasprintf("%lld.%s", r->element[0]->integer, elem_str(r, 1));
    *items = token_rows(r->element[2], limit);
    freeReplyObject(r);
    return 0;
}

int store_audit_append(const struct audit_entry *e, int maxlen)
{
    int rc;
    redisReply *r =
        store_conn_cmd(&rc,
                       "XADD %saudit MAXLEN ~ %d * ts %lld token %s method %s path %s status %d "
                       "requestId %s client %s",
                       store_prefix(), maxlen, store_now_ms(), e->token_id ? e->token_id : "",
                       e->method, e->path, e->status, e->request_id, e->client ? e->client : "");
    if (r)
        freeReplyObject(r);
    return rc;
}

static int valid_stream_id(const char *s)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 20 || s[n] != '-')
        return 0;
    size_t m = strspn(s + n + 1, "0123456789");
    return m > 0 && m <= 20 && s[n + 1 + m] == '\0';
}

static json_t *audit_json(const redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2)
        return 0;
    const redisReply *fields = entry->element[1];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(entry->element[0]->str));
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const char *k = fields->element[i]->str, *v = fields->element[i + 1]->str;
        if (!strcmp(k, "ts")) {
            char t[32];
            store_format_time(strtoll(v, 0, 10), t);
            json_object_set_new(o, "time", json_string(t));
        } else if (!strcmp(k, "status") || !strcmp(k, "skipped")) {
            json_object_set_new(o, k, json_integer(strtoll(v, 0, 10)));
        } else if (!strcmp(k, "token")) {
            json_object_set_new(o, "tokenId", *v ? json_string(v) : json_null());
        } else {
            json_object_set_new(o, k, json_string(v));
        }
    }
    return o;
}

/* A page of the stream P<name>, newest first. */
static int stream_list(const char *name, int limit, const char *cursor, json_t **items, char **next)
{
    int rc;
    *items = 0;
    *next = 0;
    if (cursor && !valid_stream_id(cursor))
        return FW_EINVAL;
    redisReply *r = cursor ? store_conn_cmd(&rc, "XREVRANGE %s%s (%s - COUNT %d", store_prefix(),
                                            name, cursor, limit + 1)
                           : store_conn_cmd(&rc, "XREVRANGE %s%s + - COUNT %d", store_prefix(),
                                            name, limit + 1);
    if (!r)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < r->elements && (int)i < limit; i++) {
        json_t *o = audit_json(r->element[i]);
        if (o)
            json_array_append_new(arr, o);
    }
    if ((int)r->elements > limit)
        *next = xstrdup(r->element[limit - 1]->element[0]->str);
    freeReplyObject(r);
    *items = arr;
    return 0;
}

int store_audit_list(int limit, const char *cursor, json_t **items, char **next)
{
    return stream_list("audit", limit, cursor, items, next);
}

int store_authfail_append(const struct authfail_entry *e)
{
    int rc;
    redisReply *r = store_conn_cmd(
        &rc,
        "XADD %sauthfail MAXLEN ~ %d * ts %lld address %s method %s path %s reason %s "
        "requestId %s skipped %lld",
        store_prefix(), STORE_AUTHFAIL_MAX, store_now_ms(), e->addr, e->method, e->path, e->reason,
        e->request_id, e->skipped);
    if (r)
        freeReplyObject(r);
    return rc;
}

int store_authfail_list(int limit, const char *cursor, json_t **items, char **next)
{
    return stream_list("authfail", limit, cursor, items, next);
}
