/*
 * queue_run.c - worker-side queue operations (see queue_run.h).
 *
 * Each function is one script or one command on the calling thread's
 * connection, but for the finish (grouped: script_group.h) and the idle
 * wait (BLPOP and claim pipelined on the worker's blocking connection). Fencing lives in the
 * scripts: every change to a running job compares the caller's token with the job's, so a worker
 * that lost its lease can never complete, fail or step a job now owned by another.
 */
#include "queue_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "job_record.h"
#include "queue_internal.h"
#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/redis/reply.h"
#include "service/redis/script.h"
#include "service/redis/store_conn.h"

/* The claimed job of a claim reply (e = its elements after the "ok"). */
static void claimed_fill(redisReply *const *e, struct queue_claimed *out)
{
    redis_reply_str(e[0], out->id, sizeof out->id);
    redis_reply_str(e[1], out->token, sizeof out->token);
    redis_reply_str(e[2], out->type, sizeof out->type);
    out->payload = xstrdup(e[3]->type == REDIS_REPLY_STRING ? e[3]->str : "{}");
    out->attempts = (int)redis_reply_int(e[4]);
    out->max_attempts = (int)redis_reply_int(e[5]);
    out->runs = (int)redis_reply_int(e[6]);
    out->rlpaid = redis_reply_int(e[7]) == 1;
    redis_reply_str(e[8], out->created, sizeof out->created);
    redis_reply_str(e[9], out->resource, sizeof out->resource);
    redis_reply_str(e[10], out->uniq, sizeof out->uniq);
}

/* Parses a claim reply (lua/prelude.lua claim_next: one flat list, "ok" first):
 * 1 job, 0 none (due/now filled), FW_EREDIS. */
static int parse_claim(const redisReply *r, struct queue_claimed *out, long long *next_due_ms,
                       long long *now_ms)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "ok") != 0)
        return FW_EREDIS;
    if (r->elements == 12) {
        claimed_fill(r->element + 1, out);
        return 1;
    }
    if (r->elements == 4) {
        *next_due_ms = redis_reply_int(r->element[2]);
        *now_ms = redis_reply_int(r->element[3]);
        return 0;
    }
    return FW_EREDIS;
}

int queue_claim(const int order[JOB_NLANES], long long lease_ms, struct queue_claimed *out,
                long long *next_due_ms, long long *now_ms)
{
    char lease[24];
    snprintf(lease, sizeof lease, "%lld", lease_ms);
    const char *args[] = {lease, job_lane_name(order[0]), job_lane_name(order[1]),
                          job_lane_name(order[2])};
    redisReply *r = NULL;
    int rc = queue__run(&jobs_lua_claim, args, 4, &r);
    if (rc)
        return rc;
    rc = parse_claim(r, out, next_due_ms, now_ms);
    freeReplyObject(r);
    return rc;
}

/* Runs a script that answers one integer. */
static int eval_int(const struct redis_script *s, const char *const *args, int nargs,
                    long long *out)
{
    redisReply *r = NULL;
    int rc = queue__run(s, args, nargs, &r);
    if (rc)
        return rc;
    rc = r->type == REDIS_REPLY_INTEGER ? 0 : FW_EREDIS;
    *out = r->integer;
    freeReplyObject(r);
    return rc;
}

int queue_finish(const char *id, const char *token, const char *outcome, const char *a1,
                 const char *a2, const char *a3)
{
    struct queue_claimed job = {0}; /* type "": the script reads the job's fields itself */
    snprintf(job.id, sizeof job.id, "%s", id);
    snprintf(job.token, sizeof job.token, "%s", token);
    return queue_finish_next(&job, outcome, a1, a2, a3, NULL, NULL, NULL, NULL);
}

int queue_release(const char *id, const char *token)
{
    /* type "": the script reads the job's fields itself (lua/finish.lua); no claim after it */
    const char *args[] = {id, token, "release", "", "", "", "", "", "", ""};
    redisReply *r = NULL;
    int rc = queue__run(&jobs_lua_finish, args, 10, &r);
    if (rc)
        return rc;
    rc = r->type == REDIS_REPLY_STRING ? 0 : FW_EREDIS;
    freeReplyObject(r);
    return rc;
}

