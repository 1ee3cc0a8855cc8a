/*
 * event_hub.c - the process's one reader of the event log (event_hub.h).
 *
 * The ring is ordered by log id (XREAD hands entries out in order), so a
 * reader finds the event after its id by binary search. `covered` is the id
 * up to which events may be missing from the ring (the start position, or
 * the last id evicted): a reader whose id is older reads the gap from Redis.
 *
 * Wakes are called with the subscriber list copied and the ring unlocked
 * (a wake resumes an HTTP connection and must not wait for the ring), under
 * s_deliver, which unsubscribe also takes: once it has returned, nothing
 * calls the subscriber again.
 */
#include "jobs/event_hub.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "jobs/job_record.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/redis/store_conn.h"

#define READ_BLOCK_MS 500 /* the watched counter is read between blocking reads */
#define READ_COUNT 100

struct hub_sub {
    struct hub_sub *prev, *next;
    char job[JOB_ID_MAX]; /* "" = every batch */
    event_hub_wake_fn *wake;
    void *ctx;
};

struct wake_call {
    event_hub_wake_fn *wake;
    void *ctx;
};

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;      /* ring, position, subscribers */
static pthread_mutex_t s_deliver = PTHREAD_MUTEX_INITIALIZER; /* held while wakes run */
static struct hub_event s_ring[EVENT_HUB_RING];
static size_t s_head, s_n;                /* oldest entry, count */
static char s_pos[JOBS_EVENT_ID_MAX];     /* newest id read */
static char s_covered[JOBS_EVENT_ID_MAX]; /* the ring has every event after it */
static struct hub_sub *s_subs;
static pthread_t s_thread;
static int s_started;
static atomic_int s_stop, s_ready;
static char s_watch_key[64]; /* "" = none */
static atomic_llong s_watched = -1;

static void id_parts(const char *id, unsigned long long *ms, unsigned long long *seq)
{
    char *end = 0;
    *ms = strtoull(id, &end, 10);
    *seq = end && *end == '-' ? strtoull(end + 1, 0, 10) : 0;
}

int event_hub_id_cmp(const char *a, const char *b)
{
    unsigned long long am, as, bm, bs;
    id_parts(a, &am, &as);
    id_parts(b, &bm, &bs);
    return am != bm ? (am < bm ? -1 : 1) : as != bs ? (as < bs ? -1 : 1) : 0;
}

static void copy_str(char *dst, size_t n, const json_t *v)
{
    const char *s = json_string_value(v);
    snprintf(dst, n, "%s", s ? s : "");
}

void event_hub_parse(const char *json, struct hub_event *e)
{
    json_t *v = json_loads(json ? json : "", 0, 0);
    const char *type = json_string_value(json_object_get(v, "type"));
    snprintf(e->type, sizeof e->type, "%s", type && !strcmp(type, "incident") ? "incident" : "job");
    copy_str(e->state, sizeof e->state, !strcmp(e->type, "job") ? json_object_get(v, "state") : 0);
    copy_str(e->job_type, sizeof e->job_type, json_object_get(v, "jobType"));
    copy_str(e->resource, sizeof e->resource, json_object_get(v, "resource"));
    copy_str(e->eid, sizeof e->eid, json_object_get(v, "id"));
    e->json = 0;
    json_decref(v);
}

int event_hub_ready(void)
{
    return atomic_load(&s_ready);
}

/* ---- readers ---- */

