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
#include <time.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/domain/domain_lua.h"
#include "service/redis/store_argv.h"
#include "service/redis/store_conn.h"

long long store_rate_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_rate_window(int secs, long long now_ms, long long *index, long long *end_ms)
{
    long long len = (long long)(secs > 0 ? secs : 1) * 1000;
    *index = now_ms / len;
    *end_ms = (*index + 1) * len;
}

/* The window key of kind 'a' or 't' and its end. */
static void window(struct store_argv *v, char kind, const char *who, int n, int secs, long long now,
                   long long *end_ms)
{
    long long w;
    store_rate_window(secs, now, &w, end_ms);
    if (!who || n <= 0)
        store_argv_add(v, "");
    else
        store_argv_addf(v, "%srl:%c:%s:%lld", store_prefix(), kind, who, w);
}

int store_rate_take(const struct store_rate_req *r, int *retry_after_s, int *by_token)
{
    struct store_argv v = {0};
    long long now = store_rate_now_ms(), a_end = 0, t_end = 0;
    store_argv_script(&v, &domain_lua_rate_take, 2);
    window(&v, 'a', r->addr, r->addr_n, r->addr_s, now, &a_end);
    window(&v, 't', r->token_id, r->token_n, r->token_s, now, &t_end);
    store_argv_addf(&v, "%d", r->addr_n);
    store_argv_addf(&v, "%lld", a_end - now + 1000);
    store_argv_addf(&v, "%d", r->token_n);
    store_argv_addf(&v, "%lld", t_end - now + 1000);
    long long which; /* 0: within the limits, 1: the address's said no, 2: the token's */
    int rc = store_argv_run_int(&v, &which);
    if (rc || !which)
        return rc;
    *by_token = which == 2;
    long long left = (which == 2 ? t_end : a_end) - now;
    *retry_after_s = (int)((left + 999) / 1000);
    return FW_ETHROTTLED;
}
