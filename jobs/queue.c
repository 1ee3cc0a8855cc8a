/*
 * queue.c - the public queue API (enqueue, get, list, cancel, retry,
 * counts, schedules) and running the jobs scripts.
 *
 * Every script goes through the Redis runner (service/redis/script.h):
 * EVALSHA with NOSCRIPT reload, one reply-to-error mapping. Time: every
 * script reads Redis server time itself; C passes only durations (TTL,
 * lease, backoff), so skewed worker clocks do not matter.
 */
#include "queue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "job_record.h"
#include "job_text.h"
#include "queue_internal.h"
#include "registry.h"
#include "schedule.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/redis/reply.h"
#include "service/redis/script.h"
#include "service/redis/script_group.h"
#include "service/redis/store_conn.h"

#define QUEUE_STACK_ARGS 16

/* Runs s with the prefix as ARGV[1] on the thread's connection, or grouped (batched with many
 * when not NULL). */
static int run_with_prefix(const struct redis_script *s, const char *const *args, int nargs,
                           struct redisReply **out, int grouped, const struct redis_script *many)
{
    const char *stack[QUEUE_STACK_ARGS + 1];
    const char **argv =
        nargs < QUEUE_STACK_ARGS ? stack : xmalloc(sizeof *argv * (size_t)(nargs + 1));
    argv[0] = store_prefix();
    for (int i = 0; i < nargs; i++)
        argv[1 + i] = args[i];
    int rc = many      ? redis_script_run_batched(s, many, nargs + 1, argv, NULL, out)
             : grouped ? redis_script_run_grouped(s, 0, nargs + 1, argv, NULL, out)
                       : redis_script_run(s, 0, nargs + 1, argv, NULL, out);
    if (argv != stack)
        free(argv);
    return rc;
}

int queue__run(const struct redis_script *s, const char *const *args, int nargs,
               struct redisReply **out)
{
    return run_with_prefix(s, args, nargs, out, 0, NULL);
}

int queue__run_grouped(const struct redis_script *s, const struct redis_script *many,
                       const char *const *args, int nargs, struct redisReply **out)
{
    return run_with_prefix(s, args, nargs, out, 1, many);
}

int queue__server_time(long long *ms)
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "TIME");
    if (!r)
        return rc;
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2;
    if (ok)
        *ms = redis_reply_int(r->element[0]) * 1000 + redis_reply_int(r->element[1]) / 1000;
    freeReplyObject(r);
    return ok ? 0 : FW_EREDIS;
}

/* ---- settings ---- */

static struct jobs_settings s_settings; /* written once under s_settings_once */
static pthread_once_t s_settings_once = PTHREAD_ONCE_INIT;

static void load_settings(void)
{
    const struct fw_config *c = config_get();
    struct jobs_settings *s = &s_settings;
    s->job_ttl_ms = c->job_ttl_s * 1000LL;
    s->dead_ttl_ms = c->dead_ttl_s * 1000LL;
    s->lease_ms = c->job_lease_ms;
    s->reaper_ms = c->reaper_ms;
    s->retry_base_ms = c->retry_base_ms;
    s->retry_cap_ms = c->retry_cap_ms;
    s->max_stalls = c->max_stalls;
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
        log_event(LOG_WARN, "job payload rejected", LOG_STR("type", spec->type),
                  LOG_STR("reason", why));
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
    int max = spec->max_attempts > 0 ? spec->max_attempts
                                     : (t ? t->opts.max_attempts : JOBS_DEFAULT_MAX_ATTEMPTS);
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
    const char *args[] = {e.id,     spec->type,
                          e.lane,   spec->payload_json ? spec->payload_json : "{}",
                          e.max,    spec->resource ? spec->resource : "",
                          e.unique, e.run_at};
    redisReply *r = NULL;
    rc = queue__run(&jobs_lua_enqueue, args, 8, &r);
    if (rc)
        return rc;
    rc = r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? 0 : FW_EREDIS;
    if (!rc) {
        redis_reply_str(r->element[0], out_id, JOB_ID_MAX);
        if (existed)
            *existed = redis_reply_int(r->element[1]) == 1;
    }
    freeReplyObject(r);
    return rc;
}