/* Index (from the oldest) of the first ring entry after id, or s_n. Under s_mu. */
static size_t first_after(const char *id)
{
    size_t lo = 0, hi = s_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (event_hub_id_cmp(s_ring[(s_head + mid) % EVENT_HUB_RING].id, id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int event_hub_next(char after[JOBS_EVENT_ID_MAX], struct hub_event *out)
{
    int rc = 0;
    pthread_mutex_lock(&s_mu);
    if (!after[0]) {
        snprintf(after, JOBS_EVENT_ID_MAX, "%s", s_pos[0] ? s_pos : "0-0");
    } else if (event_hub_id_cmp(after, s_covered) < 0) {
        rc = 2;
    } else {
        size_t i = first_after(after);
        if (i < s_n) {
            *out = s_ring[(s_head + i) % EVENT_HUB_RING];
            out->json = xstrdup(out->json);
            rc = 1;
        }
    }
    pthread_mutex_unlock(&s_mu);
    return rc;
}

void event_hub_skip_gap(char after[JOBS_EVENT_ID_MAX])
{
    pthread_mutex_lock(&s_mu);
    if (event_hub_id_cmp(after, s_covered) < 0)
        snprintf(after, JOBS_EVENT_ID_MAX, "%s", s_covered);
    pthread_mutex_unlock(&s_mu);
}

/* The largest entry time made into an event's ts: 9999-12-31T23:59:59.999Z. */
#define EVENT_MS_MAX 253402300799999ULL

int event_hub_job_event(const char *entry_id, const char *state, const char *id, const char *type,
                        const char *resource, struct hub_event *e)
{
    const char *name = job_record_state_name(state);
    unsigned long long ms = 0, seq;
    if (entry_id)
        id_parts(entry_id, &ms, &seq);
    if (!name || !id || !type || !resource || !ms || ms > EVENT_MS_MAX)
        return -1;
    char ts[32];
    job_time_rfc3339((long long)ms, ts);
    /* The members in the order the scripts wrote them when they logged JSON (cjson's), '/' as
     * "\/" as cjson wrote it: a reader of the stream sees the same text as before. */
    json_t *v = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s}", "state", name, "type", "job",
                          "resource", resource[0] ? json_string(resource) : json_null(), "id", id,
                          "ts", ts, "jobType", type);
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
    json_decref(v);
    if (!text)
        return -1; /* not UTF-8 */
    snprintf(e->type, sizeof e->type, "job");
    snprintf(e->state, sizeof e->state, "%s", name);
    snprintf(e->job_type, sizeof e->job_type, "%s", type);
    snprintf(e->resource, sizeof e->resource, "%s", resource);
    snprintf(e->eid, sizeof e->eid, "%s", id);
    e->json = text;
    return 0;
}

/* The value of field name among an entry's [field, value, ...], or NULL. */
static const char *entry_field(const redisReply *f, const char *name)
{
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING &&
            f->element[i + 1]->type == REDIS_REPLY_STRING && !strcmp(f->element[i]->str, name))
            return f->element[i + 1]->str;
    return NULL;
}

/* An XRANGE/XREAD entry [id, [field, value, ...]] as an event, its JSON malloc'd in ev->json: a
 * job's change as the job scripts log it (fields s, i, t, r: event_hub_job_event), an incident's
 * as the JSON text in field e (service/domain/store_watch.h). 0, or -1 when it is neither. */
static int entry_event(const redisReply *e, struct hub_event *ev)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
        return -1;
    const redisReply *f = e->element[1];
    const char *json = entry_field(f, "e");
    if (json) {
        event_hub_parse(json, ev);
        ev->json = xstrdup(json);
    } else if (event_hub_job_event(e->element[0]->str, entry_field(f, "s"), entry_field(f, "i"),
                                   entry_field(f, "t"), entry_field(f, "r"), ev)) {
        return -1;
    }
    snprintf(ev->id, sizeof ev->id, "%s", e->element[0]->str);
    return 0;
}

int jobs_events_range(const char *after, int max, hub_event_fn *fn, void *ud)
{
    if (!jobs_event_id_valid(after))
        return FW_EINVAL;
    int rc;
    redisReply *r =
        store_conn_cmd(&rc, "XRANGE %sevents:log (%s + COUNT %d", store_prefix(), after, max);
    if (!r)
        return rc;
    struct hub_event *ev = xcalloc(1, sizeof *ev);
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (!entry_event(r->element[i], ev)) {
            fn(ev, ud);
            free(ev->json);
        }
    free(ev);
    freeReplyObject(r);
    return 0;
}

/* ---- subscribers ---- */

struct hub_sub *event_hub_subscribe(const char *job_id, event_hub_wake_fn *wake, void *ctx)
{
    struct hub_sub *s = xcalloc(1, sizeof *s);
    snprintf(s->job, sizeof s->job, "%s", job_id ? job_id : "");
    s->wake = wake;
    s->ctx = ctx;
    pthread_mutex_lock(&s_mu);
    s->next = s_subs;
    if (s_subs)
        s_subs->prev = s;
    s_subs = s;
    pthread_mutex_unlock(&s_mu);
    return s;
}

void event_hub_unsubscribe(struct hub_sub *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s_deliver);
    pthread_mutex_lock(&s_mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        s_subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    pthread_mutex_unlock(&s_mu);
    pthread_mutex_unlock(&s_deliver);
    free(s);
}

