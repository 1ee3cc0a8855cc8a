/*
 * queue_run.c - worker-side queue operations (see queue_run.h).
 *
 * Each function is one script or one command on the calling thread's
 * connection. Fencing lives in the scripts: every change to a running job
 * compares the caller's token with the job's, so a worker that lost its
 * lease can never complete, fail or step a job now owned by another.
 */
#include "queue_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "queue_internal.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/redis/store_conn.h"

static void claimed_fill(const redisReply *r, struct queue_claimed *out)
{
    queue__str(r->element[0], out->id, sizeof out->id);
    queue__str(r->element[1], out->token, sizeof out->token);
    queue__str(r->element[2], out->type, sizeof out->type);
    const redisReply *p = r->element[3];
    out->payload = xstrdup(p->type == REDIS_REPLY_STRING ? p->str : "{}");
    out->attempts = (int)queue__int(r->element[4]);
    out->max_attempts = (int)queue__int(r->element[5]);
    out->runs = (int)queue__int(r->element[6]);
    out->rlpaid = queue__int(r->element[7]) == 1;
}

/* Parses a claim reply: 1 job, 0 none (due/now filled), FW_EREDIS. */
static int parse_claim(const redisReply *r, struct queue_claimed *out, long long *next_due_ms, long long *now_ms)
{
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 8) {
        claimed_fill(r, out);
        return 1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
        *next_due_ms = queue__int(r->element[1]);
        *now_ms = queue__int(r->element[2]);
        return 0;
    }
    return FW_EREDIS;
}

int queue_claim(const char *worker, const int order[JOB_NLANES], long long lease_ms, struct queue_claimed *out,
                long long *next_due_ms, long long *now_ms)
{
    char lease[24];
    snprintf(lease, sizeof lease, "%lld", lease_ms);
    const char *args[] = {worker, lease, job_lane_name(order[0]), job_lane_name(order[1]),
                          job_lane_name(order[2])};
    redisReply *r = NULL;
    int rc = queue__eval(QL_CLAIM, args, 5, &r);
    if (rc)
        return rc;
    rc = parse_claim(r, out, next_due_ms, now_ms);
    freeReplyObject(r);
    return rc;
}

/* Runs a script that answers one integer. */
static int eval_int(enum queue_lua_id id, const char *const *args, int nargs, long long *out)
{
    redisReply *r = NULL;
    int rc = queue__eval(id, args, nargs, &r);
    if (rc)
        return rc;
    rc = r->type == REDIS_REPLY_INTEGER ? 0 : FW_EREDIS;
    *out = r->integer;
    freeReplyObject(r);
    return rc;
}

int queue_finish(const char *id, const char *token, const char *outcome, const char *a1, const char *a2,
                 const char *a3)
{
    return queue_finish_next(id, token, outcome, a1, a2, a3, NULL, NULL, NULL, NULL);
}

int queue_finish_next(const char *id, const char *token, const char *outcome, const char *a1, const char *a2,
                      const char *a3, const struct queue_next_req *req, struct queue_claimed *next,
                      long long *next_due_ms, long long *now_ms)
{
    char lease[24] = "";
    const char *args[] = {id, token, outcome, a1 ? a1 : "", a2 ? a2 : "", a3 ? a3 : "", "1", "", lease, "", "", ""};
    if (req) {
        snprintf(lease, sizeof lease, "%lld", req->lease_ms);
        args[7] = req->worker;
        for (int i = 0; i < JOB_NLANES; i++)
            args[9 + i] = job_lane_name(req->order[i]);
    }
    redisReply *r = NULL;
    int rc = queue__eval(QL_FINISH, args, req ? 12 : 6, &r);
    if (rc)
        return rc;
    if (r->type == REDIS_REPLY_INTEGER)
        rc = r->integer == 1 ? 0 : FW_ECONFLICT;
    else if (req && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        rc = parse_claim(r->element[1], next, next_due_ms, now_ms);
    else
        rc = FW_EREDIS;
    freeReplyObject(r);
    return rc;
}

int queue_step(const char *id, const char *token, const char *kind, const char *a1, const char *a2,
               const char *a3)
{
    const char *args[] = {id, token, kind, a1 ? a1 : "", a2 ? a2 : "", a3 ? a3 : ""};
    long long v = 0;
    int rc = eval_int(QL_STEP, args, 6, &v);
    if (rc)
        return rc;
    if (v == 2)
        return FW_ECANCELED;
    return v == 1 ? 0 : FW_ECONFLICT;
}

/* HGET P job:id field; *out malloc'd or NULL. 0 or FW_EREDIS. */
static int hget(const char *id, const char *field, char **out)
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    redisReply *r = redisCommand(c, "HGET %sjob:%s %s", store_prefix(), id, field);
    if (!r) {
        store_conn_broken();
        return FW_EREDIS;
    }
    *out = r->type == REDIS_REPLY_STRING ? xstrdup(r->str) : NULL;
    int rc = (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL) ? 0 : FW_EREDIS;
    freeReplyObject(r);
    return rc;
}

int queue_step_get(const char *id, const char *step, char **out)
{
    char field[128];
    snprintf(field, sizeof field, "s:%s", step);
    int rc = hget(id, field, out);
    if (rc)
        return rc;
    return *out ? 0 : FW_ENOTFOUND;
}

int queue_cancel_flag(const char *id)
{
    char *v = NULL;
    int rc = hget(id, "cancel", &v);
    if (rc)
        return rc;
    int set = v && strcmp(v, "1") == 0;
    free(v);
    return set;
}

