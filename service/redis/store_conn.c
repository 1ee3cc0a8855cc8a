/*
 * store_conn.c - thread-local hiredis connections with reconnect backoff.
 *
 * Each thread keeps its context in a pthread key so the context is freed
 * when the thread exits (MHD's event-loop threads, workers). A failed
 * connect sets a per-thread "not before" time: while Redis is down, callers
 * fail fast instead of waiting for a connect timeout on every request.
 * Backoff doubles from 50 ms to 2 s and resets on success.
 *
 * Failover (ElastiCache, Sentinel, a replica promoted by hand): the old primary
 * turns replica and answers writes with READONLY, or the node says LOADING or
 * MASTERDOWN, while the endpoint moves to the new primary. Every reply on a
 * thread's context passes through mark_stale() (hiredis's reply-object hooks,
 * so the many call sites in service/ and jobs/ need no change): such an error
 * marks the context stale, the command fails as "unavailable" (503 at the
 * API, a retry for a job) and the next store_conn_get() connects afresh.
 */
#include "service/redis/store_conn.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "service/core/clock.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/redis/reply.h"

struct store_conn_slot {
    redisContext *ctx;
    int stale;             /* a reply said this node cannot take our commands now */
    long long retry_at_ms; /* no connect attempt before this time */
    int backoff_ms;        /* next backoff step */
    char err[320];         /* why the last connect failed */
};

static struct fw_config s_cfg;          /* written once in store_conn_configure */
static redisReplyObjectFunctions s_fns; /* hiredis's defaults with createString wrapped */
static const redisReplyObjectFunctions *s_default_fns;
static pthread_once_t s_fns_once = PTHREAD_ONCE_INIT;
static pthread_key_t s_key;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void slot_free(void *p)
{
    struct store_conn_slot *s = p;
    if (s && s->ctx)
        redisFree(s->ctx);
    free(s);
}

static void make_key(void)
{
    pthread_key_create(&s_key, slot_free);
}

struct store_conn_slot *store_conn_slot_new(void)
{
    struct store_conn_slot *s = xcalloc(1, sizeof *s);
    s->backoff_ms = 50;
    return s;
}

void store_conn_slot_free(struct store_conn_slot *s)
{
    slot_free(s);
}

/* The calling thread's slot. */
static struct store_conn_slot *slot(void)
{
    pthread_once(&s_once, make_key);
    struct store_conn_slot *s = pthread_getspecific(s_key);
    if (!s) {
        s = store_conn_slot_new();
        pthread_setspecific(s_key, s);
    }
    return s;
}

void store_conn_configure(const struct fw_config *cfg)
{
    s_cfg = *cfg;
    pthread_once(&s_once, make_key);
}

const char *store_prefix(void)
{
    return s_cfg.prefix;
}

static void *mark_stale(const redisReadTask *task, char *str, size_t len)
{
    if (task->type == REDIS_REPLY_ERROR && task->privdata && redis_reply_is_failover(str, len))
        *(int *)task->privdata = 1;
    return s_default_fns->createString(task, str, len);
}

static void init_fns(void)
{
    redisReader *r = redisReaderCreate();
    s_default_fns = r->fn;
    s_fns = *r->fn;
    s_fns.createString = mark_stale;
    redisReaderFree(r);
}

/* Watches c's replies for failover errors, flagging *stale. */
static void watch_failover(redisContext *c, int *stale)
{
    pthread_once(&s_fns_once, init_fns);
    c->reader->fn = &s_fns;
    c->reader->privdata = stale;
    *stale = 0;
}

/* AUTH [user] password and SELECT on a fresh context; 0, or FW_EUNAUTH (credentials or database
 * refused: a configuration error) or FW_EUNAVAILABLE with err filled. Redis's own error text is
 * quoted (it never holds the password). */
static int prepare(redisContext *c, char *err, size_t errlen)
{
    redisReply *r = 0;
    if (s_cfg.redis_user[0])
        r = redisCommand(c, "AUTH %s %s", s_cfg.redis_user, s_cfg.redis_password);
    else if (s_cfg.redis_password[0])
        r = redisCommand(c, "AUTH %s", s_cfg.redis_password);
    if ((s_cfg.redis_user[0] || s_cfg.redis_password[0]) && (!r || r->type == REDIS_REPLY_ERROR)) {
        snprintf(err, errlen, "redis %.64s:%d refused AUTH%s%.64s: %.120s", s_cfg.redis_host,
                 s_cfg.redis_port, s_cfg.redis_user[0] ? " as user " : "", s_cfg.redis_user,
                 r ? r->str : c->errstr);
        if (r)
            freeReplyObject(r);
        return r ? FW_EUNAUTH : FW_EUNAVAILABLE;
    }
    if (r)
        freeReplyObject(r);
    if (s_cfg.redis_db) {
        r = redisCommand(c, "SELECT %d", s_cfg.redis_db);
        int rc = !r ? FW_EUNAVAILABLE : r->type == REDIS_REPLY_ERROR ? FW_EUNAUTH : 0;
        if (rc)
            snprintf(err, errlen, "redis SELECT %d failed: %.120s", s_cfg.redis_db,
                     r ? r->str : c->errstr);
        if (r)
            freeReplyObject(r);
        return rc;
    }
    return 0;
}

/* A connected, authenticated context, or NULL with err filled and *rc FW_EUNAVAILABLE or
 * FW_EUNAUTH. */