/* 1 when job id (a terminal job event of this batch) is among done[0..n). */
static int in_done(const char (*done)[JOB_ID_MAX], size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(done[i], id))
            return 1;
    return 0;
}

/* Wakes the stream subscribers and those of the finished jobs (all of them when all). */
static void deliver(const char (*done)[JOB_ID_MAX], size_t ndone, int all)
{
    pthread_mutex_lock(&s_deliver);
    pthread_mutex_lock(&s_mu);
    size_t n = 0, cap = 0;
    struct wake_call *calls = 0;
    for (struct hub_sub *s = s_subs; s; s = s->next) {
        if (!all && s->job[0] && !in_done(done, ndone, s->job))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            calls = xrealloc(calls, cap * sizeof *calls);
        }
        calls[n++] = (struct wake_call){s->wake, s->ctx};
    }
    pthread_mutex_unlock(&s_mu);
    for (size_t i = 0; i < n; i++)
        calls[i].wake(calls[i].ctx);
    pthread_mutex_unlock(&s_deliver);
    free(calls);
}

/* ---- the reader thread ---- */

/* Appends ev (json taken over) to the ring, evicting the oldest. Under s_mu. */
static void ring_push(struct hub_event *ev)
{
    if (s_n == EVENT_HUB_RING) {
        struct hub_event *old = &s_ring[s_head];
        snprintf(s_covered, sizeof s_covered, "%s", old->id);
        free(old->json);
        s_head = (s_head + 1) % EVENT_HUB_RING;
        s_n--;
    }
    s_ring[(s_head + s_n) % EVENT_HUB_RING] = *ev;
    s_n++;
    snprintf(s_pos, sizeof s_pos, "%s", ev->id);
}

/* The entries of an XREAD answer on one stream, or NULL. */
static const redisReply *xread_entries(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
        r->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    return r->element[0]->element[1];
}

int jobs_events_last(struct redisContext *c, char pos[JOBS_EVENT_ID_MAX])
{
    int rc;
    redisReply *r = store_conn_cmd_on(c, &rc, "XREVRANGE %sevents:log + - COUNT 1", store_prefix());
    if (!r)
        return rc;
    snprintf(pos, JOBS_EVENT_ID_MAX, "0-0");
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2 &&
        r->element[0]->element[0]->type == REDIS_REPLY_STRING)
        snprintf(pos, JOBS_EVENT_ID_MAX, "%s", r->element[0]->element[0]->str);
    freeReplyObject(r);
    return 0;
}

int jobs_events_read(struct redisContext *c, char pos[JOBS_EVENT_ID_MAX], int block_ms,
                     hub_event_fn *fn, void *ud)
{
    int rc;
    redisReply *r = store_conn_cmd_on(c, &rc, "XREAD COUNT %d BLOCK %d STREAMS %sevents:log %s",
                                      READ_COUNT, block_ms, store_prefix(), pos);
    if (!r)
        return rc;
    const redisReply *entries = r->type == REDIS_REPLY_NIL ? NULL : xread_entries(r);
    struct hub_event ev;
    for (size_t i = 0; entries && i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (!entry_event(e, &ev)) {
            fn(&ev, ud);
            free(ev.json);
        }
        if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
            e->element[0]->type == REDIS_REPLY_STRING) /* past a malformed entry too */
            snprintf(pos, JOBS_EVENT_ID_MAX, "%s", e->element[0]->str);
    }
    freeReplyObject(r);
    return 0;
}

/* What one read of the hub gathers, for deliver(): how many events, the jobs that finished. */
struct batch {
    size_t events;
    char (*done)[JOB_ID_MAX];
    size_t n, cap;
};

/* Takes one event of a read into the ring (a copy of its JSON). */
static void take_event(const struct hub_event *e, void *ud)
{
    struct batch *b = ud;
    struct hub_event ev = *e;
    ev.json = xstrdup(e->json);
    b->events++;
    if (!strcmp(ev.type, "job") && job_state_terminal(ev.state)) {
        if (b->n == b->cap) {
            b->cap = b->cap ? 2 * b->cap : READ_COUNT;
            b->done = xrealloc(b->done, b->cap * sizeof *b->done);
        }
        snprintf(b->done[b->n++], JOB_ID_MAX, "%s", ev.eid);
    }
    pthread_mutex_lock(&s_mu);
    ring_push(&ev);
    pthread_mutex_unlock(&s_mu);
}

