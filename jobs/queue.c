/*
 * queue.c - running the Lua scripts, and the public queue API (enqueue,
 * get, list, cancel, retry, counts).
 *
 * Scripts are joined from the generated line tables once (pthread_once),
 * their SHA-1 computed locally, and run with EVALSHA; a NOSCRIPT answer
 * (Redis restarted or SCRIPT FLUSH) loads the script and runs it again.
 * After that first build the script table is read-only, so any thread may
 * run scripts on its own connection without locks.
 *
 * Time: every script reads Redis server time (TIME) itself; C code never
 * passes its own clock into a state change, so skewed worker clocks do not
 * matter. Durations (TTL, lease, backoff) are passed as relative ms.
 */
#include "queue.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "job_text.h"
#include "queue_internal.h"
#include "registry.h"
#include "schedule.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/redis/store_conn.h"

static char *s_src[QUEUE_LUA_COUNT];       /* joined sources; written once under s_once */
static char s_sha[QUEUE_LUA_COUNT][41];    /* their SHA-1 in hex; written once under s_once */
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void build_scripts(void)
{
    for (int i = 0; i < QUEUE_LUA_COUNT; i++) {
        size_t n = 1;
        for (const char *const *l = queue_lua_lines[i]; *l; l++)
            n += strlen(*l);
        char *s = xmalloc(n);
        size_t off = 0;
        for (const char *const *l = queue_lua_lines[i]; *l; l++) {
            size_t k = strlen(*l);
            memcpy(s + off, *l, k);
            off += k;
        }
        s[off] = '\0';
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        EVP_Digest(s, off, md, &mdlen, EVP_sha1(), NULL);
        for (unsigned j = 0; j < mdlen && j < 20; j++)
            snprintf(s_sha[i] + 2 * j, 3, "%02x", md[j]);
        s_src[i] = s;
    }
}

long long queue__int(const struct redisReply *r)
{
    if (!r)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        return strtoll(r->str, NULL, 10);
    return 0;
}

void queue__str(const struct redisReply *r, char *dst, size_t dstlen)
{
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        snprintf(dst, dstlen, "%s", r->str);
    else if (r && r->type == REDIS_REPLY_INTEGER)
        snprintf(dst, dstlen, "%lld", r->integer);
    else if (dstlen)
        dst[0] = '\0';
}

/* Loads script id into Redis (after NOSCRIPT). 0 or FW_EREDIS. */
static int load_script(redisContext *c, enum queue_lua_id id)
{
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", s_src[id]);
    if (!r) {
        store_conn_broken();
        return FW_EREDIS;
    }
    int ok = r->type == REDIS_REPLY_STRING;
    freeReplyObject(r);
    return ok ? 0 : FW_EREDIS;
}

static redisReply *evalsha(redisContext *c, enum queue_lua_id id, const char *const *args, int nargs)
{
    const char **argv = xmalloc(sizeof *argv * (size_t)(nargs + 4));
    argv[0] = "EVALSHA";
    argv[1] = s_sha[id];
    argv[2] = "0";
    argv[3] = store_prefix();
    for (int i = 0; i < nargs; i++)
        argv[4 + i] = args[i];
    redisReply *r = redisCommandArgv(c, nargs + 4, argv, NULL);
    free(argv);
    return r;
}

static int is_noscript(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
}

int queue__eval(enum queue_lua_id id, const char *const *args, int nargs, struct redisReply **out)
{
    pthread_once(&s_once, build_scripts);
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    redisReply *r = evalsha(c, id, args, nargs);
    if (r && is_noscript(r)) {
        freeReplyObject(r);
        r = load_script(c, id) == 0 ? evalsha(c, id, args, nargs) : NULL;
    }
    if (!r) {
        if (c->err)
            store_conn_broken();
        return FW_EREDIS;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        char f[400];
        snprintf(f, sizeof f, "\"script\":\"%s\",\"error\":\"%.300s\"", queue_lua_name[id], r->str);
        for (char *p = f; *p; p++)
            if (*p == '\n')
                *p = ' ';
        log_fields(LOG_ERROR, "jobs script failed", f);
        freeReplyObject(r);
        return FW_EREDIS;
    }
    *out = r;
    return 0;
}

int queue__server_time(long long *ms)
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    redisReply *r = redisCommand(c, "TIME");
    if (!r) {
        store_conn_broken();
        return FW_EREDIS;
    }
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2;
    if (ok)
        *ms = queue__int(r->element[0]) * 1000 + queue__int(r->element[1]) / 1000;
    freeReplyObject(r);
    return ok ? 0 : FW_EREDIS;
}

