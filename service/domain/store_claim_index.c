/*
 * store_claim_index.c - building the claims' state indexes of an upgraded
 * store (store_claim_index.h).
 *
 * The walk goes through P claims by rank, oldest first. Claims created
 * meanwhile are newer than every claim the walk has not reached (their
 * score is their creation time), so they land behind it and never shift a
 * rank the walk still has to visit; they are indexed by their own creation
 * script anyway. A claim whose state changes meanwhile is moved by that
 * change's script; the walk, reading the state in the same script that
 * writes the index, never undoes it.
 */
#include "service/domain/store_claim_index.h"

#include <stdio.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/core/log.h"
#include "service/domain/store_claim.h"
#include "service/domain/domain_lua.h"
#include "service/redis/store_argv.h"
#include "service/redis/store_conn.h"

static const char *const s_states[] = {"creating", "active",  "rotating", "inactive",
                                       "revoked",  "deleted", "failed"};

int store_claim_index_ready(void)
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "GET %sclaims:idx", store_prefix());
    if (!r)
        return rc;
    int ready = r->type == REDIS_REPLY_STRING && !strcmp(r->str, CLAIM_INDEX_VERSION);
    freeReplyObject(r);
    return ready;
}

/* One batch from rank `from`: the number of claims looked at, or an FW_E* code (< 0). */
static long long walk_batch(long long from, int batch)
{
    struct store_argv v = {0};
    const char *p = store_prefix();
    store_argv_script(&v, &domain_lua_claim_index_walk, 1);
    store_argv_addf(&v, "%sclaims", p);
    store_argv_add(&v, p);
    store_argv_addf(&v, "%lld", from);
    store_argv_addf(&v, "%d", batch);
    for (size_t i = 0; i < sizeof s_states / sizeof s_states[0]; i++)
        store_argv_add(&v, s_states[i]);
    long long n;
    int rc = store_argv_run_int(&v, &n);
    return rc ? rc : n;
}

int store_claim_index_migrate(int batch, atomic_int *stop)
{
    long long at = 0, n;
    while ((n = walk_batch(at, batch > 0 ? batch : 500)) > 0) {
        at += n;
        if (stop && atomic_load(stop))
            return FW_ECANCELED;
    }
    if (n < 0)
        return (int)n;
    int rc;
    redisReply *r = store_conn_cmd(&rc, "SET %sclaims:idx %s", store_prefix(), CLAIM_INDEX_VERSION);
    if (r)
        freeReplyObject(r);
    if (!rc)
        log_event(LOG_INFO, "claims indexed by state", LOG_INT("claims", at));
    return rc;
}

int store_claim_index_before(const char *state, long long before_ms, long offset, int max,
                             json_t **ids)
{
    *ids = 0;
    if (store_claim_state_parse(state) < 0 || offset < 0 || max < 1 || max > 1000)
        return FW_EINVAL;
    int rc = store_claim_index_ready();
    if (rc < 0 || rc > 1)
        return rc;
    json_t *arr = json_array();
    if (rc == 1) {
        redisReply *r = store_conn_cmd(&rc, "ZRANGEBYSCORE %sclaims:s:%s -inf %lld LIMIT %ld %d",
                                       store_prefix(), state, before_ms, offset, max);
        if (!r) {
            json_decref(arr);
            return rc;
        }
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_STRING &&
                store_claim_id_valid(r->element[i]->str))
                json_array_append_new(arr, json_string(r->element[i]->str));
        freeReplyObject(r);
    }
    *ids = arr;
    return 0;
}