/* Where a first start begins: the newest logged event ("0-0" for an empty log). */
static int read_start(redisContext *c)
{
    char pos[JOBS_EVENT_ID_MAX];
    int rc = jobs_events_last(c, pos);
    if (rc)
        return rc;
    pthread_mutex_lock(&s_mu);
    snprintf(s_pos, sizeof s_pos, "%s", pos);
    snprintf(s_covered, sizeof s_covered, "%s", pos);
    pthread_mutex_unlock(&s_mu);
    return 0;
}

/* One blocking read into the ring; wakes whom it concerns. 0 (events taken, or none), or
 * store_conn_cmd_on's code (reconnect). */
static int read_once(redisContext *c)
{
    char pos[JOBS_EVENT_ID_MAX];
    pthread_mutex_lock(&s_mu);
    snprintf(pos, sizeof pos, "%s", s_pos);
    pthread_mutex_unlock(&s_mu);
    struct batch b = {0};
    int rc = jobs_events_read(c, pos, READ_BLOCK_MS, take_event, &b);
    pthread_mutex_lock(&s_mu);
    if (event_hub_id_cmp(pos, s_pos) > 0) /* past entries that were not events */
        snprintf(s_pos, sizeof s_pos, "%s", pos);
    pthread_mutex_unlock(&s_mu);
    if (b.events)
        deliver((const char(*)[JOB_ID_MAX])b.done, b.n, 0);
    free(b.done);
    return rc;
}

long long event_hub_watched(void)
{
    return atomic_load(&s_watched);
}

/* Reads the watched counter; wakes every stream when it moved. 0, or an FW_E* code (reconnect). */
static int read_watched(redisContext *c)
{
    if (!s_watch_key[0])
        return 0;
    int rc;
    redisReply *r = store_conn_cmd_on(c, &rc, "GET %s%s", store_prefix(), s_watch_key);
    if (!r)
        return rc;
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return FW_EREDIS;
    }
    long long v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, 0, 10) : 0;
    freeReplyObject(r);
    long long was = atomic_exchange(&s_watched, v);
    if (was != v) /* also the first read: a stream opened before it has not seen any value */
        deliver(0, 0, 0);
    return 0;
}

static redisContext *connect_hub(void)
{
    redisContext *c = store_conn_open(2000);
    if (!c)
        return NULL;
    struct timeval tv = {READ_BLOCK_MS / 1000 + 5, 0};
    redisSetTimeout(c, tv);
    if (!atomic_load(&s_ready)) {
        if (read_start(c)) {
            store_conn_free(c);
            return NULL;
        }
        atomic_store(&s_ready, 1);
    } else {
        log_event(LOG_INFO, "event hub reconnected to redis", LOG_STR("component", "events"));
        deliver(0, 0, 1); /* events may have been missed meanwhile: every subscriber looks again */
    }
    return c;
}

static void *run(void *arg)
{
    (void)arg;
    redisContext *c = NULL;
    while (!atomic_load(&s_stop)) {
        if (!c && !(c = connect_hub())) {
            struct timespec ts = {0, 500 * 1000000L};
            nanosleep(&ts, 0);
            continue;
        }
        if (read_once(c) || read_watched(c)) {
            store_conn_free(c);
            c = NULL;
        }
    }
    store_conn_free(c);
    return 0;
}

int event_hub_start(const char *watch_key)
{
    snprintf(s_watch_key, sizeof s_watch_key, "%s", watch_key ? watch_key : "");
    atomic_store(&s_stop, 0);
    s_started = pthread_create(&s_thread, 0, run, 0) == 0;
    return s_started ? 0 : FW_EINTERNAL;
}

void event_hub_signal_stop(void)
{
    atomic_store(&s_stop, 1);
}

void event_hub_stop(void)
{
    if (!s_started)
        return;
    atomic_store(&s_stop, 1);
    pthread_join(s_thread, 0);
    s_started = 0;
    pthread_mutex_lock(&s_mu);
    for (size_t i = 0; i < s_n; i++)
        free(s_ring[(s_head + i) % EVENT_HUB_RING].json);
    s_head = s_n = 0;
    pthread_mutex_unlock(&s_mu);
    atomic_store(&s_ready, 0);
}