/* ---- settings ---- */

static struct jobs_settings s_settings;    /* written once under s_settings_once */
static pthread_once_t s_settings_once = PTHREAD_ONCE_INIT;

static long long env_ll(const char *name, long long dflt, long long lo, long long hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
        char f[160];
        snprintf(f, sizeof f, "\"variable\":\"%s\",\"default\":%lld", name, dflt);
        log_fields(LOG_WARN, "invalid jobs setting, using the default", f);
        return dflt;
    }
    return n;
}

static void load_settings(void)
{
    struct jobs_settings *s = &s_settings;
    s->job_ttl_ms = env_ll("FLEETWARDEN_JOB_TTL", 7 * 86400, 1, 3650LL * 86400) * 1000;
    s->dead_ttl_ms = env_ll("FLEETWARDEN_DEAD_TTL", 30 * 86400, 1, 3650LL * 86400) * 1000;
    s->lease_ms = env_ll("FLEETWARDEN_JOB_LEASE_MS", 30000, 300, 3600000);
    s->reaper_ms = env_ll("FLEETWARDEN_REAPER_MS", 5000, 100, 600000);
    s->retry_base_ms = env_ll("FLEETWARDEN_RETRY_BASE_MS", 1000, 0, 3600000);
    s->retry_cap_ms = env_ll("FLEETWARDEN_RETRY_CAP_MS", 300000, 0, 86400000);
    s->max_stalls = (int)env_ll("FLEETWARDEN_MAX_STALLS", 3, 1, 100);
}

const struct jobs_settings *jobs_settings(void)
{
    pthread_once(&s_settings_once, load_settings);
    return &s_settings;
}

/* ---- enqueue ---- */

struct enq {
    char id[JOB_ID_MAX];
    const char *lane;
    char max[16];
    const char *unique;
    char run_at[24];
};

static int enqueue_check(const struct job_spec *spec, struct enq *e)
{
    char why[200];
    const struct job_type_entry *t = jobs_registry_find(spec->type);
    if (!job_type_valid(spec->type))
        return FW_EINVAL;
    int rc = job_payload_check(spec->payload_json ? spec->payload_json : "{}", why, sizeof why);
    if (rc) {
        char f[300];
        for (char *q = why; *q; q++)   /* the key came from outside: keep the log line JSON */
            if (!isalnum((unsigned char)*q) && !strchr(" ._-:,;", *q))
                *q = '\'';
        snprintf(f, sizeof f, "\"type\":\"%s\",\"reason\":\"%.200s\"", spec->type, why);
        log_fields(LOG_WARN, "job payload rejected", f);
        return rc;
    }
    if (spec->resource && *spec->resource && !job_token_valid(spec->resource, JOB_RESOURCE_MAX))
        return FW_EINVAL;
    if (spec->id && !job_token_valid(spec->id, JOB_ID_MAX))
        return FW_EINVAL;
    int lane = spec->lane ? job_lane_parse(spec->lane) : (t ? t->opts.lane : JOB_LANE_DEFAULT);
    if (lane < 0)
        return FW_EINVAL;
    e->lane = job_lane_name(lane);
    int max = spec->max_attempts > 0 ? spec->max_attempts : (t ? t->opts.max_attempts : JOBS_DEFAULT_MAX_ATTEMPTS);
    snprintf(e->max, sizeof e->max, "%d", max > 1000 ? 1000 : max);
    e->unique = (t && t->opts.unique_per_resource) ? "1" : "0";
    snprintf(e->run_at, sizeof e->run_at, "%lld", spec->run_at_ms > 0 ? spec->run_at_ms : 0);
    if (!spec->id)
        return job_id_new(e->id);
    snprintf(e->id, sizeof e->id, "%s", spec->id);
    return 0;
}

int jobs_enqueue(const struct job_spec *spec, char out_id[JOB_ID_MAX], int *existed)
{
    struct enq e;
    int rc = enqueue_check(spec, &e);
    if (rc)
        return rc;
    const char *args[] = {e.id,
                          spec->type,
                          e.lane,
                          spec->payload_json ? spec->payload_json : "{}",
                          e.max,
                          spec->resource ? spec->resource : "",
                          e.unique,
                          e.run_at};
    redisReply *r = NULL;
    rc = queue__eval(QL_ENQUEUE, args, 8, &r);
    if (rc)
        return rc;
    long long code = r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? queue__int(r->element[0]) : -9;
    if (code != -9)
        queue__str(r->element[1], out_id, JOB_ID_MAX);
    freeReplyObject(r);
    if (code == -9)
        return FW_EREDIS;
    if (existed)
        *existed = code == 1;
    return 0;
}