int queue_finish_next(const struct queue_claimed *job, const char *outcome, const char *a1,
                      const char *a2, const char *a3, const struct queue_next_req *req,
                      struct queue_claimed *next, long long *next_due_ms, long long *now_ms)
{
    char lease[24] = "";
    const char *args[] = {job->id,      job->token,   outcome,
                          a1 ? a1 : "", a2 ? a2 : "", a3 ? a3 : "",
                          job->type,    job->created, job->resource,
                          job->uniq,    "1",          lease,
                          "",           "",           ""};
    if (req) {
        snprintf(lease, sizeof lease, "%lld", req->lease_ms);
        for (int i = 0; i < JOB_NLANES; i++)
            args[12 + i] = job_lane_name(req->order[i]);
    }
    redisReply *r = NULL;
    /* The one round trip per job at steady state: grouped with the other workers' finishes, and
     * run together with them as one script (finish_many.lua). */
    int rc = queue__run_grouped(&jobs_lua_finish, &jobs_lua_finish_many, args, req ? 15 : 10, &r);
    if (rc)
        return rc; /* FW_ECONFLICT: the token lost the job */
    if (r->type == REDIS_REPLY_STRING)
        rc = 0;
    else if (req)
        rc = parse_claim(r, next, next_due_ms, now_ms);
    else
        rc = FW_EREDIS;
    freeReplyObject(r);
    return rc;
}

int queue_step(const char *id, const char *token, const char *kind, const char *a1, const char *a2,
               const char *a3)
{
    const char *args[] = {id, token, kind, a1 ? a1 : "", a2 ? a2 : "", a3 ? a3 : ""};
    redisReply *r = NULL;
    int rc = queue__run(&jobs_lua_step, args, 6, &r);
    if (rc)
        return rc; /* FW_ECONFLICT: the lease was lost */
    rc = r->type != REDIS_REPLY_STRING   ? FW_EREDIS
         : strcmp(r->str, "cancel") == 0 ? FW_ECANCELED
                                         : 0;
    freeReplyObject(r);
    return rc;
}

/* HGET P job:id field; *out malloc'd or NULL. 0, FW_EUNAVAILABLE or FW_EREDIS. */
static int hget(const char *id, const char *field, char **out)
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "HGET %sjob:%s %s", store_prefix(), id, field);
    if (!r)
        return rc;
    *out = r->type == REDIS_REPLY_STRING ? xstrdup(r->str) : NULL;
    rc = (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL) ? 0 : FW_EREDIS;
    freeReplyObject(r);
    return rc;
}

int queue_step_get(const char *id, const char *step, char **out)
{
    char field[128];
    snprintf(field, sizeof field, "%s%s", job_fields_table[JOB_F_STEPS].stored, step);
    int rc = hget(id, field, out);
    if (rc)
        return rc;
    return *out ? 0 : FW_ENOTFOUND;
}

int queue_cancel_flag(const char *id)
{
    char *v = NULL;
    int rc = hget(id, job_fields_table[JOB_F_CANCEL].stored, &v);
    if (rc)
        return rc;
    int set = v && strcmp(v, "1") == 0;
    free(v);
    return set;
}

int queue_renew(const char *const *ids, const char *const *tokens, int n, long long lease_ms,
                queue_renew_fn *cb, void *ud)
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
    int rc = queue__run(&jobs_lua_renew, args, 2 * n + 1, &r);
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
    int rc;
    redisReply *r = store_conn_cmd(&rc, "SET %s%s 1 NX PX %lld", store_prefix(), name, ttl_ms);
    if (!r)
        return rc;
    rc = r->type == REDIS_REPLY_STATUS ? 1 : r->type == REDIS_REPLY_NIL ? 0 : FW_EREDIS;
    freeReplyObject(r);
    return rc;
}

int queue_reap(int max_stalls, long long dead_ttl_ms, long long *requeued, long long *dead,
               long long *trimmed)
{
    char stalls[16], ttl[24];
    snprintf(stalls, sizeof stalls, "%d", max_stalls);
    snprintf(ttl, sizeof ttl, "%lld", dead_ttl_ms);
    const char *args[] = {stalls, ttl};
    redisReply *r = NULL;
    int rc = queue__run(&jobs_lua_reap, args, 2, &r);
    if (rc)
        return rc;
    long long *outs[] = {requeued, dead, trimmed};
    for (size_t i = 0; i < 3; i++)
        if (outs[i])
            *outs[i] = (r->type == REDIS_REPLY_ARRAY && r->elements == 3)
                           ? redis_reply_int(r->element[i])
                           : 0;
    freeReplyObject(r);
    return 0;
}

long long queue_rl_defer(const char *id, const char *token, const char *family, double rate,
                         double burst)
{
    char rs[32], bs[32];
    snprintf(rs, sizeof rs, "%.6f", rate);
    snprintf(bs, sizeof bs, "%.6f", burst);
    const char *args[] = {id, token, family, rs, bs};
    long long v = 0;
    int rc = eval_int(&jobs_lua_rldefer, args, 5, &v);
    return rc ? rc : v; /* rc FW_ECONFLICT: the token lost the job */
}

