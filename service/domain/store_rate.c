/*
 * store_rate.c - fixed-window request counters in Redis (store_rate.h).
 *
 * Fixed windows rather than a sliding log: two INCRs and at most two
 * PEXPIREs per request, one key per address and token, where a log would
 * keep an entry per request. A client may get up to twice its limit across
 * a window boundary, which is fine for a limit meant to stop floods.
 */
#include "service/domain/store_rate.h"

#include <stdio.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/domain/domain_lua.h"
#include "service/redis/store_argv.h"
#include "service/redis/store_conn.h"

/* The window key of kind 'a' or 't' without its index (the script adds the
 * index of the window Redis's clock is in), or "" when not counted. */
static void window_base(struct store_argv *v, char kind, const char *who, int n)
{
    if (!who || n <= 0)
        store_argv_add(v, "");
    else
        store_argv_addf(v, "%srl:%c:%s", store_prefix(), kind, who);
}

int store_rate_left_s(long long left_ms)
{
    return left_ms > 0 ? (int)((left_ms + 999) / 1000) : 1;
}

int store_rate_take(const struct store_rate_req *r, int *retry_after_s, int *by_token)
{
    struct store_argv v = {0};
    store_argv_script(&v, &domain_lua_rate_take, 2);
    window_base(&v, 'a', r->addr, r->addr_n);
    window_base(&v, 't', r->token_id, r->token_n);
    store_argv_addf(&v, "%d", r->addr_n);
    store_argv_addf(&v, "%d", r->addr_s > 0 ? r->addr_s : 1);
    store_argv_addf(&v, "%d", r->token_n);
    store_argv_addf(&v, "%d", r->token_s > 0 ? r->token_s : 1);
    int rc;
    redisReply *reply = store_argv_run(&v, &rc);
    if (!reply)
        return rc;
    long long which = 0, left = 0;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER &&
        reply->element[1]->type == REDIS_REPLY_INTEGER) {
        which = reply->element[0]->integer;
        left = reply->element[1]->integer;
    }
    freeReplyObject(reply);
    if (!which)
        return 0;
    *by_token = which == 2;
    *retry_after_s = store_rate_left_s(left);
    return FW_ETHROTTLED;
}