/* ---- reading ---- */

/* Renders an array reply of alternating field names and values. */
static json_t *render_reply(const redisReply *r)
{
    const char **kv = xcalloc(r->elements + 1, sizeof *kv);
    size_t n = 0;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            kv[n++] = r->element[i]->str;
    json_t *o = job_render(kv, n);
    free(kv);
    return o;
}

int jobs_get(const char *id, json_t **out)
{
    if (!job_token_valid(id, JOB_ID_MAX))
        return FW_ENOTFOUND;
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    redisReply *r = redisCommand(c, "HGETALL %sjob:%s", store_prefix(), id);
    if (!r) {
        store_conn_broken();
        return FW_EREDIS;
    }
    int rc = FW_EREDIS;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 0)
        rc = FW_ENOTFOUND;
    else if (r->type == REDIS_REPLY_ARRAY) {
        *out = render_reply(r);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

static int cursor_valid(const char *s)
{
    size_t n = strlen(s);
    if (n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Runs list.lua for a page; *r is its reply (next cursor, then one field
 * array per job). 0, FW_EINVAL, FW_EREDIS. */
static int list_page(const struct jobs_filter *f, int limit, const char *cursor, redisReply **r, char next[32])
{
    char idx[48] = "idx:all", lim[16];
    if (f->state && *f->state) {
        if (!job_state_valid(f->state))
            return FW_EINVAL;
        snprintf(idx, sizeof idx, "st:%s", f->state);
    }
    if (cursor && !cursor_valid(cursor))
        return FW_EINVAL;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *args[] = {idx, cursor ? cursor : "", lim, f->type ? f->type : "", f->resource ? f->resource : "",
                          "5000"};
    int rc = queue__eval(QL_LIST, args, 6, r);
    if (rc)
        return rc;
    if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements < 1) {
        freeReplyObject(*r);
        return FW_EREDIS;
    }
    queue__str((*r)->element[0], next, 32);
    return 0;
}

int jobs_list(const struct jobs_filter *f, int limit, const char *cursor, json_t **items, char next[32])
{
    redisReply *r = NULL;
    int rc = list_page(f, limit, cursor, &r, next);
    if (rc)
        return rc;
    *items = json_array();
    for (size_t i = 1; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_ARRAY)
            json_array_append_new(*items, render_reply(r->element[i]));
    freeReplyObject(r);
    return 0;
}

/* job_render_text on an array reply of alternating field names and values. */
static int render_reply_text(const redisReply *r, struct buf *out)
{
    const char **kv = xcalloc(r->elements + 1, sizeof *kv);
    size_t n = 0;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            kv[n++] = r->element[i]->str;
    int rc = job_render_text(kv, n, out);
    free(kv);
    return rc;
}

int jobs_list_text(const struct jobs_filter *f, int limit, const char *cursor, struct buf *items, char next[32])
{
    redisReply *r = NULL;
    int rc = list_page(f, limit, cursor, &r, next);
    if (rc)
        return rc;
    rc = buf_append(items, "[", 1);
    for (size_t i = 1, n = 0; !rc && i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_ARRAY) {
            rc = n++ ? buf_append(items, ",", 1) : 0;
            rc = rc ? rc : render_reply_text(r->element[i], items);
        }
    freeReplyObject(r);
    return rc ? rc : buf_append(items, "]", 1);
}

/* ---- cancel, retry ---- */

/* Runs cancel/retry and maps its {code, state} answer. */
static int run_control(enum queue_lua_id id, const char *job_id, long long *code)
{
    if (!job_token_valid(job_id, JOB_ID_MAX))
        return FW_ENOTFOUND;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", jobs_settings()->job_ttl_ms);
    const char *args[] = {job_id, ttl};
    redisReply *r = NULL;
    int rc = queue__eval(id, args, 2, &r);
    if (rc)
        return rc;
    rc = (r->type == REDIS_REPLY_ARRAY && r->elements == 2) ? 0 : FW_EREDIS;
    if (!rc)
        *code = queue__int(r->element[0]);
    freeReplyObject(r);
    if (rc)
        return rc;
    if (*code == -1)
        return FW_ENOTFOUND;
    return *code < 0 ? FW_ECONFLICT : 0;
}

int jobs_cancel(const char *id, int *immediate)
{
    long long code = 0;
    int rc = run_control(QL_CANCEL, id, &code);
    if (!rc && immediate)
        *immediate = code == 0;
    return rc;
}

int jobs_retry(const char *id)
{
    long long code = 0;
    return run_control(QL_RETRY, id, &code);
}

/* ---- counts for metrics ---- */

static const char *const s_state_names[7] = {"queued",    "scheduled", "running", "succeeded",
                                             "failed",    "dead",      "canceled"};

const char *jobs_state_name(int i)
{
    return (i >= 0 && i < 7) ? s_state_names[i] : NULL;
}

int jobs_counts(struct jobs_counts *out)
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EREDIS;
    const char *p = store_prefix();
    for (int i = 0; i < JOB_NLANES; i++)
        redisAppendCommand(c, "LLEN %sq:%s", p, job_lane_name(i));
    for (int i = 0; i < 7; i++)
        redisAppendCommand(c, "ZCARD %sst:%s", p, s_state_names[i]);
    redisAppendCommand(c, "ZCARD %sdelayed", p);
    redisAppendCommand(c, "ZCARD %srunning", p);
    redisAppendCommand(c, "ZCARD %sdead", p);
    redisAppendCommand(c, "HMGET %sstats retries rlwaits poison", p);
    long long *slots[] = {&out->lane_depth[0], &out->lane_depth[1], &out->lane_depth[2], &out->by_state[0],
                          &out->by_state[1],   &out->by_state[2],   &out->by_state[3],   &out->by_state[4],
                          &out->by_state[5],   &out->by_state[6],   &out->delayed,       &out->running,
                          &out->dead};
    int rc = 0;
    for (size_t i = 0; i < 14; i++) {
        void *rv = NULL;
        if (redisGetReply(c, &rv) != REDIS_OK) {
            store_conn_broken();
            return FW_EREDIS;
        }
        redisReply *r = rv;
        if (i < 13)
            *slots[i] = queue__int(r);
        else if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
            out->retries = queue__int(r->element[0]);
            out->rlwaits = queue__int(r->element[1]);
            out->poison = queue__int(r->element[2]);
        } else
            rc = FW_EREDIS;
        freeReplyObject(r);
    }
    return rc;
}