long long queue_rl_take(const char *family, double rate, double burst)
{
    char rs[32], bs[32];
    snprintf(rs, sizeof rs, "%.6f", rate);
    snprintf(bs, sizeof bs, "%.6f", burst);
    const char *args[] = {family, rs, bs};
    long long v = 0;
    int rc = eval_int(&jobs_lua_rltake, args, 3, &v);
    return rc ? rc : v;
}

int queue_sched_due(char names[][72], long long *dues, int max, long long *now_ms,
                    long long *next_ms)
{
    char mx[16];
    snprintf(mx, sizeof mx, "%d", max);
    const char *args[] = {mx};
    redisReply *r = NULL;
    int rc = queue__run(&jobs_lua_due, args, 1, &r);
    if (rc)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        freeReplyObject(r);
        return FW_EREDIS;
    }
    *now_ms = redis_reply_int(r->element[0]);
    *next_ms = redis_reply_int(r->element[1]);
    int n = 0;
    for (size_t i = 2; i + 1 < r->elements && n < max; i += 2) {
        redis_reply_str(r->element[i], names[n], 72);
        dues[n++] = redis_reply_int(r->element[i + 1]);
    }
    freeReplyObject(r);
    return n;
}

int queue_sched_spec(const char *name, long *every_s, char daily[8])
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "HMGET %ssched:%s every daily", store_prefix(), name);
    if (!r)
        return rc;
    rc = FW_ENOTFOUND;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING) {
        *every_s = (long)redis_reply_int(r->element[0]);
        redis_reply_str(r->element[1], daily, 8);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int queue_tick(const char *name, long long expected_due_ms, long long next_due_ms,
               const char *job_id)
{
    char exp[24], nxt[24];
    snprintf(exp, sizeof exp, "%lld", expected_due_ms);
    snprintf(nxt, sizeof nxt, "%lld", next_due_ms);
    const char *args[] = {name, exp, nxt, job_id};
    redisReply *r = NULL;
    int rc = queue__run(&jobs_lua_tick, args, 4, &r);
    if (rc)
        return rc;
    static const char *const outcomes[] = {"lost", "enqueued", "skipped"};
    rc = FW_EREDIS;
    for (int i = 0; i < 3 && r->type == REDIS_REPLY_STRING; i++)
        if (strcmp(r->str, outcomes[i]) == 0)
            rc = i;
    freeReplyObject(r);
    return rc;
}

/* The claim script's call: ARGV prefix, lease, lanes (strings borrowed from the caller). */
static void claim_call(struct redis_script_call *k, const char *lease, const int order[JOB_NLANES])
{
    const char *args[] = {store_prefix(), lease, job_lane_name(order[0]), job_lane_name(order[1]),
                          job_lane_name(order[2])};
    redis_script_call_init(k, &jobs_lua_claim, 0, 5, args, NULL);
}

int queue_wait_claim(struct redisContext *c, long long timeout_ms, const int order[JOB_NLANES],
                     long long lease_ms, struct queue_claimed *out, long long *next_due_ms,
                     long long *now_ms)
{
    if (timeout_ms < 10)
        timeout_ms = 10;
    char lease[24];
    snprintf(lease, sizeof lease, "%lld", lease_ms);
    struct redis_script_call k;
    claim_call(&k, lease, order);
    /* Redis leaves the claim in the connection's input while the BLPOP blocks and runs it the
     * moment the BLPOP returns (woken or timed out): both answers come in one write. */
    redisAppendCommand(c, "BLPOP %swake %.3f", store_prefix(), (double)timeout_ms / 1000.0);
    redisAppendCommandArgv(c, k.n, k.av, k.al);
    void *woke = NULL, *raw = NULL;
    int rc = FW_EUNAVAILABLE, wrc = FW_EUNAVAILABLE;
    if (redisGetReply(c, &woke) == REDIS_OK && redisGetReply(c, &raw) == REDIS_OK) {
        wrc = redis_reply_rc(woke, "BLPOP");
        redisReply *r = NULL;
        rc = redis_script_answer(c, &k, raw, &r);
        if (rc == 0) {
            rc = parse_claim(r, out, next_due_ms, now_ms);
            freeReplyObject(r);
        }
    }
    /* A job claimed is kept even when the BLPOP answered an error (it ran all the same). */
    if (rc != 1 && wrc)
        rc = wrc;
    if (woke)
        freeReplyObject(woke);
    redis_script_call_free(&k);
    return rc;
}
