/*
 * token_watch.c - a process-wide, rate-limited view of the token deletion
 * counter, and a per-watcher check of its own token when it moved.
 */
#include "service/domain/token_watch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <hiredis/hiredis.h>

#include "service/domain/store.h"
#include "service/redis/store_conn.h"

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER; /* one refresher at a time */
static atomic_llong s_epoch = -1; /* the counter as last read; -1 before the first read */
static long long s_fetched_ms;    /* guarded by s_mu */

/* GET P tokens:epoch (0 when absent); -1 when Redis cannot be read. */
static long long read_epoch(void)
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "GET %s" TOKEN_WATCH_KEY, store_prefix());
    if (!r)
        return -1;
    long long v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, 0, 10)
                  : r->type == REDIS_REPLY_NIL  ? 0
                                                : -1;
    freeReplyObject(r);
    return v;
}

/* The counter, read again when the cached value is older than TOKEN_WATCH_MS.
 * One thread refreshes; the others meanwhile use the cached value. */
static long long current_epoch(void)
{
    if (pthread_mutex_trylock(&s_mu) == 0) {
        long long now = store_now_ms();
        if (atomic_load(&s_epoch) < 0 || now - s_fetched_ms >= TOKEN_WATCH_MS) {
            long long v = read_epoch();
            if (v >= 0) {
                atomic_store(&s_epoch, v);
                s_fetched_ms = now;
            }
        }
        pthread_mutex_unlock(&s_mu);
    }
    return atomic_load(&s_epoch);
}

void token_watch_init(struct token_watch *w, const char *id)
{
    snprintf(w->id, sizeof w->id, "%s", id ? id : "");
    w->epoch = -1;
}

int token_watch_gone(struct token_watch *w)
{
    return token_watch_gone_at(w, current_epoch());
}

int token_watch_gone_at(struct token_watch *w, long long e)
{
    if (e < 0 || e == w->epoch)
        return 0;
    int rc;
    redisReply *r = store_conn_cmd(&rc, "EXISTS %stokenid:%s", store_prefix(), w->id);
    if (!r)
        return 0;
    int gone = r->type == REDIS_REPLY_INTEGER && r->integer == 0;
    freeReplyObject(r);
    w->epoch = e;
    return gone;
}