/* ---- reading ---- */

/* Reads job id from an array reply of its stored fields, elements
 * [from, elements), into f (job_record.h). 0, or -1 when the hash is no job
 * record. */
static int expand_reply(const char *id, const redisReply *r, size_t from, struct job_fields *f)
{
    const char **kv = xcalloc(r->elements + 1, sizeof *kv);
    size_t n = 0;
    for (size_t i = from; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING &&
            r->element[i + 1]->type == REDIS_REPLY_STRING) {
            kv[n++] = r->element[i]->str;
            kv[n++] = r->element[i + 1]->str;
        }
    int rc = job_record_expand(id, kv, n, f);
    free(kv);
    return rc;
}

int jobs_get(const char *id, json_t **out)
{
    if (!job_token_valid(id, JOB_ID_MAX))
        return FW_ENOTFOUND;
    int rc;
    redisReply *r = store_conn_cmd(&rc, "HGETALL %sjob:%s", store_prefix(), id);
    if (!r)
        return rc;
    struct job_fields *f = xmalloc(sizeof *f);
    rc = r->type != REDIS_REPLY_ARRAY     ? FW_EREDIS
         : expand_reply(id, r, 0, f) != 0 ? FW_ENOTFOUND
                                          : 0;
    if (!rc)
        *out = job_render(f);
    free(f);
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

/* Runs list.lua for a page; *r is its reply (next cursor, then per job an
 * array of its id and stored fields). The filters go to the script as
 * stored names (job_record.h) and values. 0, FW_EINVAL, FW_EUNAVAILABLE,
 * FW_EREDIS. */
static int list_page(const struct jobs_filter *f, int limit, const char *cursor, redisReply **r,
                     char next[32])
{
    char lim[16];
    if (f->state && *f->state && !job_state_valid(f->state))
        return FW_EINVAL;
    if (cursor && !cursor_valid(cursor))
        return FW_EINVAL;
    snprintf(lim, sizeof lim, "%d", limit);
    const char *args[8] = {f->state ? f->state : "", cursor ? cursor : "", lim, "5000"};
    int n = 4;
    const struct {
        enum job_field field;
        const char *want;
    } by[] = {{JOB_F_TYPE, f->type}, {JOB_F_RESOURCE, f->resource}};
    for (size_t i = 0; i < sizeof by / sizeof by[0]; i++)
        if (by[i].want && *by[i].want) {
            args[n++] = job_fields_table[by[i].field].stored;
            args[n++] = by[i].want;
        }
    int rc = queue__run(&jobs_lua_list, args, n, r);
    if (rc)
        return rc;
    if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements < 1) {
        freeReplyObject(*r);
        return FW_EREDIS;
    }
    redis_reply_str((*r)->element[0], next, 32);
    return 0;
}

/* Reads a job array of list.lua's answer (id, then the stored fields)
 * into f. 0, or -1 when it is no job. */
static int expand_listed(const redisReply *e, struct job_fields *f)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
        e->element[0]->type != REDIS_REPLY_STRING)
        return -1;
    return expand_reply(e->element[0]->str, e, 1, f);
}

int jobs_list(const struct jobs_filter *f, int limit, const char *cursor, json_t **items,
              char next[32])
{
    redisReply *r = NULL;
    int rc = list_page(f, limit, cursor, &r, next);
    if (rc)
        return rc;
    *items = json_array();
    struct job_fields *jf = xmalloc(sizeof *jf);
    for (size_t i = 1; i < r->elements; i++)
        if (expand_listed(r->element[i], jf) == 0)
            json_array_append_new(*items, job_render(jf));
    free(jf);
    freeReplyObject(r);
    return 0;
}

int jobs_list_text(const struct jobs_filter *f, int limit, const char *cursor, struct buf *items,
                   char next[32])
{
    redisReply *r = NULL;
    int rc = list_page(f, limit, cursor, &r, next);
    if (rc)
        return rc;
    rc = buf_append(items, "[", 1);
    struct job_fields *jf = xmalloc(sizeof *jf);
    for (size_t i = 1, n = 0; !rc && i < r->elements; i++)
        if (expand_listed(r->element[i], jf) == 0) {
            rc = n++ ? buf_append(items, ",", 1) : 0;
            rc = rc ? rc : job_render_text(jf, items);
        }
    free(jf);
    freeReplyObject(r);
    return rc ? rc : buf_append(items, "]", 1);
}

