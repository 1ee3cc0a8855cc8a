/*
 * store_argv.c - see store_argv.h.
 */
#include "service/redis/store_argv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/redis/script.h"
#include "service/redis/store_conn.h"

void store_argv_add(struct store_argv *a, const char *s)
{
    if (a->n < STORE_ARGV_MAX)
        a->s[a->n++] = xstrdup(s ? s : "");
    else
        a->overflow = 1;
}

void store_argv_addf(struct store_argv *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)(len < 0 ? 0 : len) + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)(len < 0 ? 0 : len) + 1, fmt, ap);
    va_end(ap);
    if (a->n < STORE_ARGV_MAX) {
        a->s[a->n++] = s;
    } else {
        free(s);
        a->overflow = 1;
    }
}

void store_argv_add_keyset(struct store_argv *a, long long ms, const char *id, int limit)
{
    if (ms >= 0)
        store_argv_addf(a, "%lld", ms);
    else
        store_argv_add(a, "");
    store_argv_add(a, id);
    store_argv_addf(a, "%d", limit);
}

void store_argv_script(struct store_argv *a, const struct redis_script *s, int nkeys)
{
    a->script = s;
    a->nkeys = nkeys;
}

void store_argv_free(struct store_argv *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->s[i]);
    a->n = 0;
    a->overflow = 0;
    a->script = NULL;
    a->nkeys = 0;
}

redisReply *store_argv_run(struct store_argv *a, int *rc)
{
    if (a->overflow) {
        store_argv_free(a);
        *rc = FW_EINTERNAL;
        return NULL;
    }
    redisReply *r = NULL;
    if (a->script)
        *rc = redis_script_run(a->script, a->nkeys, a->n, (const char *const *)a->s, NULL, &r);
    else
        r = store_conn_argv(rc, a->n, (const char **)a->s, NULL);
    store_argv_free(a);
    return r;
}

int store_argv_exec(struct store_argv *a)
{
    int rc;
    redisReply *r = store_argv_run(a, &rc);
    if (r)
        freeReplyObject(r);
    return rc;
}

int store_argv_run_int(struct store_argv *a, long long *n)
{
    int rc;
    redisReply *r = store_argv_run(a, &rc);
    *n = 0;
    if (!r)
        return rc;
    if (r->type == REDIS_REPLY_INTEGER)
        *n = r->integer;
    freeReplyObject(r);
    return 0;
}
