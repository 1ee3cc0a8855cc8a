/*
 * store_idem.c - Idempotency-Key records (store_idem.h): two Lua scripts
 * (lua/idem_begin.lua takes or looks up a key, lua/idem_end.lua ends the
 * request that holds it), run by SHA.
 */
#include "service/domain/store_idem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/domain_lua.h"
#include "service/redis/store_argv.h"
#include "service/redis/store_conn.h"

static void add_key(struct store_argv *v, const struct store_idem_ref *ref)
{
    store_argv_addf(v, "%sreqidem:%s:%s", store_prefix(), ref->holder, ref->key);
}

static const redisReply *elem(const redisReply *r, size_t i, int type)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements || r->element[i]->type != type)
        return 0;
    return r->element[i];
}

static char *dup_or_null(const redisReply *s)
{
    return s && s->len ? xstrdup(s->str) : 0;
}

/* The kept answer of a {2, id, status, body, loc} reply. */
static void read_answer(const redisReply *r, struct store_idem_answer *ans)
{
    const redisReply *st = elem(r, 2, REDIS_REPLY_STRING), *body = elem(r, 3, REDIS_REPLY_STRING);
    ans->status = st ? (int)strtol(st->str, 0, 10) : 0;
    ans->body = dup_or_null(body);
    ans->body_len = ans->body ? body->len : 0;
    ans->location = dup_or_null(elem(r, 4, REDIS_REPLY_STRING));
}

int store_idem_begin(const struct store_idem_ref *ref, const char *candidate_id, long long ttl_ms,
                     long long lease_ms, enum store_idem_state *st, char id[STORE_IDEM_ID_MAX],
                     struct store_idem_answer *ans)
{
    struct store_argv v = {0};
    memset(ans, 0, sizeof *ans);
    id[0] = 0;
    if (!ref->fp || !ref->fp[0])
        return FW_EINTERNAL;
    store_argv_script(&v, &domain_lua_idem_begin, 1);
    add_key(&v, ref);
    store_argv_add(&v, ref->fp);
    store_argv_add(&v, candidate_id ? candidate_id : "");
    store_argv_addf(&v, "%lld", ttl_ms);
    store_argv_addf(&v, "%lld", lease_ms);
    int rc;
    redisReply *r = store_argv_run(&v, &rc);
    if (!r)
        return rc;
    const redisReply *code = elem(r, 0, REDIS_REPLY_INTEGER), *rid = elem(r, 1, REDIS_REPLY_STRING);
    rc =
        code && code->integer >= STORE_IDEM_NEW && code->integer <= STORE_IDEM_BUSY ? 0 : FW_EREDIS;
    if (!rc) {
        *st = (enum store_idem_state)code->integer;
        snprintf(id, STORE_IDEM_ID_MAX, "%s", rid ? rid->str : "");
        if (*st == STORE_IDEM_DONE)
            read_answer(r, ans);
    }
    freeReplyObject(r);
    return rc;
}

int store_idem_end(const struct store_idem_ref *ref, enum store_idem_end how,
                   const struct store_idem_answer *ans)
{
    static const char *const names[] = {"keep", "forget", "release"};
    struct store_argv v = {0};
    store_argv_script(&v, &domain_lua_idem_end, 1);
    add_key(&v, ref);
    store_argv_add(&v, ref->fp);
    store_argv_add(&v, names[how]);
    store_argv_addf(&v, "%d", how == STORE_IDEM_KEEP ? ans->status : 0);
    store_argv_add(&v, how == STORE_IDEM_KEEP ? ans->body : "");
    store_argv_add(&v, how == STORE_IDEM_KEEP ? ans->location : "");
    return store_argv_exec(&v);
}

void store_idem_answer_free(struct store_idem_answer *ans)
{
    free(ans->body);
    free(ans->location);
    memset(ans, 0, sizeof *ans);
}