/* ---- schedules ---- */

static int sched_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= '0' && s[i] <= '9') &&
            !strchr("._-", s[i]))
            return 0;
    return 1;
}

int jobs_schedule_upsert(const char *name, const char *type, const char *payload_json, long every_s,
                         const char *daily)
{
    struct schedule_spec spec = {every_s > 0 ? every_s : 0, -1};
    char why[200];
    if (!sched_name_valid(name) || !job_type_valid(type))
        return FW_EINVAL;
    if (daily && schedule_parse_daily(daily, &spec.daily_min))
        return FW_EINVAL;
    if (schedule_spec_check(&spec))
        return FW_EINVAL;
    const char *payload = payload_json ? payload_json : "{}";
    int rc = job_payload_check(payload, why, sizeof why);
    if (rc)
        return rc;
    long long now = 0;
    rc = queue__server_time(&now);
    if (rc)
        return rc;
    const struct job_type_entry *t = jobs_registry_find(type);
    char every[24], max[16], due[24];
    snprintf(every, sizeof every, "%ld", spec.every_s);
    snprintf(max, sizeof max, "%d", t ? t->opts.max_attempts : JOBS_DEFAULT_MAX_ATTEMPTS);
    snprintf(due, sizeof due, "%lld", schedule_next_ms(&spec, now));
    const char *lane = job_lane_name(t ? t->opts.lane : JOB_LANE_DEFAULT);
    const char *args[] = {name, type, payload, lane, max, every, daily ? daily : "", due};
    redisReply *r = NULL;
    rc = queue__eval(QL_SCHEDUP, args, 8, &r);
    if (!rc)
        freeReplyObject(r);
    return rc;
}

int jobs_schedule_delete(const char *name)
{
    if (!sched_name_valid(name))
        return FW_EINVAL;
    const char *args[] = {name};
    redisReply *r = NULL;
    int rc = queue__eval(QL_SCHEDDEL, args, 1, &r);
    if (rc)
        return rc;
    rc = r->type == REDIS_REPLY_INTEGER ? (r->integer == 1 ? 0 : FW_ENOTFOUND) : FW_EREDIS;
    freeReplyObject(r);
    return rc;
}