int queue_renew(const char *const *ids, const char *const *tokens, int n, long long lease_ms, queue_renew_fn *cb,
                void *ud)
{
    const char **args = xmalloc(sizeof *args * (size_t)(2 * n + 1));
    char lease[24];
    snprintf(lease, sizeof lease, "%lld", lease_ms);
    args[0] = lease;
    for (int i = 0; i < n; i++) {
        args[1 + 2 * i] = ids[i];
        args[2 + 2 * i] = tokens[i];
    }
    redisReply *r = NULL;
    int rc = queue__eval(QL_RENEW, args, 2 * n + 1, &r);
    free(args);
    if (rc)
        return rc;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const char *s = r->element[i]->str;
        char id[JOB_ID_MAX];
        const char *bar = s ? strchr(s, '|') : NULL;
        if (!bar || bar - s < 3 || (size_t)(bar - s) >= sizeof id)
            continue;
        snprintf(id, sizeof id, "%.*s", (int)(bar - s - 2), s + 2);
        cb(ud, id, bar + 1, s[0] == 'l');
    }
    freeReplyObject(r);
    return 0;
}

int queue_gate(const char *name, long long ttl_ms)
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    redisReply *r = redisCommand(c, "SET %s%s 1 NX PX %lld", store_prefix(), name, ttl_ms);
    if (!r) {
        store_conn_broken();
        return FW_EREDIS;
    }
    int rc = r->type == REDIS_REPLY_STATUS ? 1 : r->type == REDIS_REPLY_NIL ? 0 : FW_EREDIS;
    freeReplyObject(r);
    return rc;
}

int queue_reap(int max_stalls, long long dead_ttl_ms, long long *requeued, long long *dead, long long *trimmed)
{
    char stalls[16], ttl[24];
    snprintf(stalls, sizeof stalls, "%d", max_stalls);
    snprintf(ttl, sizeof ttl, "%lld", dead_ttl_ms);
    const char *args[] = {stalls, ttl};
    redisReply *r = NULL;
    int rc = queue__eval(QL_REAP, args, 2, &r);
    if (rc)
        return rc;
    long long *outs[] = {requeued, dead, trimmed};
    for (size_t i = 0; i < 3; i++)
        if (outs[i])
            *outs[i] = (r->type == REDIS_REPLY_ARRAY && r->elements == 3) ? queue__int(r->element[i]) : 0;
    freeReplyObject(r);
    return 0;
}

long long queue_rl_defer(const char *id, const char *token, const char *family, double rate, double burst)
{
    char rs[32], bs[32];
    snprintf(rs, sizeof rs, "%.6f", rate);
    snprintf(bs, sizeof bs, "%.6f", burst);
    const char *args[] = {id, token, family, rs, bs};
    long long v = 0;
    int rc = eval_int(QL_RLDEFER, args, 5, &v);
    if (rc)
        return rc;
    return v < 0 ? FW_ECONFLICT : v;
}

long long queue_rl_take(const char *family, double rate, double burst)
{
    char rs[32], bs[32];
    snprintf(rs, sizeof rs, "%.6f", rate);
    snprintf(bs, sizeof bs, "%.6f", burst);
    const char *args[] = {family, rs, bs};
    long long v = 0;
    int rc = eval_int(QL_RLTAKE, args, 3, &v);
    return rc ? rc : v;
}

int queue_sched_due(char names[][72], long long *dues, int max, long long *now_ms, long long *next_ms)
{
    int rc = queue__server_time(now_ms);
    if (rc)
        return rc;
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    redisReply *r = redisCommand(c, "ZRANGE %ssched:due 0 %d WITHSCORES", store_prefix(), max);
    if (!r) {
        store_conn_broken();
        return FW_EREDIS;
    }
    int n = 0;
    *next_ms = -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        long long due = (long long)strtod(r->element[i + 1]->str, NULL);
        if (due > *now_ms || n == max) {
            *next_ms = due;
            break;
        }
        queue__str(r->element[i], names[n], 72);
        dues[n++] = due;
    }
    freeReplyObject(r);
    return n;
}

int queue_sched_spec(const char *name, long *every_s, char daily[8])
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    redisReply *r = redisCommand(c, "HMGET %ssched:%s every daily", store_prefix(), name);
    if (!r) {
        store_conn_broken();
        return FW_EREDIS;
    }
    int rc = FW_ENOTFOUND;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING) {
        *every_s = (long)queue__int(r->element[0]);
        queue__str(r->element[1], daily, 8);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int queue_tick(const char *name, long long expected_due_ms, long long next_due_ms, const char *job_id)
{
    char exp[24], nxt[24];
    snprintf(exp, sizeof exp, "%lld", expected_due_ms);
    snprintf(nxt, sizeof nxt, "%lld", next_due_ms);
    const char *args[] = {name, exp, nxt, job_id};
    long long v = 0;
    int rc = eval_int(QL_TICK, args, 4, &v);
    return rc ? rc : (int)v;
}

int queue_wait_wake(struct redisContext *c, long long timeout_ms)
{
    if (timeout_ms < 10)
        timeout_ms = 10;
    redisReply *r = redisCommand(c, "BLPOP %swake %.3f", store_prefix(), (double)timeout_ms / 1000.0);
    if (!r)
        return FW_EREDIS;
    int rc = r->type == REDIS_REPLY_ERROR ? FW_EREDIS : 0;
    freeReplyObject(r);
    return rc;
}