/* ---- cancel, retry ---- */

/* Runs cancel or retry; *done gets its answer ("canceled", "requested",
 * "queued"). 0, FW_ENOTFOUND, FW_ECONFLICT (the scripts' fw_error), FW_EUNAVAILABLE, FW_EREDIS. */
static int run_control(const struct redis_script *s, const char *job_id, char done[16])
{
    if (!job_token_valid(job_id, JOB_ID_MAX))
        return FW_ENOTFOUND;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", jobs_settings()->job_ttl_ms);
    const char *args[] = {job_id, ttl};
    redisReply *r = NULL;
    int rc = queue__run(s, args, 2, &r);
    if (rc)
        return rc;
    rc = r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING ? 0 : FW_EREDIS;
    redis_reply_str(r, done, 16);
    freeReplyObject(r);
    return rc;
}

int jobs_cancel(const char *id, int *immediate)
{
    char done[16];
    int rc = run_control(&jobs_lua_cancel, id, done);
    if (!rc && immediate)
        *immediate = strcmp(done, "canceled") == 0;
    return rc;
}

int jobs_retry(const char *id)
{
    char done[16];
    return run_control(&jobs_lua_retry, id, done);
}

/* ---- counts for metrics ---- */

static const char *const s_state_names[7] = {"queued", "scheduled", "running", "succeeded",
                                             "failed", "dead",      "canceled"};

const char *jobs_state_name(int i)
{
    return (i >= 0 && i < 7) ? s_state_names[i] : NULL;
}

int jobs_counts(struct jobs_counts *out)
{
    const char *args[JOB_NLANES];
    for (int i = 0; i < JOB_NLANES; i++)
        args[i] = job_lane_name(i);
    redisReply *r = NULL;
    int rc = queue__run(&jobs_lua_counts, args, JOB_NLANES, &r);
    if (rc)
        return rc;
    long long *slots[] = {
        &out->lane_depth[0], &out->lane_depth[1], &out->lane_depth[2], &out->by_state[0],
        &out->by_state[1],   &out->by_state[2],   &out->by_state[3],   &out->by_state[4],
        &out->by_state[5],   &out->by_state[6],   &out->delayed,       &out->running,
        &out->dead,          &out->retries,       &out->rlwaits,       &out->poison};
    size_t n = sizeof slots / sizeof slots[0];
    rc = r->type == REDIS_REPLY_ARRAY && r->elements == n ? 0 : FW_EREDIS;
    for (size_t i = 0; !rc && i < n; i++)
        *slots[i] = redis_reply_int(r->element[i]);
    freeReplyObject(r);
    return rc;
}

/* ---- schedules ---- */

static int sched_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
            !(s[i] >= '0' && s[i] <= '9') && !strchr("._-", s[i]))
            return 0;
    return 1;
}

int jobs_schedule_upsert(const char *name, const char *type, const char *payload_json, long every_s,
                         const char *daily)
{
    return jobs_schedule_upsert_for(name, type, payload_json, 0, every_s, daily);
}

int jobs_schedule_upsert_for(const char *name, const char *type, const char *payload_json,
                             const char *resource, long every_s, const char *daily)
{
    struct schedule_spec spec = {every_s > 0 ? every_s : 0, -1};
    char why[200];
    if (!sched_name_valid(name) || !job_type_valid(type) ||
        (resource && *resource && !job_token_valid(resource, JOB_RESOURCE_MAX)))
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
    const char *args[] = {
        name, type, payload, lane, max, every, daily ? daily : "", due, resource ? resource : ""};
    redisReply *r = NULL;
    rc = queue__run(&jobs_lua_schedup, args, 9, &r);
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
    int rc = queue__run(&jobs_lua_scheddel, args, 1, &r);
    if (!rc)
        freeReplyObject(r);
    return rc;
}