static redisContext *connect_new(int timeout_ms, char *err, size_t errlen, int *rc)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(s_cfg.redis_host, s_cfg.redis_port, tv);
    *rc = FW_EUNAVAILABLE;
    if (!c) {
        snprintf(err, errlen, "cannot allocate redis context");
        return 0;
    }
    if (c->err) {
        snprintf(err, errlen, "redis %s:%d: %s", s_cfg.redis_host, s_cfg.redis_port, c->errstr);
        redisFree(c);
        return 0;
    }
    /* Commands get a timeout too, so a hung Redis cannot pin a thread. */
    struct timeval cmd = {5, 0};
    redisSetTimeout(c, cmd);
    *rc = prepare(c, err, errlen);
    if (*rc) {
        redisFree(c);
        return 0;
    }
    return c;
}

int store_conn_check(char *why, size_t whylen)
{
    int rc;
    redisContext *c = connect_new(2000, why, whylen, &rc);
    if (!c)
        return rc;
    redisFree(c);
    why[0] = '\0';
    return 0;
}

struct redisContext *store_conn_get(void)
{
    return store_conn_slot_get(slot());
}

struct redisContext *store_conn_slot_get(struct store_conn_slot *s)
{
    if (s->ctx && s->stale) {
        log_msg(LOG_WARN,
                "redis node answered READONLY/LOADING/MASTERDOWN (failover?): reconnecting");
        store_conn_slot_broken(s);
    }
    if (s->ctx)
        return s->ctx;
    long long now = clock_mono_ms();
    if (now < s->retry_at_ms)
        return 0;
    int rc;
    s->ctx = connect_new(1000, s->err, sizeof s->err, &rc);
    if (s->ctx)
        watch_failover(s->ctx, &s->stale);
    if (!s->ctx) {
        s->retry_at_ms = now + s->backoff_ms;
        s->backoff_ms = s->backoff_ms * 2 > 2000 ? 2000 : s->backoff_ms * 2;
        return 0;
    }
    s->err[0] = '\0';
    s->backoff_ms = 50;
    s->retry_at_ms = 0;
    return s->ctx;
}

void store_conn_broken(void)
{
    store_conn_slot_broken(slot());
}

void store_conn_slot_broken(struct store_conn_slot *s)
{
    if (s->ctx) {
        snprintf(s->err, sizeof s->err, "redis: %s",
                 s->ctx->errstr[0] ? s->ctx->errstr
                 : s->stale        ? "node is not a writable primary (failover)"
                                   : "connection lost");
        redisFree(s->ctx);
        s->ctx = 0;
    }
}

void store_conn_close(void)
{
    store_conn_slot_close(slot());
}

void store_conn_slot_close(struct store_conn_slot *s)
{
    if (s->ctx)
        redisFree(s->ctx);
    s->ctx = 0;
}

const char *store_conn_last_error(void)
{
    return slot()->err;
}

struct redisContext *store_conn_open(int timeout_ms)
{
    char err[320];
    int rc;
    redisContext *c = connect_new(timeout_ms, err, sizeof err, &rc);
    if (!c)
        log_msg(LOG_WARN, "redis connect failed");
    return c;
}

void store_conn_free(struct redisContext *c)
{
    if (c)
        redisFree(c);
}

/* The command's name for a log line: the first word of a format or argv[0]. */
static void command_name(const char *s, size_t n, char out[24])
{
    size_t k = 0;
    while (k < n && k < 23 && s[k] && s[k] != ' ')
        k++;
    memcpy(out, s, k);
    out[k] = '\0';
}

/* The one reply check (reply.h): NULL is FW_EUNAVAILABLE and, on the
 * thread's connection, drops it; an error reply is mapped and freed.
 * Returns r, or NULL with *rc set. */
static redisReply *checked(int *rc, redisReply *r, const char *what, int thread_conn)
{
    *rc = redis_reply_rc(r, what);
    if (!r && thread_conn)
        store_conn_broken();
    if (*rc && r) {
        freeReplyObject(r);
        r = 0;
    }
    return r;
}

struct redisReply *store_conn_argv(int *rc, int argc, const char **argv, const size_t *lens)
{
    redisContext *c = store_conn_get();
    if (!c) {
        *rc = FW_EUNAVAILABLE;
        return 0;
    }
    char what[24];
    command_name(argv[0], lens ? lens[0] : strlen(argv[0]), what);
    return checked(rc, redisCommandArgv(c, argc, argv, lens), what, 1);
}

/* A formatted command on c, checked; thread_conn as for checked(). */
static redisReply *vcmd(redisContext *c, int thread_conn, int *rc, const char *fmt, va_list ap)
{
    redisReply *r = redisvCommand(c, fmt, ap);
    char what[24];
    command_name(fmt, strlen(fmt), what);
    return checked(rc, r, what, thread_conn);
}

struct redisReply *store_conn_cmd(int *rc, const char *fmt, ...)
{
    redisContext *c = store_conn_get();
    if (!c) {
        *rc = FW_EUNAVAILABLE;
        return 0;
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, 1, rc, fmt, ap);
    va_end(ap);
    return r;
}

struct redisReply *store_conn_cmd_on(struct redisContext *c, int *rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, 0, rc, fmt, ap);
    va_end(ap);
    return r;
}
